import { PeerAction } from '../session/index.js'
import type { ProtocolSessions } from './index.js'
import type { PeerId } from '@libp2p/interface'

/**
 * What a peer sent that no honest implementation sends: a frame over the
 * protocol's limit (MessageTooLargeError), a length prefix that is not
 * minimally encoded (InvalidLengthPrefixError), an unknown result byte
 * (InvalidMessageError). A stream that ends early or is reset is not one: a
 * crash or a lost connection does that too.
 */
const VIOLATIONS = new Set(['MessageTooLargeError', 'InvalidLengthPrefixError', 'InvalidMessageError'])

export function isViolation (err: unknown): boolean {
  return VIOLATIONS.has((err as Error | undefined)?.name ?? '')
}

/** What a peer did wrong on an application protocol, as its peer-score report names it */
export type Violation = 'malformed-request' | 'malformed-response' | 'malformed-notification'

/**
 * Reports `peer` to the peer score for a violation of the framing
 * (docs/APPLICATION-PROTOCOLS.md) as LOW_TOLERANCE, `protocol:<violation>`
 * (the protocol id stays out of the reason: it is a metric label): two in a
 * few minutes end its session. Nothing happens with sessions that take no
 * reports (a test's in-memory sessions).
 */
export function reportViolation (sessions: ProtocolSessions, peer: PeerId, violation: Violation): void {
  sessions.reportPeer?.(peer, PeerAction.LOW_TOLERANCE, `protocol:${violation}`)
}
