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
}

/**
 * Whom to dial this tick: at most `maxDials` contacts that have an address,
 * whose backoff has expired, that are not banned and not busy, best first.
 *
 * Best first means: contacts that had a session before the ones that never
 * did, the most recent session first; then fewer consecutive failures; then
 * the one waiting longest (earliest `nextAttempt`); then the most recently
 * seen; among equals, the first in column order.
 *
 * One pass over the columns keeping the best few, so a tick over 100,000
 * contacts stays well within a few milliseconds; addresses, peer ids, bans
 * and busyness are looked at only for a contact that would enter the best
 * few.
 */
export function selectDials (input: SelectDialsInput): Contact[] {
  const { now, maxDials, contacts } = input
  if (maxDials <= 0) {
    return []
  }
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
  return best.map(i => contacts.contact(i))
}

export interface SessionSlot {
  peerId: PeerId
  direction: 'inbound' | 'outbound'
  /** when the session opened, ms since the epoch */
  since: number
  reserved: boolean
}

export interface SelectDropsInput {
  sessions: SessionSlot[]
  maxInbound: number
  maxOutbound: number
}

/**
 * Which sessions to end so that each direction is back within its limit. The
 * least valuable go first: the newest sessions, which have the least history
 * with us. Reserved peers are never dropped and do not count against limits.
 */
export function selectDrops (input: SelectDropsInput): SessionSlot[] {
  const drops: SessionSlot[] = []
  for (const [direction, limit] of [['inbound', input.maxInbound], ['outbound', input.maxOutbound]] as const) {
    const counted = input.sessions
      .filter(s => s.direction === direction && !s.reserved)
      .sort((a, b) => b.since - a.since)
    const excess = counted.length - limit
    if (excess > 0) {
      drops.push(...counted.slice(0, excess))
    }
  }
  return drops
}
