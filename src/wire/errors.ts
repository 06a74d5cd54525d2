/*
 * The one set of errors of the frame reader and writer (src/wire/frames.ts).
 * Each layer maps them to its own outcome: the handshake to MALFORMED or
 * CONNECTION_CLOSED, the Goodbye reader to InvalidMessageError, the status
 * exchange to InvalidMessageError; the application protocols hand
 * MessageTooLargeError and StreamEndedError to their callers as they are
 * (they are peergate's public API).
 */

/**
 * A frame is over its size limit: refused before sending, or refused on its
 * length prefix when reading (nothing of its body is buffered)
 */
export class MessageTooLargeError extends Error {
  static override name = 'MessageTooLargeError'
  override name = 'MessageTooLargeError'
  /** the length the message has, or its prefix claims (at least), in bytes */
  readonly length: number
  /** the limit it broke, in bytes */
  readonly limit: number

  constructor (length: number, limit: number, message = `message of ${length} bytes is over the limit of ${limit} bytes`) {
    super(message)
    this.length = length
    this.limit = limit
  }
}

/** The stream ended before a whole framed message (or result byte) arrived */
export class StreamEndedError extends Error {
  static override name = 'StreamEndedError'
  override name = 'StreamEndedError'

  constructor (message = 'the stream ended before a whole message arrived') {
    super(message)
  }
}

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
