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

/**
 * Longest human-readable note that goes with a reason on the wire (a Reject's
 * or a Goodbye's detail), in UTF-8 bytes: a sender cuts a longer one and a
 * receiver reads no more, both on a character boundary. A sentence is enough;
 * the reason code is what counts.
 */
export const MAX_DETAIL_BYTES = 256

/** An application's own code travels as a uint32 (`app_code` of a Reject or a Goodbye) */
export const MAX_APP_CODE = 0xFFFF_FFFF

/** `value` can travel as an application code */
export function isAppCode (value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= MAX_APP_CODE
}

/** Outcomes this node records that have no wire code */
export enum LocalReason {
  /** a dial failed before any handshake: unreachable, refused, timed out */
  DIAL_FAILED = 'DIAL_FAILED',
  /** a session ended in a way that says nothing bad about the peer */
  SESSION_ENDED = 'SESSION_ENDED'
}

/** Any outcome of a dial, a handshake or a session: a wire reason code or a local one */
export type Outcome = ReasonCode | LocalReason

/** Every member of ReasonCode (the enum object also carries its protobuf codec) */
export const REASON_CODES: readonly ReasonCode[] = Object.values(ReasonCode).filter((value): value is ReasonCode => typeof value === 'string')

const CODES = new Set<unknown>(REASON_CODES)
const OUTCOMES = new Set<unknown>([...REASON_CODES, ...Object.values(LocalReason)])

/** `value` names a ReasonCode */
export function isReasonCode (value: unknown): value is ReasonCode {
  return CODES.has(value)
}

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
