/*
 * The narrow port through which the handshake service, and nothing else,
 * turns a handshake into a session. It is not part of the `Sessions` face: the
 * session manager registers its port here when it is built, and the handshake
 * service looks it up; the package exports neither, so no caller of the
 * public API can create a session that the protocol did not earn.
 */
import { InvalidParametersError } from '@libp2p/interface'
import type { ChainHead } from '../chain/index.js'
import type { Rejection } from './rules.js'
import type { RejectSide, RemoteHello, RemoteInfo, Session, SessionDirection, Sessions } from './index.js'
import type { AbortOptions, Connection, PeerId } from '@libp2p/interface'

export type { Rejection } from './rules.js'

export type { RemoteInfo } from './index.js'

/** What a status exchange (PROTOCOL.md §15) learnt about a session peer */
export interface RemoteStatus {
  /** the peer's current head; undefined when its Status carried none */
  head?: ChainHead
  extra: Uint8Array
}

/** A handshake in flight, as the session manager tracks it */
export interface Attempt {
  readonly connection: Connection
  readonly peerId: PeerId
  readonly direction: SessionDirection
  /**
   * Aborted when the attempt is superseded (a simultaneous handshake wins) or
   * the node stops, with an AttemptEndedError carrying the rejection
   */
  readonly signal: AbortSignal
}

/** How a handshake that made no session ended, as `session:reject` reports it */
export interface Failure extends Rejection {
  side: RejectSide
  /** the remote's hello, when one was received */
  remote?: RemoteHello
}

/** The port's answer: what was asked for, or why not */
export type Verdict<T> = { admitted: T } | { rejected: Rejection }

export interface Admission {
  /** A handshake starts on `connection` (§8.1): the attempt, or why it may not */
  begin(connection: Connection, direction: SessionDirection): Verdict<Attempt>
  /** The remote's hello named its DID: bans and duplicates it reveals (§8.2 check 9a) */
  checkRemote(attempt: Attempt, did: string): Rejection | undefined
  /** Both signatures verified: the last checks (§8.3), then the session opens */
  open(attempt: Attempt, remote: RemoteInfo): Verdict<Session>
  /** The handshake ended without a session; `attempt` is undefined when it never began */
  fail(attempt: Attempt | undefined, connection: Connection, direction: SessionDirection, failure: Failure): void
  /**
   * The session a simultaneous handshake with `peer` is about to make (this
   * one lost the tie-break, here or at the remote): resolves when it opens,
   * or with undefined when `signal` aborts first
   */
  nextSession(peer: PeerId, options: Required<AbortOptions>): Promise<Session | undefined>
  /**
   * A status exchange told the peer's current head and extra: the live
   * session takes them, and `session:status` fires when they changed.
   * Undefined when `peer` has no session.
   */
  updateStatus(peer: PeerId, status: RemoteStatus): Session | undefined
  /**
   * Whether a session ended on `connection`: it is being hung up (after a
   * Goodbye either side said), so a new handshake needs a new connection
   */
  parting(connection: Connection): boolean
}

const ports = new WeakMap<Sessions, Admission>()

/** Called once by the session manager it belongs to */
export function registerAdmission (sessions: Sessions, admission: Admission): void {
  ports.set(sessions, admission)
}

/** The admission port of a session manager; the handshake service's way in */
export function admissionOf (sessions: Sessions): Admission {
  const admission = ports.get(sessions)
  if (admission == null) {
    throw new InvalidParametersError('the handshake needs peergate\'s session manager registered as the service `sessions`')
  }
  return admission
}
