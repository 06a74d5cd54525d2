import type { Writer } from 'protons-runtime'

/** 2^53: below it a uint64 is a safe JS number */
const SAFE_LIMIT = 2n ** 53n

/**
 * Writes a uint64 field's value as its minimal varint; the protobuf codecs
 * (src/{handshake,status}/pb/, as npm run generate writes them) call it
 * instead of protons-runtime's `uint64`. That one (protons-runtime 7.1)
 * mangles every value from 2^31 to 2^32 - 1: its LongBits keeps the low 32
 * bits signed, so it reserves five bytes, writes one, and leaves the other
 * four as the buffer held them, a head height of 3 × 10^9 would go out as
 * garbage. A value below 2^53 goes through `uint64Number` (uint8-varint's
 * encoder) instead; a larger one has high bits, where protons' writer is right.
 */
export function writeUint64 (w: Writer, value: bigint): void {
  if (value >= 0n && value < SAFE_LIMIT) {
    w.uint64Number(Number(value))
  } else {
    w.uint64(value)
  }
}
