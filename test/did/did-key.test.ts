import assert from 'node:assert/strict'
import { test } from 'node:test'
import { generateKeyPair, generateKeyPairFromSeed, publicKeyFromRaw } from '@libp2p/crypto/keys'
import { base58btc } from 'multiformats/bases/base58'
import { DidUnresolvableError, KeyDidResolver } from '../../src/index.js'
import { ed25519DidKey, parseEd25519DidKey } from '../../src/did/index.js'
import type { Ed25519PublicKey } from '@libp2p/interface'

test('did:key round-trips an Ed25519 key', async () => {
  const key = await generateKeyPair('Ed25519')
  const did = ed25519DidKey(key.publicKey)
  assert.match(did, /^did:key:z6Mk/)
  assert.ok(parseEd25519DidKey(did).equals(key.publicKey))
})

test('did:key of a fixed seed is the known DID', async () => {
  const key = await generateKeyPairFromSeed('Ed25519', new Uint8Array(32))
  // Ed25519 public key of the all-zero seed is 3b6a27bc…, and its did:key is fixed
  assert.equal(ed25519DidKey(key.publicKey), 'did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp')
})

test('KeyDidResolver refuses what is not an Ed25519 did:key', async () => {
  const secp = await generateKeyPair('secp256k1')
  const cases: string[] = [
    '',
    'did:web:example.com',
    'did:key:',
    'did:key:6Mkabc',
    'did:key:z0OIl',
    'did:key:z' + 'a'.repeat(3000),
    // a real did:key of a secp256k1 key (multicodec 0xe7): a valid DID, but not Ed25519
    `did:key:${base58btc.encode(new Uint8Array([0xe7, 0x01, ...secp.publicKey.raw]))}`,
    // Ed25519 prefix with a short key
    `did:key:${base58btc.encode(new Uint8Array([0xed, 0x01, 1, 2, 3]))}`,
    // a multicodec varint above 2^53 (9f dc e9 cc 98 e1 ad 74): its encodingLength threw a RangeError (found by fuzzing, test/did/did-key.fuzz.ts)
    'did:key:z6MkeyzdL2dZ9FfPjb7VtYFh23VvXb7Vtr6vYwEAZYTwot7WVYXm'
  ]
  const resolver = new KeyDidResolver()
  for (const did of cases) {
    assert.throws(() => resolver.resolve(did), (err: Error) => err.name === DidUnresolvableError.name, JSON.stringify(did.slice(0, 40)))
  }
})

test('a did:key that is not the one did:key of its key is refused: one key never goes by two DIDs, which a DID ban could not tell apart (found by fuzzing, test/did/did-key.fuzz.ts)', async () => {
  const key = await generateKeyPairFromSeed('Ed25519', new Uint8Array(32))
  const did = ed25519DidKey(key.publicKey)
  assert.equal(did, 'did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp')
  // a key whose raw bytes start with 00: its payload ed 01 00 … may also be written with the varint padded, ed 81 00 …
  const zeroFirst = new Uint8Array(32).fill(5)
  zeroFirst[0] = 0
  const padded = `did:key:${base58btc.encode(new Uint8Array([0xed, 0x81, ...zeroFirst]))}`
  const cases: Array<[string, string]> = [
    // multiformats' base58 decoder reads any character above U+00FF as the digit "1"
    ['a character above U+00FF in place of a "1"', did.replace('Bz1y', 'Bz\u0100y')],
    ['U+FFFD in place of a "1"', did.replace('Bz1y', 'Bz\uFFFDy')],
    ['the multicodec varint padded (ed 81 00, for a key that starts with 00)', padded]
  ]
  for (const [name, alias] of cases) {
    assert.notEqual(alias, did)
    assert.throws(() => parseEd25519DidKey(alias), (err: Error) => err.name === DidUnresolvableError.name, name)
  }
  assert.ok(parseEd25519DidKey(did).equals(key.publicKey))
  assert.equal(ed25519DidKey(publicKeyFromRaw(zeroFirst) as Ed25519PublicKey), `did:key:${base58btc.encode(new Uint8Array([0xed, 0x01, ...zeroFirst]))}`)
})
