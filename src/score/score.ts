/*
 * The peer score's arithmetic, pure: no clock, no peers, no I/O. The service
 * (peer-scores.ts) keeps one ScoreState per peer and calls these.
 */
import { ACTION_SCORE, BAN_SCORE_THRESHOLD, DISCONNECT_SCORE_THRESHOLD, GOSSIP_SCORE_WEIGHT, MAX_GOSSIP_BONUS, MAX_GOSSIP_PENALTY, MAX_SCORE, MIN_SCORE } from './constants.js'
import type { PeerAction } from '../session/index.js'

/**
 * A peer's application score as stored: the value at `at`, from which it
 * decays. While a ban by score holds, `at` is the ban's end (in the future):
 * the score does not decay before it.
 */
export interface ScoreState {
  score: number
  /** ms since the epoch */
  at: number
}

/** What a score calls for: nothing, a disconnect (SCORE_TOO_LOW) or a ban */
export type ScoreVerdict = 'ok' | 'disconnect' | 'ban'

export function clampScore (score: number): number {
  return Math.min(MAX_SCORE, Math.max(MIN_SCORE, score))
}

/** `state`'s score at `now`: halved every `halfLifeMs` after `state.at`, unchanged before it */
export function decayedScore (state: ScoreState, now: number, halfLifeMs: number): number {
  const elapsed = now - state.at
  if (elapsed <= 0 || state.score === 0) {
    return state.score
  }
  return state.score * Math.pow(2, -elapsed / halfLifeMs)
}

/**
 * The state after a report of `action` at `now`: the score decayed to `now`,
 * the action's weight (ACTION_SCORE) taken off, kept within [MIN, MAX]. A
 * frozen decay clock (a ban) stays frozen.
 */
export function applyAction (state: ScoreState, action: PeerAction, now: number, halfLifeMs: number): ScoreState {
  return {
    score: clampScore(decayedScore(state, now, halfLifeMs) + ACTION_SCORE[action]),
    at: Math.max(now, state.at)
  }
}

/** The state at `now` with its decay clock frozen until `until` (a ban) */
export function freezeUntil (state: ScoreState, now: number, until: number, halfLifeMs: number): ScoreState {
  return { score: decayedScore(state, now, halfLifeMs), at: Math.max(until, state.at) }
}

/**
 * What gossipsub's own score adds to the peer score (Lodestar combines the
 * two the same way): weighted by GOSSIP_SCORE_WEIGHT, capped at
 * MAX_GOSSIP_PENALTY below and MAX_GOSSIP_BONUS above
 */
export function gossipContribution (gossipScore: number): number {
  if (!Number.isFinite(gossipScore)) {
    return gossipScore > 0 ? MAX_GOSSIP_BONUS : gossipScore < 0 ? MAX_GOSSIP_PENALTY : 0
  }
  return Math.min(MAX_GOSSIP_BONUS, Math.max(MAX_GOSSIP_PENALTY, gossipScore * GOSSIP_SCORE_WEIGHT))
}

/** The peer score: the application's score plus gossipsub's contribution, within [MIN, MAX] */
export function combinedScore (appScore: number, gossipScore: number): number {
  return clampScore(appScore + gossipContribution(gossipScore))
}

/** What a score calls for, by the thresholds (at or below) */
export function scoreVerdict (score: number): ScoreVerdict {
  if (score <= BAN_SCORE_THRESHOLD) {
    return 'ban'
  }
  if (score <= DISCONNECT_SCORE_THRESHOLD) {
    return 'disconnect'
  }
  return 'ok'
}

/**
 * How long a peer whose application score is `state` waits from `now` until
 * its score is above the disconnect threshold (0 when it is already):
 * any frozen time left, then `halfLifeMs × log2(score / threshold)`
 */
export function refusedForMs (state: ScoreState, now: number, halfLifeMs: number): number {
  const frozen = Math.max(0, state.at - now)
  const score = decayedScore(state, now, halfLifeMs)
  if (score > DISCONNECT_SCORE_THRESHOLD) {
    return 0
  }
  return frozen + halfLifeMs * Math.log2(score / DISCONNECT_SCORE_THRESHOLD)
}
