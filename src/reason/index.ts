/**
 * @packageDocumentation
 *
 * Why a handshake, a session or a dial ended: the one vocabulary every layer
 * shares. `ReasonCode` is the wire enum (`protobuf/reason.proto`, carried in a
 * handshake Reject, docs/PROTOCOL.md §12) and also names session ends, dial
 * outcomes, backoffs, log lines and metric labels. `LocalReason` adds the
 * outcomes that only this node sees and never sends.
 */

import { ReasonCode } from './pb/reason.js'

export { ReasonCode }

/** Outcomes this node records that have no wire code */
export enum LocalReason {
  /** a dial failed before any handshake: unreachable, refused, timed out */
  DIAL_FAILED = 'DIAL_FAILED',
  /** a session ended in a way that says nothing bad about the peer */
  SESSION_ENDED = 'SESSION_ENDED'
}

/** Any outcome of a dial, a handshake or a session: a wire reason code or a local one */
export type Outcome = ReasonCode | LocalReason

const OUTCOMES = new Set<unknown>([...Object.values(ReasonCode), ...Object.values(LocalReason)].filter(value => typeof value === 'string'))

/** `value` names an Outcome (as stored, e.g. in an address-book record) */
export function isOutcome (value: string): value is Outcome {
  return OUTCOMES.has(value)
}

/**
 * The remote is on another chain (another chain id or genesis): it cannot
 * speak this chain's DHT either, so no connection to it is worth keeping
 */
export function isOtherChain (reason: Outcome): boolean {
  return reason === ReasonCode.WRONG_CHAIN || reason === ReasonCode.WRONG_GENESIS
}
