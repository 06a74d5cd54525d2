import type { Rejection } from './rules.js'
import type { ReasonCode } from '../reason/index.js'

/** A gated protocol was used towards or from a peer that has no session */
export class NoSessionError extends Error {
  static override name = 'NoSessionError'
  override name = 'NoSessionError'

  constructor (message = 'peer has no session') {
    super(message)
  }
}

/**
 * What a handshake attempt's signal aborts with when the session manager ends
 * the attempt: a simultaneous handshake with the peer won (DUPLICATE), or the
 * node is stopping (SHUTDOWN)
 */
export class AttemptEndedError extends Error {
  static override name = 'AttemptEndedError'
  override name = 'AttemptEndedError'
  readonly rejection: Rejection

  constructor (rejection: Rejection) {
    super(rejection.message)
    this.rejection = rejection
  }
}

export function isAttemptEnded (err: unknown): err is AttemptEndedError {
  return err instanceof Error && err.name === AttemptEndedError.name && 'rejection' in err
}

/** What a session's `signal` aborts with: the session ended, for `reason` */
export class SessionEndedError extends Error {
  static override name = 'SessionEndedError'
  override name = 'SessionEndedError'
  readonly reason: ReasonCode

  constructor (reason: ReasonCode, message = `session ended: ${reason}`) {
    super(message)
    this.reason = reason
  }
}
