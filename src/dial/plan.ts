import { REVERSE_AFTER_MS, REVERSE_INTERVAL_MS, REVERSE_UNLESS_DUE_WITHIN_MS } from './constants.js'
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
  /** peer scores by peer id string, of the peers that have one (a peer missing here scores 0) */
  scores?: ReadonlyMap<string, number>
  /**
   * since when the node has been starved (`TickPlan.starved`) at every tick
   * and its book has not grown (a new contact restarts it), ms since the
   * epoch; undefined when the last tick was not starved
   */
  starvedSince?: number
  /** when this node last turned an inbound session around, ms since the epoch */
  lastReversal?: number
  /**
   * whether this node could dial an inbound session's peer itself (a contact
   * with an address, not banned): the sessions a reversal may pick; asked
   * only of a starved node's inbound peers
   */
  redialable?(peer: PeerId): boolean
}

/** What a dial tick does: the dials start at once, the drops run beside them */
export interface TickPlan<R extends ReservedSlot = ReservedSlot> {
  /** sessions to end with TOO_MANY_PEERS */
  drops: SessionSlot[]
  /** reserved peers to dial (the snapshot's own records) */
  reservedDials: R[]
  /** contacts to dial */
  dials: Contact[]
  /**
   * below the outbound target with no dial in flight and nobody to dial:
   * every contact is busy, backing off or banned
   */
  starved: boolean
  /** an inbound session to end (TOO_MANY_PEERS) and dial back as an outbound one */
  reversal?: SessionSlot
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
 * 4. a reversal, when the node has been starved (below its outbound target,
 *    nothing in flight, nobody to dial) for REVERSE_AFTER_MS with no new
 *    contact coming in, no contact it
 *    could dial is due within REVERSE_UNLESS_DUE_WITHIN_MS, and it has turned
 *    no session around for REVERSE_INTERVAL_MS, and it holds at least twice
 *    its outbound target in sessions (reserved peers aside): its oldest
 *    inbound session with a peer it could dial, which it ends and dials back. Its inbound
 *    peers are then all the peers it knows (a small network, or one node
 *    every other node bootstrapped from), and without a reversal it would
 *    stay below target for good; the peer turned around loses an outbound
 *    session and dials someone it has none with, so the shortfall moves to
 *    where a session can still be made. Never a reserved peer. The peers it
 *    knows are then the peers it holds sessions with: with fewer than twice
 *    its target, a network of nodes with its target has too few peers for
 *    every node to reach it (two nodes can hold one session), so turning
 *    sessions around would only pass the shortfall around for ever.
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
    bans: snapshot.bans,
    scores: snapshot.scores
  })
  const starved = slots > 0 && budget > 0 && dials.length === 0 && snapshot.dialing === 0
  return { drops, reservedDials, dials, starved, reversal: starved ? reversal(snapshot, staying, notContacts) : undefined }
}

/** the inbound session a starved node turns around now, if any (step 4 of planTick) */
function reversal (snapshot: TickSnapshot<ReservedSlot>, staying: SessionSlot[], notContacts: ReadonlySet<string>): SessionSlot | undefined {
  const { now, starvedSince, lastReversal, redialable } = snapshot
  if (starvedSince == null || now - starvedSince < REVERSE_AFTER_MS || (lastReversal != null && now - lastReversal < REVERSE_INTERVAL_MS) ||
    staying.filter(session => !session.reserved).length < 2 * snapshot.limits.maxOutbound || contactDueSoon(snapshot, notContacts)) {
    return undefined
  }
  let oldest: SessionSlot | undefined
  for (const session of staying) {
    if (session.direction === 'inbound' && !session.reserved && redialable?.(session.peerId) === true &&
      (oldest == null || session.since < oldest.since)) {
      oldest = session
    }
  }
  return oldest
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

/**
 * Some contact this node could dial (an address, not banned, not busy, not
 * reserved) is backing off and due within REVERSE_UNLESS_DUE_WITHIN_MS. One
 * pass over the columns, made only by a starved node whose reversal is due.
 */
function contactDueSoon (snapshot: TickSnapshot<ReservedSlot>, notContacts: ReadonlySet<string>): boolean {
  const { now, contacts, bans } = snapshot
  for (let i = 0; i < contacts.size; i++) {
    const due = contacts.nextAttempt[i]
    if (due <= now || due > now + REVERSE_UNLESS_DUE_WITHIN_MS) {
      continue
    }
    const contact = contacts.contact(i)
    const id = contact.peerId.toString()
    const banEnds = bans.get(id)
    if (contact.multiaddrs.length > 0 && !notContacts.has(id) && (banEnds == null || banEnds <= now)) {
      return true
    }
  }
  return false
}
