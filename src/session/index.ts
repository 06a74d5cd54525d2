/**
 * @packageDocumentation
 *
 * The session manager: the single source of truth for "is this peer a
 * session?", and the gate in front of every application protocol.
 *
 * @example
 *
 * ```TypeScript
 * import { createLibp2p } from 'libp2p'
 * import { sessions, handshake } from 'peergate'
 *
 * const node = await createLibp2p({
 *   // ...transports, encrypters, muxers, identify
 *   services: {
 *     sessions: sessions({ maxInboundSessions: 20 }),
 *     handshake: handshake({ chain, signer })
 *   }
 * })
 *
 * await node.services.sessions.handle('/my-chain/blocks/1.0.0', (stream) => { ... })
 * ```
 */

import { gateComponents } from './gated.js'
import { SessionManager } from './session-manager.js'
import type { ChainHead } from '../chain/index.js'
import type { ReasonCode } from '../reason/index.js'
import type { AbortOptions, ComponentLogger, Connection, Libp2pEvents, NewStreamOptions, PeerId, PeerStore, Stream, StreamHandler, StreamHandlerOptions, TypedEventTarget } from '@libp2p/interface'
import type { ConnectionManager, Registrar } from '@libp2p/interface-internal'
import type { Datastore } from 'interface-datastore'

/** `outbound`: this node initiated the handshake (it selected the peer); `inbound`: the remote did */
export type SessionDirection = 'inbound' | 'outbound'

/** Which side of a handshake decided to reject it */
export type RejectSide = 'local' | 'remote'

/** What a handshake learnt about the remote: everything a session records of its hello */
export interface RemoteInfo {
  /** the node DID the peer proved control of */
  did: string
  /** the peer's chain software version */
  chainVersion: string
  /** the peer's head, as its hello gave it */
  head?: ChainHead
  /** chain-specific data from the peer's hello */
  extra: Uint8Array
}

/** What a remote's hello said, as a failed handshake reports it (nothing in it was necessarily proven) */
export interface RemoteHello {
  did: string
  chainId: string
  chainVersion: string
  head?: ChainHead
}

/**
 * An authenticated peer of the same chain
 */
export interface Session {
  peerId: PeerId
  /** the node DID the peer proved control of */
  did: string
  direction: SessionDirection
  /** the connection the handshake ran on; gated streams towards the peer use it */
  connection: Connection
  /** the peer's chain software version */
  chainVersion: string
  /**
   * the peer's head, as of its last hello or status (`session:status`
   * announces each change); undefined when it gave none
   */
  head?: ChainHead
  /** chain-specific data, as of the peer's last hello or status */
  extra: Uint8Array
  /** when the session opened, ms since the epoch */
  since: number
  /** aborts when the session ends (with a SessionEndedError carrying the reason) */
  signal: AbortSignal
  /** the application's own state for this peer; lives as long as the session */
  state: Map<string, unknown>
}

/**
 * A gated protocol handler: libp2p's `(stream, connection)` plus the session
 * of the peer that opened the stream
 */
export interface SessionStreamHandler {
  (stream: Stream, connection: Connection, session: Session): void | Promise<void>
}

export interface SessionCloseDetail {
  session: Session
  /** why it ended: this node's reason, or the one the remote's Goodbye gave */
  reason: ReasonCode
  /** who ended it: this node (`local`), or the remote (its Goodbye, or a closed connection) */
  side: RejectSide
  /** the application's own code, with APPLICATION_REJECTED */
  appCode?: number
  /** the note that came with the reason, if any */
  message?: string
}

export interface DisconnectOptions extends AbortOptions {
  /** the application's own code, sent in the Goodbye (with APPLICATION_REJECTED, typically) */
  appCode?: number
  /** a short note sent in the Goodbye (cut to 256 bytes) */
  detail?: string
}

/** A status exchange changed a session's `head` or `extra` (the session already holds the new values) */
export interface SessionStatusDetail {
  session: Session
  /** the head the session held before */
  previousHead?: ChainHead
}

export interface SessionRejectDetail {
  peerId: PeerId
  connectionId: string
  direction: SessionDirection
  reason: ReasonCode
  /** who rejected: this node (`local`) or the remote peer */
  side: RejectSide
  message: string
  /** the application's own code, with APPLICATION_REJECTED */
  appCode?: number
  /** the remote's hello, when one was received before the handshake failed: its DID, chain, version, head */
  remote?: RemoteHello
}

/** A handshake in flight on one connection: `handshake:start` announces it, `Sessions.handshakes()` lists them */
export interface HandshakeInFlight {
  peerId: PeerId
  connectionId: string
  direction: SessionDirection
}

export interface SessionEvents {
  /** a handshake started on a connection: the peer is handshaking */
  'handshake:start': CustomEvent<HandshakeInFlight>
  'session:open': CustomEvent<Session>
  'session:close': CustomEvent<SessionCloseDetail>
  'session:reject': CustomEvent<SessionRejectDetail>
  /** a status exchange changed a session peer's head or extra */
  'session:status': CustomEvent<SessionStatusDetail>
  /** the gate refused a stream: a peer without a session opened one, or this node tried to */
  'stream:refuse': CustomEvent<StreamRefuseDetail>
  /** a peer id or DID was banned, or a ban was extended to it (a DID's ban to a peer id presenting it, and back) */
  'ban:add': CustomEvent<BanAddDetail>
  /** bans were lifted by `unban` (bans that expire are not announced) */
  'ban:remove': CustomEvent<BanRemoveDetail>
  /** a protocol or the application reported a peer's misbehaviour (`reportPeer`) */
  'peer:report': CustomEvent<PeerReportDetail>
}

export interface BanAddDetail {
  /** a peer id or a DID */
  target: string
  /** when the ban ends, ms since the epoch */
  until: number
}

export interface BanRemoveDetail {
  /** the peer ids and DIDs no longer banned */
  targets: string[]
}

/**
 * How bad a peer's misbehaviour was, for its score (Lodestar's PeerAction):
 * one `FATAL` ends the session and bans; the others take off less, and the
 * score decays back towards 0 with time
 */
export enum PeerAction {
  /** a misbehaviour no honest peer commits: disconnect and ban at once */
  FATAL = 'FATAL',
  /** an honest peer does this rarely: a few disconnect it */
  LOW_TOLERANCE = 'LOW_TOLERANCE',
  /** an honest peer may do this now and then: a dozen or so disconnect it */
  MID_TOLERANCE = 'MID_TOLERANCE',
  /** an honest peer does this under load: only many of them add up */
  HIGH_TOLERANCE = 'HIGH_TOLERANCE'
}

/** A report about a session peer's behaviour: what `reportPeer` announces for the peer score to count */
export interface PeerReportDetail {
  peerId: PeerId
  action: PeerAction
  /** what the peer did, short and stable (a metric label and a log word), e.g. `rate-limit:/chain/blocks/1` */
  reason: string
}

export interface StreamRefuseDetail {
  peerId: PeerId
  protocol: string
  /** `inbound`: the peer opened it; `outbound`: this node tried to open it */
  direction: SessionDirection
}

export interface SessionLimits {
  maxInbound: number
  maxOutbound: number
  inboundBurst: number
  /** inbound sessions from one source IP address (an IPv6 source by its /64) */
  maxInboundPerIp: number
  /** the address ranges outside the limit per IP, as configured */
  ipLimitExempt: string[]
}

export interface SessionManagerInit {
  /**
   * Sessions the remote peers initiated (their handshakes in flight hold no
   * slot; the handshake service bounds those)
   *
   * @default 34
   */
  maxInboundSessions?: number

  /**
   * Sessions this node initiated, plus its handshakes in flight
   *
   * @default 16
   */
  maxOutboundSessions?: number

  /**
   * Inbound sessions admitted beyond `maxInboundSessions` before new ones are
   * refused with TOO_MANY_PEERS; the dial manager sheds the excess on its next
   * tick, so a burst of newcomers replaces the least valuable sessions instead
   * of bouncing off a full node
   *
   * @default 10 % of maxInboundSessions, rounded up (4)
   */
  inboundBurst?: number

  /**
   * Inbound sessions from one source IP address, an IPv6 source counted by
   * its /64 (docs/PROTOCOL.md §8.1 check 6); one more is refused with
   * TOO_MANY_FROM_IP. Reserved peers are outside the limit and not counted;
   * so are sources in `ipLimitExempt`, and connections without an IP of
   * their own (relayed, in memory).
   *
   * @default 4
   */
  maxInboundSessionsPerIp?: number

  /**
   * Source address ranges outside `maxInboundSessionsPerIp`: CIDR blocks
   * (`127.0.0.0/8`, `fd00::/8`) or single addresses, such as the loopback
   * of a testnet that runs many nodes on one host, or an operator's own
   * sentry nodes behind one gateway
   *
   * @default []
   */
  ipLimitExempt?: string[]

  /** Clock, ms since the epoch; injectable for tests */
  now?(): number
}

/**
 * What the session manager asks of a peer score at admission: the `score`
 * service, when the node runs one (peergate's `peerScore()` does)
 */
export interface AdmissionScore {
  /**
   * Why `peer` may not begin a session now (its score is at or below the
   * disconnect threshold: SCORE_TOO_LOW), or undefined
   */
  admissionRefusal(peer: PeerId): { reason: ReasonCode, message: string } | undefined
}

export interface SessionManagerComponents {
  peerId: PeerId
  /** bans are kept here (optional: without it they last until the node stops) */
  datastore?: Datastore
  /**
   * the peer score, looked up by this name when a handshake begins (it is
   * made after the session manager); without one no peer is refused for its
   * score
   */
  score?: AdmissionScore
  registrar: Registrar
  peerStore: PeerStore
  events: TypedEventTarget<Libp2pEvents>
  logger: ComponentLogger
}

/**
 * The public face of the session manager service: the registry of sessions,
 * the gate in front of application protocols, and bans. Sessions are made, and
 * their status updated, by the handshake service alone, through a port that is
 * not part of this face.
 */
export interface Sessions extends TypedEventTarget<SessionEvents> {
  get(peer: PeerId): Session | undefined
  list(): Session[]
  count(direction?: SessionDirection): number
  isHandshaking(peer: PeerId): boolean
  limits(): SessionLimits
  /** reserved peers are outside the session limits and the limit per IP */
  setReserved(peers: PeerId[]): void
  isReserved(peer: PeerId): boolean
  /** the handshakes in flight, one per connection */
  handshakes(): HandshakeInFlight[]
  /**
   * The session with `peer`, waiting while a handshake with it is in flight;
   * undefined when there is none and none is under way
   */
  waitForSession(peer: PeerId, options?: AbortOptions): Promise<Session | undefined>
  /** a session or a handshake in flight uses this connection */
  connectionInUse(connection: Connection): boolean

  /** registers a gated protocol handler: it only ever sees streams from session peers */
  handle(protocol: string, handler: SessionStreamHandler, options?: StreamHandlerOptions): Promise<void>
  unhandle(protocol: string, options?: AbortOptions): Promise<void>
  isGated(protocol: string): boolean
  /** opens a gated stream over the session with `peer`; waits for a handshake in flight */
  openStream(peer: PeerId, protocol: string | string[], options?: NewStreamOptions): Promise<Stream>

  /**
   * Ends the session with `peer` (`session:close` with `reason`), tells the
   * peer why in a Goodbye, and hangs up its connection
   */
  disconnect(peer: PeerId, reason?: ReasonCode, options?: DisconnectOptions): Promise<void>
  /**
   * Bans a peer id or a DID (default a day, kept in the datastore). A DID's
   * ban covers the peer id of its session and every peer id that presents the
   * DID later; a peer id's ban covers the DID of its session. An open session
   * ends with BANNED.
   */
  ban(target: PeerId | string, durationMs?: number): Promise<void>
  /**
   * Reports a peer's misbehaviour (a broken rate limit, an invalid message,
   * the application's own judgement) as a `peer:report` event, which the peer
   * score counts. Reports about a peer without a session are announced too.
   */
  reportPeer(peer: PeerId, action: PeerAction, reason: string): void
  /** Lifts the ban of a peer id or DID and the bans it covered */
  unban(target: PeerId | string): Promise<void>
  banExpiry(target: PeerId | string): number | undefined
  /** Every ban in force: peer id or DID → when it ends, ms since the epoch */
  bans(): Map<string, number>
}

/**
 * The session manager service factory
 */
export function sessions (init: SessionManagerInit = {}): (components: SessionManagerComponents) => Sessions {
  return (components) => new SessionManager(components, init)
}

/** What `gated` needs of a service's components, besides what the service itself needs */
export interface GatedComponents {
  /** peergate's session manager, under this name */
  sessions: Sessions
  registrar: Registrar
  connectionManager: ConnectionManager
  peerStore: PeerStore
  events: TypedEventTarget<Libp2pEvents>
  logger: ComponentLogger
}

/**
 * Puts a libp2p service on sessions: the service only ever sees session
 * peers, and is itself unchanged. It is given, instead of libp2p's own, a
 * registrar whose `handle` goes through the gate (a stream from a peer
 * without a session is refused before the service's handler runs) and whose
 * topologies hear of a peer when a session with it opens (`onConnect`, with
 * the session's connection) and ends (`onDisconnect`), never of DHT or other
 * auxiliary connections; and a connection manager and connections whose
 * streams go over the peer's session, failing with `NoSessionError` towards
 * a peer without one. Needs the session manager among the services as
 * `sessions`, ahead of the gated service.
 *
 * @example
 *
 * ```TypeScript
 * services: {
 *   sessions: sessions(),
 *   // ...handshake, identify, …
 *   sync: gated(sync())   // a libp2p service of your own, or anyone's
 * }
 * ```
 */
export function gated<C, S> (factory: (components: C) => S): (components: C & GatedComponents) => S {
  return (components) => factory(gateComponents(components))
}

export { NoSessionError, SessionEndedError } from './errors.js'

// for the handshake and the node; not public
export { isAttemptEnded } from './errors.js'
export { hangUp } from './hang-up.js'
export { defaultInboundBurst } from './session-manager.js'
export { HANG_UP_TIMEOUT_MS, DEFAULT_MAX_INBOUND_SESSIONS_PER_IP } from './constants.js'
export { IpRanges } from './ip-limit.js'
