import { ReasonCode } from '../reason/index.js'
import type { Rejection } from '../session/admission.js'
import type { RejectSide } from '../session/index.js'

/**
 * Where in the handshake a failure happened, named after the step the local
 * node was in (see docs/PROTOCOL.md, "State machine")
 */
export enum HandshakeStage {
  /** before any message: limits, bans and duplicates of the connection */
  Admission = 'admission',
  /** responder waiting for the initiator's hello (message 1) */
  AwaitInitiatorHello = 'await-initiator-hello',
  /** initiator waiting for the responder's hello and signature (message 2) */
  AwaitResponderHello = 'await-responder-hello',
  /** responder waiting for the initiator's signature (message 3) */
  AwaitInitiatorSignature = 'await-initiator-signature',
  /** initiator waiting for the responder's accept (message 4) */
  AwaitResponderAccept = 'await-responder-accept',
  /** the application's validation of the remote (its hook), after the remote's signature verified */
  Validation = 'validation',
  /** the last checks before a session is announced */
  Commit = 'commit'
}

/**
 * A handshake ended without a session. `reason` is the reason code sent or
 * received on the wire; `side` says who rejected.
 */
export class HandshakeError extends Error {
  static override name = 'HandshakeError'
  override name = 'HandshakeError'
  readonly reason: ReasonCode
  readonly side: RejectSide
  readonly stage?: HandshakeStage
  /** the application's own code, with APPLICATION_REJECTED */
  readonly appCode?: number

  constructor (reason: ReasonCode, message: string, side: RejectSide = 'local', stage?: HandshakeStage, appCode?: number) {
    super(message)
    this.reason = reason
    this.side = side
    this.stage = stage
    this.appCode = appCode
  }
}

export function isHandshakeError (err: unknown): err is HandshakeError {
  return err instanceof Error && err.name === HandshakeError.name && 'reason' in err
}

/**
 * The error a handshake ends with when the session manager's verdict rejects
 * it. A connection found closed is the remote's doing, and never sent.
 */
export function rejectionError (rejection: Rejection, stage?: HandshakeStage): HandshakeError {
  const side: RejectSide = rejection.reason === ReasonCode.CONNECTION_CLOSED ? 'remote' : 'local'
  return new HandshakeError(rejection.reason, rejection.message, side, stage, rejection.appCode)
}
