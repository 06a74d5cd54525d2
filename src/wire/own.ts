import { peerIdFromMultihash } from '@libp2p/peer-id'
import * as Digest from 'multiformats/hashes/digest'
import type { PeerId } from '@libp2p/interface'

/**
 * `bytes` in an ArrayBuffer of their own. What libp2p hands over is mostly a
 * view into something larger: a peer id or an address decoded from a network
 * read (Node reads a socket in 64 KiB buffers and hands out slices of them),
 * a record encoded into one of protons' 64 KiB slabs, every Multiaddr's
 * `bytes`, cut from Node's shared Buffer pool. One small view kept for long
 * keeps its whole buffer alive: in a soak, the address book's addresses and
 * peer ids held a 64 KiB buffer each, growing the process by megabytes per
 * hundred contacts (docs/BENCHMARKS.md, "Soak"). A copy that is already
 * exact is not made again.
 */
export function ownBytes (bytes: Uint8Array): Uint8Array {
  if (ownsItsBuffer(bytes)) {
    return bytes
  }
  // Uint8Array's slice copies (a Buffer's would be another view)
  return Uint8Array.prototype.slice.call(bytes)
}

/**
 * `peer`, made again from bytes of its own when its multihash holds a view
 * into a larger buffer. Both halves of the multihash count: multiformats'
 * `Digest.create` copies the digest into new `bytes` but keeps the digest it
 * was given. So an Ed25519 peer id made from a public key (as Noise makes
 * every connection's remote peer) has exact `bytes` and a `digest` that is
 * a view into the 64 KiB slab protons encoded the key into.
 */
export function ownPeerId (peer: PeerId): PeerId {
  const multihash = peer.toMultihash()
  if (ownsItsBuffer(multihash.bytes) && multihash.digest.buffer === multihash.bytes.buffer) {
    return peer
  }
  // decode makes the digest a view into the same (copied) bytes
  return peerIdFromMultihash(Digest.decode(Uint8Array.prototype.slice.call(multihash.bytes)))
}

function ownsItsBuffer (bytes: Uint8Array): boolean {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
}
