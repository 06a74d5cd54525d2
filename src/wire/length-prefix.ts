import { InvalidLengthPrefixError } from './errors.js'
import type { Uint8ArrayList } from 'uint8arraylist'

/**
 * Longest length prefix of a frame, in bytes: enough for any safe integer
 * (it-length-prefixed's limit too). A minimal prefix of a 4 KiB handshake
 * message takes 2.
 */
export const MAX_LENGTH_PREFIX_BYTES = 8

/** A length prefix read whole */
export interface LengthPrefix {
  /** the body length it announces, in bytes */
  length: number
  /** the bytes the prefix itself takes */
  bytes: number
}

/**
 * Reads the unsigned-varint length prefix at the start of `data`. Only a
 * minimally encoded prefix is accepted, as multiformats' unsigned-varint
 * requires: a padded one (`c5 81 00` for 197, `80 00` for 0) would otherwise
 * leave its padding in the body and shift every frame after it.
 *
 * @returns the prefix, or undefined when `data` ends inside it (more bytes are needed)
 * @throws {InvalidLengthPrefixError} for a prefix that is not minimal or is longer than MAX_LENGTH_PREFIX_BYTES
 */
export function readLengthPrefix (data: Uint8ArrayList): LengthPrefix | undefined {
  let length = 0
  for (let i = 0; i < Math.min(data.byteLength, MAX_LENGTH_PREFIX_BYTES); i++) {
    const byte = data.get(i)
    length += (byte & 0x7f) * 2 ** (7 * i)
    if (byte < 0x80) {
      if (byte === 0 && i > 0) {
        throw new InvalidLengthPrefixError(`length prefix ${Buffer.from(data.subarray(0, i + 1)).toString('hex')} is not minimally encoded`)
      }
      return { length, bytes: i + 1 }
    }
  }
  if (data.byteLength >= MAX_LENGTH_PREFIX_BYTES) {
    throw new InvalidLengthPrefixError(`length prefix is longer than ${MAX_LENGTH_PREFIX_BYTES} bytes`)
  }
  return undefined
}
