import type { Contact } from '../addressbook/index.js'
import type { PeerId } from '@libp2p/interface'

/** `DialCandidates.lastSession` of a contact that never had a session */
export const NO_SESSION = -1

/**
 * The contacts a dial tick chooses from, as columns: entry `i` of each column
 * belongs to `contact(i)`, for `i` below `size` (a column may be longer). The
 * selection compares numbers in these dense arrays instead of visiting one
 * object per contact scattered over the heap, which keeps a pass over 100,000
 * contacts under a millisecond once optimised; it reads `contact(i)` only for
 * the few contenders.
 *
 * The address book hands out a live view of its own columns
 * (`AddressBook.candidates()`): read it synchronously, and never write to it.
 * `dialCandidates` builds one from a plain array.
 */
export interface DialCandidates {
  readonly size: number
  /** no dial before this time, ms since the epoch */
  readonly nextAttempt: Float64Array
  /** when the last session opened, ms since the epoch; NO_SESSION when never */
  readonly lastSession: Float64Array
  /** consecutive failed dials or handshakes */
  readonly failures: Uint32Array
  /** ms since the epoch */
  readonly lastSeen: Float64Array
  /** the contact of entry `i` */
  contact(i: number): Contact
}

/**
 * Columns of a plain array of contacts, in its order (for tests, and callers
 * without a book). `failures` must be whole numbers below 2^32, as the
 * address book keeps them.
 */
export function dialCandidates (contacts: readonly Contact[]): DialCandidates {
  const size = contacts.length
  const nextAttempt = new Float64Array(size)
  const lastSession = new Float64Array(size)
  const failures = new Uint32Array(size)
  const lastSeen = new Float64Array(size)
  contacts.forEach((contact, i) => {
    nextAttempt[i] = contact.nextAttempt
    lastSession[i] = contact.lastSession ?? NO_SESSION
    failures[i] = contact.failures
    lastSeen[i] = contact.lastSeen
  })
  return { size, nextAttempt, lastSession, failures, lastSeen, contact: (i) => contacts[i] }
}

export interface SelectDialsInput {
  /** the book's columns (`AddressBook.candidates()`), or `dialCandidates(list)` */
  contacts: DialCandidates
  /** ms since the epoch */
  now: number
  /** at most this many contacts are returned */
  maxDials: number
  /** the peer has a session, a handshake in flight, or a dial in flight */
  isBusy(peer: PeerId): boolean
  /** when a ban of the peer ends, if it is banned */
  banExpiry(peer: PeerId): number | undefined
}

/**
 * Orders dial candidates, best first: contacts that had a session before the
 * ones that never did, the most recent session first; then fewer consecutive
 * failures; then the one waiting longest; then the most recently seen.
 */
export function compareDialPriority (a: Contact, b: Contact): number {
  const aSession = a.lastSession ?? NO_SESSION
  const bSession = b.lastSession ?? NO_SESSION
  if (aSession !== bSession) {
    return bSession - aSession
  }
  if (a.failures !== b.failures) {
    return a.failures - b.failures
  }
  if (a.nextAttempt !== b.nextAttempt) {
    return a.nextAttempt - b.nextAttempt
  }
  return b.lastSeen - a.lastSeen
}

/**
 * Whom to dial this tick: at most `maxDials` contacts that have an address,
 * whose backoff has expired, that are not banned and not busy, best first
 * (`compareDialPriority`; among equals, the first in column order). One pass
 * over the columns keeping the best few, so a tick over 100,000 contacts
 * stays well within a few milliseconds; addresses, peer ids, bans and
 * busyness are looked at only for a contact that would enter the best few.
 */
export function selectDials (input: SelectDialsInput): Contact[] {
  const { now, maxDials, contacts } = input
  if (maxDials <= 0) {
    return []
  }
  const { size, nextAttempt, lastSession, failures, lastSeen } = contacts
  /** compareDialPriority of entries `a` and `b` */
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
    const banEnds = input.banExpiry(contact.peerId)
    if ((banEnds != null && banEnds > now) || input.isBusy(contact.peerId)) {
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
