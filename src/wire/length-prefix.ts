import type { Uint8ArrayList } from 'uint8arraylist'

/**
 * Longest length prefix of a frame, in bytes: it-length-prefixed's limit,
 * enough for any safe integer. A minimal prefix of a 4 KiB handshake
 * message takes 2.
 */
export const MAX_LENGTH_PREFIX_BYTES = 8

/**
 * A frame's length prefix is not a minimally encoded unsigned varint of at
 * most MAX_LENGTH_PREFIX_BYTES bytes
 */
export class InvalidLengthPrefixError extends Error {
  static override name = 'InvalidLengthPrefixError'
  override name = 'InvalidLengthPrefixError'

  constructor (message = 'invalid length prefix') {
    super(message)
  }
}

/**
 * Reads the unsigned-varint length prefix at the start of `data` for
 * it-length-prefixed, and says in `.bytes` how many bytes it took. Its own
 * decoder computes that from the value, not from the bytes it read, so a
 * prefix that is not minimally encoded (`c5 81 00` for 197, `80 00` for 0)
 * leaves its padding in the body and shifts every frame after it. Such a
 * prefix is refused, as multiformats' unsigned-varint requires.
 *
 * @throws {RangeError} when `data` ends inside the prefix: it-length-prefixed then waits for more
 * @throws {InvalidLengthPrefixError} for a prefix that is not minimal or is too long
 */
export const decodeLengthPrefix = Object.assign((data: Uint8ArrayList): number => {
  let value = 0
  for (let i = 0; i < Math.min(data.byteLength, MAX_LENGTH_PREFIX_BYTES); i++) {
    const byte = data.get(i)
    value += (byte & 0x7f) * 2 ** (7 * i)
    if (byte < 0x80) {
      if (byte === 0 && i > 0) {
        throw new InvalidLengthPrefixError(`length prefix ${Buffer.from(data.subarray(0, i + 1)).toString('hex')} is not minimally encoded`)
      }
      decodeLengthPrefix.bytes = i + 1
      return value
    }
  }
  if (data.byteLength >= MAX_LENGTH_PREFIX_BYTES) {
    throw new InvalidLengthPrefixError(`length prefix is longer than ${MAX_LENGTH_PREFIX_BYTES} bytes`)
  }
  throw new RangeError('the length prefix continues in bytes not received yet')
}, { bytes: 0 })
