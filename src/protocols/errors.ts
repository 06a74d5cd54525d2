import type { ResultCode } from './result-code.js'

/**
 * A framed message is over its size limit: refused before sending, or
 * refused on its length prefix when reading (nothing of its body is buffered)
 */
export class MessageTooLargeError extends Error {
  static override name = 'MessageTooLargeError'
  override name = 'MessageTooLargeError'
  /** the length the message has, or its prefix claims, in bytes */
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

/** The responder answered with a result code other than SUCCESS */
export class RemoteResultError extends Error {
  static override name = 'RemoteResultError'
  override name = 'RemoteResultError'
  readonly code: ResultCode
  /** the responder's error message (UTF-8, at most MAX_ERROR_MESSAGE_BYTES) */
  readonly remoteMessage: string

  constructor (code: ResultCode, remoteMessage: string) {
    super(`remote answered ${code}${remoteMessage === '' ? '' : `: ${remoteMessage}`}`)
    this.code = code
    this.remoteMessage = remoteMessage
  }
}

/** This node already has `maxInFlightPerPeer` requests of the protocol in flight to the peer */
export class TooManyRequestsError extends Error {
  static override name = 'TooManyRequestsError'
  override name = 'TooManyRequestsError'

  constructor (message = 'too many requests in flight to this peer') {
    super(message)
  }
}

/** A notification found the peer's queue full (`maxQueuedMessages`); it was not queued */
export class QueueFullError extends Error {
  static override name = 'QueueFullError'
  override name = 'QueueFullError'

  constructor (message = 'the notification queue of this peer is full') {
    super(message)
  }
}
