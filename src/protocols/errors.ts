import type { ResultCode } from './result-code.js'

// the framing errors are the wire's (src/wire/errors.ts), public here as they always were
export { MessageTooLargeError, StreamEndedError } from '../wire/index.js'

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
