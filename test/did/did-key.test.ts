import assert from 'node:assert/strict'
import { test } from 'node:test'
import { generateKeyPair, generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { base58btc } from 'multiformats/bases/base58'
import { DidUnresolvableError, KeyDidResolver } from '../../src/index.js'
import { ed25519DidKey, parseEd25519DidKey } from '../../src/did/index.js'

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
    `did:key:${base58btc.encode(new Uint8Array([0xed, 0x01, 1, 2, 3]))}`
  ]
  const resolver = new KeyDidResolver()
  for (const did of cases) {
    assert.throws(() => resolver.resolve(did), (err: Error) => err.name === DidUnresolvableError.name, JSON.stringify(did.slice(0, 40)))
  }
})
