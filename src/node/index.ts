/**
 * @packageDocumentation
 *
 * `createPeerNode`: a ready peergate node for standalone use.
 */

import type { KeepAlive } from './keep-alive.js'
import type { ChainOptions } from './chain.js'
import type { AddressBookInit, AddressBookService, Contact, ContactSource } from '../addressbook/index.js'
import type { DidResolver, DidSigner } from '../did/index.js'
import type { BootstrapUnreachableDetail, DialManagerEvents, DialManagerInit, DialManagerService, DiscoveryInit, ReservedPeer } from '../dial/index.js'
import type { ConnectOptions, HandshakeInit, HandshakeService } from '../handshake/index.js'
import type { ChainHead, ChainIdentity } from '../chain/index.js'
import type { ReasonCode } from '../reason/index.js'
import type { DisconnectOptions, HandshakeInFlight, PeerAction, Session, SessionDirection, SessionEvents, Sessions } from '../session/index.js'
import type { PeerScoreEvents, PeerScoreInfo, PeerScoreInit, PeerScores } from '../score/index.js'
import type { Gossip, GossipInit, GossipTopicStats } from '../gossip/index.js'
import type { StorageEvents, StorageHealth } from '../storage/index.js'
import type { Identify } from '@libp2p/identify'
import type { AbortOptions, ComponentLogger, Libp2pStatus, PeerId, PrivateKey, ServiceMap, StreamHandlerOptions, TypedEventTarget } from '@libp2p/interface'
import type { KadDHT } from '@libp2p/kad-dht'
import type { Ping } from '@libp2p/ping'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Datastore } from 'interface-datastore'
import type { ConnectionManagerInit, Libp2pOptions, ServiceFactoryMap } from 'libp2p'
import type { Registry } from 'prom-client'

export interface PeerNodeServices extends NodeViewServices {
  score: PeerScores
  identify: Identify
  ping: Ping
  keepAlive: KeepAlive
  dht: KadDHT
}

/**
 * What a factory of your own services gets: libp2p's components plus every
 * service by name, peergate's included (`components.sessions`, …)
 */
export type PeerNodeComponents = Parameters<ServiceFactoryMap[string]>[0] & PeerNodeServices

/** Factories of your own services by name, as `createLibp2p`'s `services` */
export type PeerNodeServiceFactories<S extends ServiceMap> = {
  [Name in keyof S]: (components: PeerNodeComponents & S) => S[Name]
}

/**
 * The names of peergate's own services, in the order libp2p starts them
 * (`pubsub` only with the `pubsub` option); your own services may not use them
 */
export const PEERGATE_SERVICE_NAMES = ['sessions', 'handshake', 'identify', 'ping', 'keepAlive', 'dht', 'addressBook', 'score', 'dial', 'pubsub'] as const

/**
 * Options of `createPeerNode`; `S` is the map of your own services (see
 * `services`), inferred from the factories you pass
 */
export interface PeerNodeOptions<S extends ServiceMap = Record<never, never>> {
  /**
   * The node's directory: its libp2p key, DID key and chain record, each in
   * a file of its own (`peer-key.json`, `did-key.json`, `chain.json`), and
   * its LevelDB datastore (`datastore/`: address book, peer store, DHT
   * records). A data dir that was used before and has lost or damaged one of
   * those files, or whose datastore LevelDB cannot read, is refused with a
   * `DamagedDataDirError`; nothing is replaced
   *
   * @default './.peergate'
   */
  dataDir?: string

  /** Use this datastore instead of a LevelDB one in `dataDir`; the keys and the chain record are kept in it too */
  datastore?: Datastore

  /** @default ['/ip4/0.0.0.0/tcp/0'] */
  listen?: Array<string | Multiaddr>

  /**
   * Advanced, for labs and simulations, not for real use: libp2p transports
   * instead of peergate's own TCP. Two uses: many nodes on one host, each
   * dialing from a loopback address of its own
   * (`[tcp({ dialOpts: { localAddress: '127.0.0.5' } })]`, so that per-host
   * limits such as libp2p's `inboundConnectionThreshold` see one node per
   * host, as on a real network); and many nodes in one process without
   * sockets (`[memory()]` from `@libp2p/memory`, listening on `/memory/<name>`).
   * Given this, listen addresses are not checked to be TCP: they must suit
   * the transports given. `npm run lab` uses both (docs/SCALE.md).
   *
   * @default [tcp()]
   */
  transports?: Libp2pOptions['transports']

  /** Addresses (with /p2p/<peer id>) that seed the Kad-DHT */
  bootstrap?: Array<string | Multiaddr>

  /** The chain; peers of another chain are rejected */
  chain?: ChainOptions

  /** The head sent in handshakes and status messages; update it with `node.setHead`, which also pushes it to the peers */
  head?: ChainHead

  limits?: PeerNodeLimits

  /** peers always kept connected, outside the limits (addresses with /p2p/<peer id>) */
  reserved?: Array<string | Multiaddr>

  /** the dial loop */
  dial?: Pick<DialManagerInit, 'tickMs' | 'maxDialsPerTick' | 'dialTimeoutMs' | 'autoDial' | 'now' | 'random'>

  /** the persistent address book: size bound and backoff */
  addressBook?: Omit<AddressBookInit, 'now' | 'random'>

  /** the peer score (src/score/): half-life, ban duration, heartbeat, clock */
  score?: PeerScoreInit

  /** Kad-DHT random walks that fill the address book; `false` turns them off */
  discovery?: DiscoveryInit | false

  /**
   * the handshake service's options (`HandshakeInit`: deadlines, message
   * size, inbound limits, `isCompatibleVersion`, `extra`, `validateRemote`,
   * `getStatus`, `statusInterval`, `statusRateLimit`), but for those `createPeerNode` gives it
   * itself: `chain`, the DID's `signer` and `resolver` (`did`), `head`; the
   * clock (`now`) stays at its default
   */
  handshake?: Omit<HandshakeInit, 'chain' | 'signer' | 'resolver' | 'head' | 'now'>

  did?: {
    /** the node's DID and signing key; @default a did:key Ed25519 key kept in `dataDir`'s `did-key.json` (or in `datastore`) */
    signer?: DidSigner
    /** resolves remote DIDs; @default did:key (Ed25519) */
    resolver?: DidResolver
  }

  dht?: {
    /**
     * A client-mode DHT node queries but does not serve. kad-dht's own default
     * (client mode until a public address is seen) never serves on loopback or
     * a LAN, so peergate serves by default.
     *
     * @default false
     */
    clientMode?: boolean

    /**
     * Strip private addresses from DHT peer records, as on the public
     * internet. Off by default so that loopback and LAN networks work.
     *
     * @default false
     */
    publicAddressesOnly?: boolean
  }

  /** The libp2p private key; @default created once and kept in `dataDir`'s `peer-key.json` (or in `datastore`) */
  privateKey?: PrivateKey

  /**
   * passed to libp2p's connection manager (e.g. `inboundConnectionThreshold`
   * in tests); `maxIncomingPendingConnections` defaults to
   * `handshake.maxInboundHandshakes` (64) instead of libp2p's 10
   */
  connectionManager?: ConnectionManagerInit

  logger?: ComponentLogger

  /**
   * libp2p's own metrics (`@libp2p/prometheus-metrics`) in a Prometheus
   * registry of this node's (`node.metricsRegistry`), not prom-client's
   * global one; `createNodeMetrics(node)` adds peergate's series to it.
   * `true`: a new registry, with the process's default metrics.
   *
   * @default false
   */
  metrics?: boolean | PeerNodeMetricsOptions

  /**
   * Gossip on sessions (`node.pubsub`): gossipsub with only session peers in
   * its mesh, topics scoped by chain, signed messages, the application's
   * validators. `true` or `{ gossipsub }` (gossipsub's own tuning: mesh
   * degrees, heartbeat, …) runs it.
   *
   * @default false
   */
  pubsub?: boolean | GossipInit

  /**
   * Your own libp2p services, by name, as `createLibp2p`'s `services`: they
   * are added after peergate's (sessions, handshake, identify, ping, dht,
   * addressBook, score, dial, pubsub, which keep that order), so a factory finds those among
   * its components (`components.sessions`, …). A name of peergate's is
   * refused with InvalidParametersError. Reach them as
   * `node.libp2p.services.<name>`, typed.
   */
  services?: PeerNodeServiceFactories<S>
}

export interface PeerNodeMetricsOptions {
  /** the registry libp2p's metrics go in; @default a new one */
  registry?: Registry
  /** also collect prom-client's process metrics (CPU, memory, event loop); @default true */
  collectDefaultMetrics?: boolean
}

export interface PeerNodeLimits {
  /**
   * Sessions in all, from 0 to MAX_SESSIONS_LIMIT (10 000). 0 makes a
   * DHT-only node: it serves the chain's DHT, holds no session, dials nobody
   * for one and refuses every handshake with INBOUND_DISABLED (what public
   * chains run as bootnodes)
   *
   * @default 50
   */
  maxPeers?: number
  /**
   * Sessions this node selects and dials; the dial manager's target
   *
   * @default one third of maxPeers (16), at least 1
   */
  maxOutboundSessions?: number
  /**
   * Sessions remote peers start
   *
   * @default the rest of maxPeers (34)
   */
  maxInboundSessions?: number
  /**
   * Inbound sessions admitted beyond maxInboundSessions until the next dial
   * tick sheds them
   *
   * @default 10 % of maxInboundSessions, rounded up
   */
  inboundBurst?: number
  /**
   * Inbound sessions from one source IP address (an IPv6 source by its /64),
   * from 1 to MAX_SESSIONS_LIMIT; one more is refused with TOO_MANY_FROM_IP.
   * Reserved peers are outside it and not counted.
   *
   * @default 4 (DEFAULT_MAX_INBOUND_SESSIONS_PER_IP)
   */
  maxInboundSessionsPerIp?: number
  /**
   * Source address ranges outside `maxInboundSessionsPerIp`: CIDR blocks or
   * single addresses (`['127.0.0.0/8']` for many nodes on one host, as the
   * testnet runs them)
   *
   * @default []
   */
  ipLimitExempt?: string[]
}

export interface HandleOptions extends StreamHandlerOptions {
  /** serve peers without a session too (like identify or ping) */
  ungated?: boolean
}

export interface NodeStatus {
  /**
   * Sessions per direction against their limits; reserved peers are outside
   * the limits and counted apart (`reserved`), whichever side dialed
   */
  sessions: {
    outbound: number
    inbound: number
    reserved: number
    targetOutbound: number
    maxInbound: number
    /** inbound sessions allowed from one source IP address (an IPv6 source by its /64) */
    maxInboundPerIp: number
    /** the source ranges outside that limit */
    ipLimitExempt: string[]
  }
  connections: Record<ConnectionRole, number>
  /** dials in flight */
  dialing: number
  contacts: number
  /**
   * Whether the datastore takes writes (`ok`), or since when and with what
   * error it refuses them (`failing`; the node carries on from memory).
   * Absent from a view that does not watch its node's datastore
   * (`nodeView` without `storage`).
   */
  storage?: StorageHealth
}

export type ConnectionRole = 'outbound-session' | 'inbound-session' | 'handshaking' | 'auxiliary'

export interface ConnectionInfo {
  id: string
  peerId: PeerId
  remoteAddr: Multiaddr
  /** who dialed the connection */
  direction: 'inbound' | 'outbound'
  role: ConnectionRole
  /** when the connection opened, ms since the epoch */
  opened: number
  /** the last round trip on the connection, in ms (the keep-alive's, or the ping at session open) */
  rtt?: number
}

/** The services a node view reads, under the names `createPeerNode` gives them */
export interface NodeViewServices extends Record<string, unknown> {
  sessions: Sessions
  handshake: HandshakeService
  addressBook: AddressBookService
  dial: DialManagerService
  /** peergate's gossip (`gossip()`), when the node runs it */
  pubsub?: Gossip
  /** the peer score (`peerScore()`), when the node runs it */
  score?: PeerScores
}

/** A node view's events: the session manager's, the dial manager's, the peer score's and its datastore's (`storage:failing`, `storage:ok`) */
export type NodeViewEvents = SessionEvents & DialManagerEvents & PeerScoreEvents & StorageEvents

/**
 * One narrow, read-mostly view of a running node: its identity, state,
 * sessions, connections with their roles, contacts, bans, dials, reserved
 * peers, one event target for session and dial events, and the few commands
 * an operator runs. Metrics (`createNodeMetrics`), the status API
 * (`createApiServer`) and the CLI read a node through it and nothing else.
 * `PeerNode` is one; `nodeView(libp2p)` makes one of a libp2p node built with
 * your own `createLibp2p`.
 */
export interface NodeView extends TypedEventTarget<NodeViewEvents> {
  readonly peerId: PeerId
  /** the node's DID */
  readonly did: string
  readonly chain: ChainIdentity
  /** libp2p's state: `GET /health` answers 200 only while it is `started` */
  readonly state: Libp2pStatus
  /** where libp2p's metrics are, when the node has them; `createNodeMetrics` adds peergate's series to it */
  readonly metricsRegistry?: Registry
  readonly logger: ComponentLogger
  getMultiaddrs(): Multiaddr[]
  /** counts for an operator: sessions per direction against their limits, connections per role, dials, contacts, and the storage's health */
  status(): NodeStatus
  /** whether the node's datastore takes writes; undefined when the view does not watch it */
  storage(): StorageHealth | undefined
  session(peer: PeerId): Session | undefined
  sessions(): Session[]
  /** sessions (of one direction), reserved peers' included */
  sessionCount(direction?: SessionDirection): number
  /** the handshakes in flight, one per connection */
  handshakes(): HandshakeInFlight[]
  /** every open connection with its role, open time and round trip */
  connections(): ConnectionInfo[]
  /** the address book's contact for `peer` */
  contact(peer: PeerId): Contact | undefined
  /** a copy of the address book */
  contacts(): Contact[]
  /** every contact, without copying the book */
  forEachContact(fn: (contact: Contact) => void): void
  /** the contacts waiting out a backoff now */
  backoffs(): Contact[]
  /** every ban in force: peer id or DID → when it ends, ms since the epoch */
  bans(): Map<string, number>
  banExpiry(target: PeerId | string): number | undefined
  /** the peers the dial loop is dialing now (no connection or session yet) */
  dialingPeers(): PeerId[]
  /** the bootstrap peers this node could not reach and has no connection to now, with the error (`bootstrap:unreachable` as it happens) */
  unreachableBootstrapPeers(): BootstrapUnreachableDetail[]
  reserved(): ReservedPeer[]
  /** identify's AgentVersion of `peer`, from the peer store */
  agent(peer: PeerId): Promise<string | undefined>
  /** each gossip topic the node subscribes to, with its mesh peers and message counts; none when it runs no gossip */
  gossipTopics(): GossipTopicStats[]
  /** `peer`'s score and its recent events; undefined when it has none (or the node runs no peer score) */
  peerScore(peer: PeerId): PeerScoreInfo | undefined
  /** every peer with a score held in memory */
  peerScores(): PeerScoreInfo[]

  connect(target: PeerId | Multiaddr | Multiaddr[], options?: ConnectOptions): Promise<Session>
  disconnect(peer: PeerId, reason?: ReasonCode, options?: DisconnectOptions): Promise<void>
  ban(target: PeerId | string, durationMs?: number): Promise<void>
  /**
   * Reports a peer's misbehaviour to its score (`Sessions.reportPeer`): the
   * action's weight comes off, and the peer is disconnected (SCORE_TOO_LOW)
   * or banned when the score reaches a threshold
   */
  reportPeer(peer: PeerId, action: PeerAction, reason: string): void
  unban(target: PeerId | string): Promise<void>
  clearBackoff(peer?: PeerId | PeerId[], options?: AbortOptions): Promise<Contact[]>
  addContact(addrs: string | Multiaddr | Array<string | Multiaddr>, source?: ContactSource): Promise<Contact[]>
  removeContact(peer: PeerId): Promise<void>
  addReserved(addrs: string | Multiaddr | Array<string | Multiaddr>, options?: AbortOptions): Promise<ReservedPeer[]>
  removeReserved(peer: PeerId, options?: AbortOptions & { disconnect?: boolean }): Promise<ReservedPeer | undefined>
}

export { createPeerNode } from './create-node.js'
export { PeerNode } from './peer-node.js'
export { nodeView } from './view.js'
export { dhtProtocol, type ChainOptions } from './chain.js'
export { DamagedDataDirError, DataDirError, DataDirLockedError, AddressInUseError, GossipDisabledError } from './errors.js'

// for peergate's other folders (the CLI, the API, metrics); not public
export { parseHex } from './chain.js'
export { isSelfAddress, parsePeerAddrs } from './peers.js'
export { makeDataDir } from './data-dir.js'
export { resolveLimits } from './create-node.js'
export { DATASTORE_DIR, DEFAULT_DATA_DIR, DEFAULT_CHAIN_ID, DEFAULT_LISTEN, DEFAULT_MAX_PEERS, MAX_SESSIONS_LIMIT } from './constants.js'
export { buildInfo, type BuildInfo } from './build-info.js'
