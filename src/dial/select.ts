import { DISCONNECT_SCORE_THRESHOLD } from '../score/index.js'
import { DEMOTE_BELOW_SCORE } from './constants.js'
import type { Contact, DialCandidates } from '../addressbook/index.js'
import type { PeerId } from '@libp2p/interface'

export interface SelectDialsInput {
  /** the book's columns (`AddressBook.candidates()`), or `dialCandidates(list)` */
  contacts: DialCandidates
  /** ms since the epoch */
  now: number
  /** at most this many contacts are returned */
  maxDials: number
  /** peer id strings of peers not to dial now (a session, a handshake or a dial in flight, ...) */
  busy: ReadonlySet<string>
  /** when the ban of a peer ends, ms since the epoch, by peer id string; a peer missing here is not banned */
  bans: ReadonlyMap<string, number>
  /**
   * peer scores (src/score/) by peer id string, of the peers that have one;
   * a peer missing here scores 0
   */
  scores?: ReadonlyMap<string, number>
}

/**
 * Whom to dial this tick: at most `maxDials` contacts that have an address,
 * whose backoff has expired, that are not banned and not busy, and whose
 * peer score is above the disconnect threshold (a session with one would end
 * at once with SCORE_TOO_LOW), best first.
 *
 * Best first means: contacts whose score is above DEMOTE_BELOW_SCORE before
 * the others, which come last, the highest score first; among the former,
 * contacts that had a session before the ones that never did, the most
 * recent session first; then fewer consecutive failures; then the one
 * waiting longest (earliest `nextAttempt`); then the most recently seen;
 * among equals, the first in column order.
 *
 * One pass over the columns keeping the best few, so a tick over 100,000
 * contacts stays well within a few milliseconds; addresses, peer ids, bans,
 * busyness and scores are looked at only for a contact that would enter the
 * best few (every eligible contact, while the few are not yet found). A
 * demoted contact is set aside, and dialed only when the pass leaves room.
 */
export function selectDials (input: SelectDialsInput): Contact[] {
  const { now, maxDials, contacts } = input
  if (maxDials <= 0) {
    return []
  }
  const scores = input.scores ?? new Map<string, number>()
  /** contacts with a low score, with it: dialed after all others */
  const demoted: Array<{ i: number, score: number }> = []
  const { size, nextAttempt, lastSession, failures, lastSeen } = contacts
  /** negative when entry `a` is better than entry `b` (see above) */
  const compare = (a: number, b: number): number => {
    if (lastSession[a] !== lastSession[b]) {
      return lastSession[b] - lastSession[a]
    }
    if (failures[a] !== failures[b]) {
      return failures[a] - failures[b]
    }
    if (nextAttempt[a] !== nextAttempt[b]) {
      return nextAttempt[a] - nextAttempt[b]
    }
    return lastSeen[b] - lastSeen[a]
  }

  /** entries, best first */
  const best: number[] = []
  /** the last of `best` once it is full, else -1 */
  let worst = -1
  for (let i = 0; i < size; i++) {
    if (nextAttempt[i] > now) {
      continue
    }
    // most entries lose on the first key: decided here without a call, which
    // counts while the loop still runs unoptimised (the first ticks)
    if (worst >= 0 && (lastSession[i] < lastSession[worst] || (lastSession[i] === lastSession[worst] && compare(i, worst) >= 0))) {
      continue
    }
    const contact = contacts.contact(i)
    if (contact.multiaddrs.length === 0) {
      continue
    }
    const id = contact.peerId.toString()
    const banEnds = input.bans.get(id)
    if ((banEnds != null && banEnds > now) || input.busy.has(id)) {
      continue
    }
    const score = scores.get(id) ?? 0
    if (score <= DISCONNECT_SCORE_THRESHOLD) {
      continue
    }
    if (score < DEMOTE_BELOW_SCORE) {
      demoted.push({ i, score })
      continue
    }

    let at = best.length
    while (at > 0 && compare(i, best[at - 1]) < 0) {
      at--
    }
    best.splice(at, 0, i)
    if (best.length > maxDials) {
      best.pop()
    }
    if (best.length === maxDials) {
      worst = best[maxDials - 1]
    }
  }
  if (best.length < maxDials) {
    demoted.sort((a, b) => b.score - a.score || a.i - b.i)
    best.push(...demoted.slice(0, maxDials - best.length).map(entry => entry.i))
  }
  return best.map(i => contacts.contact(i))
}

export interface SessionSlot {
  peerId: PeerId
  direction: 'inbound' | 'outbound'
  /** when the session opened, ms since the epoch */
  since: number
  reserved: boolean
  /** the peer's score (src/score/); 0 when it has none */
  score?: number
}

export interface SelectDropsInput {
  sessions: SessionSlot[]
  maxInbound: number
  maxOutbound: number
}

/**
 * Which sessions to end so that each direction is back within its limit. The
 * least valuable go first: the lowest peer score, then the newest sessions,
 * which have the least history with us. Reserved peers are never dropped and
 * do not count against limits.
 */
export function selectDrops (input: SelectDropsInput): SessionSlot[] {
  const drops: SessionSlot[] = []
  for (const [direction, limit] of [['inbound', input.maxInbound], ['outbound', input.maxOutbound]] as const) {
    const counted = input.sessions
      .filter(s => s.direction === direction && !s.reserved)
      .sort((a, b) => (a.score ?? 0) - (b.score ?? 0) || b.since - a.since)
    const excess = counted.length - limit
    if (excess > 0) {
      drops.push(...counted.slice(0, excess))
    }
  }
  return drops
}
