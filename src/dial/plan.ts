import { selectDials, selectDrops, type SessionSlot } from './select.js'
import type { Contact, DialCandidates } from '../addressbook/index.js'
import type { PeerId } from '@libp2p/interface'

/** A reserved peer as a tick sees it */
export interface ReservedSlot {
  peerId: PeerId
  /** no dial before this time, ms since the epoch (reserved peers' own backoff) */
  nextAttempt: number
}

/** Everything a dial tick decides on, as plain data; `R` is the caller's own record of a reserved peer */
export interface TickSnapshot<R extends ReservedSlot = ReservedSlot> {
  /** ms since the epoch */
  now: number
  /** dials this tick may start in all, reserved peers' first */
  budget: number
  limits: { maxInbound: number, maxOutbound: number }
  /** the sessions, each with whether its peer is reserved */
  sessions: SessionSlot[]
  /** dials in flight to peers that are not reserved */
  dialing: number
  reserved: readonly R[]
  /**
   * peer id strings of peers not to dial now: a session, a handshake or a
   * dial in flight, or this node
   */
  busy: ReadonlySet<string>
  /** when the ban of a peer ends, ms since the epoch, by peer id string; a peer missing here is not banned */
  bans: ReadonlyMap<string, number>
  /** the address book's columns (`AddressBook.candidates()`) */
  contacts: DialCandidates
}

/** What a dial tick does: the dials start at once, the drops run beside them */
export interface TickPlan<R extends ReservedSlot = ReservedSlot> {
  /** sessions to end with TOO_MANY_PEERS */
  drops: SessionSlot[]
  /** reserved peers to dial (the snapshot's own records) */
  reservedDials: R[]
  /** contacts to dial */
  dials: Contact[]
}

/**
 * The dial tick's decision:
 *
 * 1. drops: each direction back within its limit, the newest sessions first,
 *    never a reserved peer (`selectDrops`); this sheds the inbound burst
 * 2. reserved peers that are down (not busy) and whose own backoff has
 *    expired, in their order, while the budget lasts; they are outside the
 *    limits
 * 3. the best contacts (`selectDials`) for the outbound slots left free by
 *    the outbound sessions that stay and the dials in flight (reserved peers
 *    aside), within what is left of the budget; never a reserved peer, a busy
 *    one or a banned one
 */
export function planTick<R extends ReservedSlot> (snapshot: TickSnapshot<R>): TickPlan<R> {
  const { now, limits, busy } = snapshot
  const drops = selectDrops({ sessions: snapshot.sessions, maxInbound: limits.maxInbound, maxOutbound: limits.maxOutbound })

  let budget = snapshot.budget
  const reservedDials: R[] = []
  for (const reserved of snapshot.reserved) {
    if (budget <= 0) {
      break
    }
    if (reserved.nextAttempt <= now && !busy.has(reserved.peerId.toString())) {
      reservedDials.push(reserved)
      budget--
    }
  }

  const dropped = new Set(drops)
  const staying = snapshot.sessions.filter(session => !dropped.has(session))
  const slots = limits.maxOutbound - outboundLoad(staying, snapshot.dialing)
  // reserved peers are dialed on their own terms, never as contacts
  const notContacts = new Set(busy)
  for (const reserved of snapshot.reserved) {
    notContacts.add(reserved.peerId.toString())
  }
  const dials = selectDials({
    contacts: snapshot.contacts,
    now,
    maxDials: Math.min(slots, budget),
    busy: notContacts,
    bans: snapshot.bans
  })
  return { drops, reservedDials, dials }
}

/** What counts against the outbound target: outbound sessions and dials in flight, reserved peers aside */
export function outboundLoad (sessions: SessionSlot[], dialing: number): number {
  let load = dialing
  for (const session of sessions) {
    if (session.direction === 'outbound' && !session.reserved) {
      load++
    }
  }
  return load
}
