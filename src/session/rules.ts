/*
 * The session rules as pure functions over plain snapshots: limits, the
 * tie-break between simultaneous handshakes, and duplicates and bans at each
 * step of admission (docs/PROTOCOL.md §8.1 and §8.3). The session manager
 * gathers the facts and acts on the verdict; tests are tables.
 */
import { compare as uint8ArrayCompare } from 'uint8arrays/compare'
import { ReasonCode } from '../reason/index.js'
import type { SessionDirection, SessionLimits } from './index.js'

/** Why a handshake may not go on: the reason code it ends with and a note for the reject */
export interface Rejection {
  reason: ReasonCode
  message: string
  /** the application's own code, with APPLICATION_REJECTED */
  appCode?: number
}

/** Sessions and handshakes that count against the limits (reserved peers never do) */
export interface SlotCounts {
  inbound: number
  outbound: number
  /** outbound handshakes in flight: peers this node selected, which the dial manager budgets */
  initiating: number
}

/**
 * Why one more session of `direction` would exceed its limit, if it would:
 * `TOO_MANY_PEERS`, or `INBOUND_DISABLED` inbound when the inbound limit and
 * burst are both 0 (a DHT-only or outbound-only node never accepts one, not
 * even from a reserved peer). Reserved peers are otherwise outside the
 * limits. Outbound counts this node's own handshakes in flight too; inbound
 * never counts a handshake: a handshake that has proven nothing holds no
 * slot.
 */
export function limitReached (direction: SessionDirection, reserved: boolean, counts: SlotCounts, limits: Pick<SessionLimits, 'maxInbound' | 'maxOutbound' | 'inboundBurst'>): Rejection | undefined {
  if (direction === 'inbound' && limits.maxInbound + limits.inboundBurst === 0) {
    return { reason: ReasonCode.INBOUND_DISABLED, message: limits.maxOutbound === 0 ? 'this node holds no sessions (DHT only)' : 'this node accepts no inbound sessions' }
  }
  if (reserved) {
    return undefined
  }
  if (direction === 'inbound') {
    return counts.inbound >= limits.maxInbound + limits.inboundBurst
      ? { reason: ReasonCode.TOO_MANY_PEERS, message: `inbound session limit ${limits.maxInbound} (+${limits.inboundBurst}) reached` }
      : undefined
  }
  return counts.outbound + counts.initiating >= limits.maxOutbound
    ? { reason: ReasonCode.TOO_MANY_PEERS, message: `outbound session limit ${limits.maxOutbound} reached` }
    : undefined
}

/** Where an inbound handshake comes from, for the limit per source IP */
export interface SourceFacts {
  /**
   * the source the limit counts (an IPv4 address, an IPv6 /64: ip-limit.ts);
   * undefined when the connection has no IP of its own (relayed, in memory)
   */
  group?: string
  /** the source address lies in a range the operator exempted (`ipLimitExempt`) */
  exempt: boolean
  /** inbound sessions from `group` now, reserved peers' not counted */
  sessions: number
}

/**
 * Why one more inbound session from this source would exceed the limit per
 * source IP, if it would: TOO_MANY_FROM_IP. Reserved peers, exempt sources
 * and connections without an IP are outside the limit.
 */
export function sourceLimitReached (reserved: boolean, source: SourceFacts, maxPerIp: number): Rejection | undefined {
  if (reserved || source.exempt || source.group == null) {
    return undefined
  }
  return source.sessions >= maxPerIp
    ? { reason: ReasonCode.TOO_MANY_FROM_IP, message: `too many inbound sessions from ${source.group} (limit ${maxPerIp} per IP address)` }
    : undefined
}

/**
 * Of two handshakes with one peer on two connections, the one whose initiator
 * has the lower peer id (multihash bytes) wins, so both sides compute the
 * same answer; two from the same initiator: the older (`existing`) wins.
 */
export function incomingWins (existingInitiator: Uint8Array, incomingInitiator: Uint8Array): boolean {
  return uint8ArrayCompare(incomingInitiator, existingInitiator) < 0
}

/** What the session manager knows when a handshake asks to begin (before any message) */
export interface BeginFacts {
  peerBanned: boolean
  /** the peer score refuses the peer for now (SCORE_TOO_LOW); never for a reserved peer */
  lowScore?: Rejection
  hasSession: boolean
  /** a simultaneous handshake with the peer is in flight and wins the tie-break */
  losesToExisting: boolean
  /** limitReached() for this handshake */
  full?: Rejection
  /** sourceLimitReached() for an inbound handshake */
  sourceFull?: Rejection
}

/** §8.1: bans, then a score too low, then duplicates, then the session limits, then the limit per source IP; undefined lets the handshake begin */
export function beginVerdict (facts: BeginFacts): Rejection | undefined {
  if (facts.peerBanned) {
    return { reason: ReasonCode.BANNED, message: 'peer id is banned' }
  }
  if (facts.lowScore != null) {
    return facts.lowScore
  }
  if (facts.hasSession) {
    return { reason: ReasonCode.DUPLICATE, message: 'peer already has a session' }
  }
  if (facts.losesToExisting) {
    return { reason: ReasonCode.DUPLICATE, message: 'a simultaneous handshake with this peer wins' }
  }
  return facts.full ?? facts.sourceFull
}

/** What the remote's hello reveals: its DID */
export interface RemoteFacts {
  didBanned: boolean
  /** another peer id holds a session with this DID */
  didInUse: boolean
}

/** §8.2 check 9a: a banned DID, or a DID with a session under another peer id */
export function remoteVerdict (facts: RemoteFacts): Rejection | undefined {
  if (facts.didBanned) {
    return { reason: ReasonCode.BANNED, message: 'DID is banned' }
  }
  if (facts.didInUse) {
    return { reason: ReasonCode.DUPLICATE, message: 'DID already has a session with another peer id' }
  }
  return undefined
}

/** What the session manager knows when a handshake that verified both signatures asks to open its session */
export interface CommitFacts extends RemoteFacts {
  connectionOpen: boolean
  hasSession: boolean
  /** limitReached() again, for inbound handshakes only (they held no slot) */
  full?: Rejection
  /** sourceLimitReached() again, for inbound handshakes only */
  sourceFull?: Rejection
}

/** §8.3: the last checks before the session is announced */
export function commitVerdict (facts: CommitFacts): Rejection | undefined {
  if (!facts.connectionOpen) {
    // its connection:close has passed already; a session now would never end
    return { reason: ReasonCode.CONNECTION_CLOSED, message: 'connection closed before the session opened' }
  }
  const remote = remoteVerdict(facts)
  if (remote != null) {
    return remote
  }
  if (facts.hasSession) {
    return { reason: ReasonCode.DUPLICATE, message: 'peer already has a session' }
  }
  return facts.full ?? facts.sourceFull
}
