import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { generateKeyPair, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromMultihash } from '@libp2p/peer-id'
import * as Digest from 'multiformats/hashes/digest'
import type { PeerId } from '@libp2p/interface'

/**
 * The size of the buffers that small things libp2p hands over are often
 * views into: a socket read, one of protons' slabs, a slab of Node's Buffer
 * pool
 */
export const LARGE_BUFFER_BYTES = 64 * 1024

/** `content` as a view into a buffer of LARGE_BUFFER_BYTES of its own, at `offset` */
export function inLargeBuffer (content: Uint8Array, offset = 1000): Uint8Array {
  const buffer = new Uint8Array(LARGE_BUFFER_BYTES)
  buffer.set(content, offset)
  return buffer.subarray(offset, offset + content.byteLength)
}

/**
 * A new Ed25519 peer id as libp2p makes one from a public key:
 * `Digest.create(identity, the key's protobuf)` copies it into exact bytes
 * but keeps as its digest the view it was given, here into a buffer of
 * LARGE_BUFFER_BYTES (in a node, a slab that protons encodes into)
 */
export async function peerIdWithDigestInLargeBuffer (): Promise<PeerId> {
  const key = publicKeyToProtobuf((await generateKeyPair('Ed25519')).publicKey)
  return peerIdFromMultihash(Digest.create(0x00, inLargeBuffer(key)))
}

/** V8's garbage collector, callable without --expose-gc */
export function collectGarbage (): () => void {
  setFlagsFromString('--expose-gc')
  return runInNewContext('gc') as () => void
}

/**
 * The process's ArrayBuffer bytes once garbage is collected: V8 frees the
 * backing stores of collected ArrayBuffers on a background thread, so the
 * figure settles a little after gc() returns (later on a loaded machine); the
 * least of a few rounds of gc() and a turn of the event loop
 */
export async function settledArrayBuffers (gc: () => void, rounds = 10): Promise<number> {
  let least = Infinity
  for (let i = 0; i < rounds; i++) {
    gc()
    await new Promise(resolve => setImmediate(resolve))
    least = Math.min(least, process.memoryUsage().arrayBuffers)
  }
  return least
}
