/**
 * ownBytes and ownPeerId: what is kept for long is copied out of the larger
 * buffer it is a view into, and nothing is copied twice.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generateKeyPair, publicKeyFromProtobuf, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromMultihash, peerIdFromPrivateKey, peerIdFromPublicKey } from '@libp2p/peer-id'
import * as Digest from 'multiformats/hashes/digest'
import { ownBytes, ownPeerId } from '../../src/wire/index.js'
import { inLargeBuffer, LARGE_BUFFER_BYTES, peerIdWithDigestInLargeBuffer } from '../utils/memory.js'
import type { PeerId } from '@libp2p/interface'

/** the sizes of the buffers behind a peer id's multihash bytes and digest */
function buffersOf (peer: PeerId): [number, number] {
  const multihash = peer.toMultihash()
  return [multihash.bytes.buffer.byteLength, multihash.digest.buffer.byteLength]
}

describe('ownBytes', () => {
  const exact = new Uint8Array([1, 2, 3])
  const cases: Array<[string, Uint8Array, boolean]> = [
    ['exact bytes: kept as they are', exact, true],
    ['a view into a 64 KiB read: copied', inLargeBuffer(exact), false],
    ['a view at offset 0 of a larger buffer: copied', new Uint8Array(LARGE_BUFFER_BYTES).subarray(0, 3), false],
    ['a Buffer cut from Node\'s pool: copied (a Buffer\'s slice would be another view)', Buffer.from('abc'), false],
    ['empty bytes of their own: kept', new Uint8Array(0), true]
  ]
  for (const [name, bytes, same] of cases) {
    it(name, () => {
      const owned = ownBytes(bytes)
      assert.equal(owned === bytes, same)
      assert.deepEqual([...owned], [...bytes])
      assert.equal(owned.byteOffset, 0)
      assert.equal(owned.buffer.byteLength, owned.byteLength)
    })
  }
})

describe('ownPeerId', () => {
  it('a peer id made from a public key: exact multihash bytes, a digest that is a view into a slab, both made its own', async () => {
    // libp2p makes an Ed25519 peer id with Digest.create(identity, key's protobuf):
    // create copies the digest into new bytes but keeps the digest it was given
    const peer = await peerIdWithDigestInLargeBuffer()
    const multihashBytes = peer.toMultihash().bytes.byteLength
    assert.deepEqual(buffersOf(peer), [multihashBytes, LARGE_BUFFER_BYTES])
    const owned = ownPeerId(peer)
    assert.ok(owned.equals(peer))
    assert.equal(owned.toString(), peer.toString())
    assert.deepEqual(buffersOf(owned), [multihashBytes, multihashBytes])
  })

  it('a peer id as Noise makes one, from a public key read off the wire: made its own', async () => {
    const key = (await generateKeyPair('Ed25519')).publicKey
    // protons encodes the key (for the digest) into a slab it shares out
    const peer = peerIdFromPublicKey(publicKeyFromProtobuf(inLargeBuffer(publicKeyToProtobuf(key))))
    const owned = ownPeerId(peer)
    assert.ok(owned.equals(peer))
    assert.deepEqual(buffersOf(owned).map(size => size < 100), [true, true], `owned: ${buffersOf(owned).join(', ')}`)
  })

  it('a peer id decoded from a multihash inside a read: made its own', async () => {
    const bytes = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toMultihash().bytes
    const peer = peerIdFromMultihash(Digest.decode(inLargeBuffer(bytes)))
    assert.deepEqual(buffersOf(peer), [LARGE_BUFFER_BYTES, LARGE_BUFFER_BYTES])
    const owned = ownPeerId(peer)
    assert.ok(owned.equals(peer))
    assert.deepEqual(buffersOf(owned), [bytes.byteLength, bytes.byteLength])
  })

  it('a peer id whose multihash is its own already: the same object back', async () => {
    const bytes = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toMultihash().bytes
    const peer = peerIdFromMultihash(Digest.decode(Uint8Array.prototype.slice.call(bytes)))
    assert.equal(ownPeerId(peer), peer)
    const owned = ownPeerId(peerIdFromMultihash(Digest.decode(inLargeBuffer(bytes))))
    assert.equal(ownPeerId(owned), owned, 'copied once, never again')
  })
})
