/*
 * The fuzz properties of the did:key parser (src/did/did-key.ts), which
 * reads the DID every hello carries: any DID gives an Ed25519 key or
 * DidUnresolvableError, and a DID that resolves is the one did:key of its
 * key (so that one key never goes by two DIDs: a ban names a DID). Run by
 * did-key.fuzz.test.ts.
 */
import assert from 'node:assert/strict'
import { publicKeyFromRaw } from '@libp2p/crypto/keys'
import { base58btc } from 'multiformats/bases/base58'
import { DID_KEY_PREFIX } from '../../src/did/constants.js'
import { ed25519DidKey, parseEd25519DidKey } from '../../src/did/did-key.js'
import { DidUnresolvableError } from '../../src/did/errors.js'
import { decoderInput, fc, onlyThrows, pool, property } from '../utils/fuzz.js'
import type { Ed25519PublicKey } from '@libp2p/interface'

/** Ed25519 public keys: any 32 bytes are one to libp2p */
const keys = fc.uint8Array({ minLength: 32, maxLength: 32 }).map(raw => publicKeyFromRaw(raw) as Ed25519PublicKey)

/** The multibase payload of valid did:keys (varint 0xed, then the key), to edit before encoding */
const payloads = pool('did:key payloads', keys.map(key => base58btc.decode(ed25519DidKey(key).slice(DID_KEY_PREFIX.length))))

/** did:key DIDs as text, to edit as UTF-8 bytes */
const texts = pool('did:key texts', keys.map(key => new TextEncoder().encode(ed25519DidKey(key))))

/** DIDs: a valid did:key's payload edited then encoded, or its text edited */
const dids = fc.oneof(
  decoderInput(payloads).map(payload => `${DID_KEY_PREFIX}${base58btc.encode(payload)}`),
  decoderInput(texts).map(bytes => new TextDecoder().decode(bytes))
)

/** Any DID: an Ed25519 key whose one did:key it is, or DidUnresolvableError */
export const didKey = property(import.meta.url, 'parseEd25519DidKey', dids, did => {
  const key = onlyThrows([DidUnresolvableError.name], () => parseEd25519DidKey(did))
  if (!(key instanceof Error)) {
    assert.equal(key.type, 'Ed25519')
    assert.equal(ed25519DidKey(key), did, 'the DID resolves to a key whose did:key is another DID')
  }
})

/** Every key's did:key resolves to it */
export const roundTrip = property(import.meta.url, 'did:key round trip', keys, key => {
  assert.ok(parseEd25519DidKey(ed25519DidKey(key)).equals(key))
}, { share: 0.05 })
