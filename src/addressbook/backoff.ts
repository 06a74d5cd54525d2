/*
 * The address book's backoff policy, pure: no clock and no randomness of its
 * own, so that callers inject both and tests are tables.
 */
import { InvalidParametersError } from '@libp2p/interface'
import { LocalReason, ReasonCode } from '../reason/index.js'
import {
  CLEAN_CLOSE_MAX_MS,
  CLEAN_CLOSE_MIN_MS,
  DEFAULT_INITIAL_BACKOFF_MS,
  DEFAULT_JITTER,
  DEFAULT_MAX_BACKOFF_MS,
  LONG_BACKOFF_MS,
  MAX_BACKOFF_DOUBLINGS,
  MAX_FAILURE_COUNT
} from './constants.js'
import type { BackoffInit, Contact } from './index.js'
import type { Outcome } from '../reason/index.js'
import type { RejectSide } from '../session/index.js'

/** BackoffInit with every default filled in and every value checked */
export interface ResolvedBackoff {
  initialMs: number
  maxMs: number
  jitter: number
  cleanCloseMinMs: number
  cleanCloseMaxMs: number
  longMs: number
}

/**
 * Fills in the defaults of a BackoffInit and validates it
 *
 * @throws {InvalidParametersError} when a duration is negative, not finite or NaN, when
 * jitter is outside [0, 1], or when a minimum exceeds its maximum
 */
export function resolveBackoff (init: BackoffInit = {}): ResolvedBackoff {
  const backoff: ResolvedBackoff = {
    initialMs: init.initialMs ?? DEFAULT_INITIAL_BACKOFF_MS,
    maxMs: init.maxMs ?? DEFAULT_MAX_BACKOFF_MS,
    jitter: init.jitter ?? DEFAULT_JITTER,
    cleanCloseMinMs: init.cleanCloseMinMs ?? CLEAN_CLOSE_MIN_MS,
    cleanCloseMaxMs: init.cleanCloseMaxMs ?? CLEAN_CLOSE_MAX_MS,
    longMs: init.longMs ?? LONG_BACKOFF_MS
  }

  for (const name of ['initialMs', 'maxMs', 'cleanCloseMinMs', 'cleanCloseMaxMs', 'longMs'] as const) {
    const value = backoff[name]
    if (!Number.isFinite(value) || value < 0) {
      throw new InvalidParametersError(`backoff.${name} must be a finite number of milliseconds ≥ 0, got ${value}`)
    }
  }
  if (!(backoff.jitter >= 0 && backoff.jitter <= 1)) {
    throw new InvalidParametersError(`backoff.jitter must be a fraction in [0, 1], got ${backoff.jitter}`)
  }
  if (backoff.initialMs > backoff.maxMs) {
    throw new InvalidParametersError(`backoff.initialMs (${backoff.initialMs}) must not exceed backoff.maxMs (${backoff.maxMs})`)
  }
  if (backoff.cleanCloseMinMs > backoff.cleanCloseMaxMs) {
    throw new InvalidParametersError(`backoff.cleanCloseMinMs (${backoff.cleanCloseMinMs}) must not exceed backoff.cleanCloseMaxMs (${backoff.cleanCloseMaxMs})`)
  }
  return backoff
}

/**
 * The wait after the `failures`-th consecutive failure: initialMs doubled per
 * failure after the first, capped at maxMs, then shortened by up to `jitter`
 * of itself, i.e. drawn from [wait × (1 - jitter), wait]. Finite for any
 * failure count; 0 when there is no failure (failures < 1).
 *
 * @param random - uniform in [0, 1); 0 gives the full wait
 */
export function failureBackoffMs (failures: number, backoff: ResolvedBackoff, random: number): number {
  if (!(failures >= 1)) {
    return 0
  }
  const doublings = Math.min(Math.floor(failures) - 1, MAX_BACKOFF_DOUBLINGS)
  const wait = Math.min(backoff.initialMs * 2 ** doublings, backoff.maxMs)
  return wait * (1 - backoff.jitter * clampUnit(random))
}

/**
 * The wait after a session that ended cleanly, uniform in
 * [cleanCloseMinMs, cleanCloseMaxMs]
 *
 * @param random - uniform in [0, 1)
 */
export function cleanCloseBackoffMs (backoff: ResolvedBackoff, random: number): number {
  return backoff.cleanCloseMinMs + clampUnit(random) * (backoff.cleanCloseMaxMs - backoff.cleanCloseMinMs)
}

/** A random draw kept in [0, 1], so that a bad generator cannot push a wait out of its range */
function clampUnit (random: number): number {
  if (!(random > 0)) {
    return 0
  }
  return Math.min(random, 1)
}

/** A contact's backoff: the fields an outcome changes */
export type BackoffState = Pick<Contact, 'failures' | 'nextAttempt' | 'backoffReason'>

/**
 * Outcomes that will not change within minutes: the peer is on another chain,
 * presented another DID than its record holds, banned this node, its
 * application refused it (a fork, say), or it accepts no inbound session at
 * all (a DHT-only node)
 */
const LONG_BACKOFF_OUTCOMES = new Set<Outcome>([
  ReasonCode.WRONG_CHAIN,
  ReasonCode.WRONG_GENESIS,
  ReasonCode.UNEXPECTED_DID,
  ReasonCode.BANNED,
  ReasonCode.APPLICATION_REJECTED,
  ReasonCode.INBOUND_DISABLED
])

/**
 * The backoff policy: a contact's backoff once `reason` ended a dial, a
 * handshake or a session with it, at `now`; undefined when nothing changes.
 *
 * - `DUPLICATE`: nothing changes (a session with the peer exists, or is being
 *   made on another connection)
 * - `SESSION_ENDED`, a clean end: a random wait in [cleanCloseMinMs,
 *   cleanCloseMaxMs], failures unchanged
 * - `WRONG_CHAIN`, `WRONG_GENESIS`, `UNEXPECTED_DID`, `BANNED`, `APPLICATION_REJECTED`,
 *   `INBOUND_DISABLED`: one more failure and a wait of longMs
 * - anything else: one more failure and `failureBackoffMs` of the new count
 *   (doubling, with jitter)
 *
 * A session that opened is not an outcome here: `AddressBook.recordSession`
 * clears the backoff. Waits are rounded up to whole milliseconds.
 *
 * @param random - uniform in [0, 1), drawn for this outcome
 */
export function backoff (reason: Outcome, contact: BackoffState, config: ResolvedBackoff, random: number, now: number): BackoffState | undefined {
  if (reason === ReasonCode.DUPLICATE) {
    return undefined
  }
  if (reason === LocalReason.SESSION_ENDED) {
    return {
      failures: contact.failures,
      nextAttempt: now + Math.ceil(cleanCloseBackoffMs(config, random)),
      backoffReason: reason
    }
  }
  const failures = Math.min(contact.failures + 1, MAX_FAILURE_COUNT)
  const waitMs = LONG_BACKOFF_OUTCOMES.has(reason) ? config.longMs : failureBackoffMs(failures, config, random)
  return { failures, nextAttempt: now + Math.ceil(waitMs), backoffReason: reason }
}

/**
 * A contact this node banned: no dial before the ban ends, whatever backoff
 * it had (a longer one is kept), failures unchanged; undefined when nothing
 * changes
 */
export function banBackoff (contact: BackoffState, until: number): BackoffState | undefined {
  if (contact.nextAttempt >= until) {
    return undefined
  }
  return { failures: contact.failures, nextAttempt: Math.ceil(until), backoffReason: ReasonCode.BANNED }
}

/**
 * Session ends that say nothing bad about the peer: the connection closed,
 * one side hung up, or a full node shed the session
 */
const CLEAN_SESSION_ENDS = new Set<ReasonCode>([
  ReasonCode.CONNECTION_CLOSED,
  ReasonCode.DISCONNECT_REQUESTED,
  ReasonCode.TOO_MANY_PEERS
])

/**
 * What the end of a session records in the book.
 *
 * A clean end (the connection closed, one side hung up on request, a full
 * node shed the session) is `SESSION_ENDED`, a short random wait, whoever
 * ended it.
 *
 * Ended by this node (`local`): nothing for `SHUTDOWN` (this node going
 * away) nor for `BANNED` (the ban itself keeps the peer away, and the dialer
 * skips banned peers); any other reason is held against the contact as
 * `backoff` says (`APPLICATION_REJECTED`: the long wait; `KEY_REVOKED`,
 * `DID_UNRESOLVABLE`, `TIMEOUT` from revalidation or status: a failure).
 *
 * Ended by the remote (`remote`: its Goodbye): its `SHUTDOWN` is a clean end;
 * any other reason is what the peer holds against this node, so the contact
 * backs off by it (`BANNED`, `APPLICATION_REJECTED`: the long wait).
 */
export function sessionEndOutcome (reason: ReasonCode, side: RejectSide): Outcome | undefined {
  if (CLEAN_SESSION_ENDS.has(reason)) {
    return LocalReason.SESSION_ENDED
  }
  if (reason === ReasonCode.SHUTDOWN) {
    return side === 'remote' ? LocalReason.SESSION_ENDED : undefined
  }
  if (side === 'local' && reason === ReasonCode.BANNED) {
    return undefined
  }
  return reason
}
