import type { Contact } from '../addressbook/index.js'
import type { PeerId } from '@libp2p/interface'

export interface SelectDialsInput {
  /** the book (or any list) to scan */
  contacts: { forEach(fn: (contact: Contact) => void): void }
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
  const aSession = a.lastSession ?? -1
  const bSession = b.lastSession ?? -1
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
 * whose backoff has expired, that are not banned and not busy, best first.
 * One pass over the book keeping the best few, so a tick over 100,000
 * contacts stays within milliseconds.
 */
export function selectDials (input: SelectDialsInput): Contact[] {
  const { now, maxDials } = input
  const best: Contact[] = []
  if (maxDials <= 0) {
    return best
  }

  input.contacts.forEach(contact => {
    if (contact.nextAttempt > now) {
      return
    }
    if (best.length === maxDials && compareDialPriority(contact, best[best.length - 1]) >= 0) {
      return
    }
    // the address list is a separate object: looked at only for contenders
    if (contact.multiaddrs.length === 0) {
      return
    }
    const banEnds = input.banExpiry(contact.peerId)
    if ((banEnds != null && banEnds > now) || input.isBusy(contact.peerId)) {
      return
    }

    let i = best.length
    while (i > 0 && compareDialPriority(contact, best[i - 1]) < 0) {
      i--
    }
    best.splice(i, 0, contact)
    if (best.length > maxDials) {
      best.pop()
    }
  })
  return best
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
