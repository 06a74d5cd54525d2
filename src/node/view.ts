import { InvalidParametersError } from '@libp2p/interface'
import { TypedEventEmitter } from 'main-event'
import { toString as uint8ArrayToString } from 'uint8arrays/to-string'
import { parsePeerAddrs } from './peers.js'
import type { ConnectionInfo, ConnectionRole, NodeStatus, NodeView, NodeViewEvents, NodeViewServices } from './index.js'
import type { Contact, ContactSource } from '../addressbook/index.js'
import type { BootstrapUnreachableDetail, ReservedPeer } from '../dial/index.js'
import type { ConnectOptions } from '../handshake/index.js'
import type { ChainIdentity } from '../chain/index.js'
import type { ReasonCode } from '../reason/index.js'
import type { DisconnectOptions, HandshakeInFlight, PeerAction, Session, SessionDirection } from '../session/index.js'
import type { PeerScoreInfo } from '../score/index.js'
import type { GossipTopicStats } from '../gossip/index.js'
import type { AbortOptions, ComponentLogger, Libp2p, Libp2pStatus, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Registry } from 'prom-client'
import type { MonitoredDatastore, StorageHealth } from '../storage/index.js'

/** The view's events, as the services that emit them name them */
const SESSION_EVENTS = ['handshake:start', 'session:open', 'session:close', 'session:reject', 'session:status', 'stream:refuse', 'ban:add', 'ban:remove', 'peer:report'] as const
const DIAL_EVENTS = ['dial:end', 'bootstrap:unreachable'] as const
const SCORE_EVENTS = ['score:disconnect', 'score:ban'] as const
const STORAGE_EVENTS = ['storage:failing', 'storage:ok'] as const

/** The services a view reads, by the names `createPeerNode` gives them */
const VIEW_SERVICE_NAMES = ['sessions', 'handshake', 'addressBook', 'dial'] as const

/** The peer store key under which identify keeps a peer's AgentVersion */
const AGENT_VERSION_KEY = 'AgentVersion'

/**
 * A `NodeView` over a libp2p node carrying peergate's services: what
 * `nodeView(libp2p)` returns, and what `PeerNode` extends. It re-dispatches
 * the session manager's and the dial manager's events as its own.
 */
export class Libp2pNodeView<T extends NodeViewServices = NodeViewServices> extends TypedEventEmitter<NodeViewEvents> implements NodeView {
  readonly libp2p: Libp2p<T>
  readonly chain: ChainIdentity
  readonly did: string
  /**
   * The Prometheus registry holding libp2p's metrics (`createPeerNode`'s
   * `metrics` option); undefined when metrics are off. `createNodeMetrics`
   * adds peergate's series to it.
   */
  readonly metricsRegistry?: Registry
  private readonly watched?: MonitoredDatastore

  constructor (libp2p: Libp2p<T>, metricsRegistry?: Registry, storage?: MonitoredDatastore) {
    super()
    const missing = VIEW_SERVICE_NAMES.filter(name => libp2p.services[name] == null)
    if (missing.length > 0) {
      throw new InvalidParametersError(`a node view needs peergate's services ${VIEW_SERVICE_NAMES.join(', ')} under these names; this libp2p node has no ${missing.join(', ')}`)
    }
    this.libp2p = libp2p
    this.chain = libp2p.services.handshake.chain
    this.did = libp2p.services.handshake.did
    this.metricsRegistry = metricsRegistry
    this.watched = storage
    for (const type of STORAGE_EVENTS) {
      storage?.addEventListener(type, (evt: CustomEvent<any>) => {
        this.safeDispatchEvent(type, { detail: evt.detail })
      })
    }
    for (const type of SESSION_EVENTS) {
      libp2p.services.sessions.addEventListener(type, (evt: CustomEvent<any>) => {
        this.safeDispatchEvent(type, { detail: evt.detail })
      })
    }
    for (const type of SCORE_EVENTS) {
      libp2p.services.score?.addEventListener(type, (evt: CustomEvent<any>) => {
        this.safeDispatchEvent(type, { detail: evt.detail })
      })
    }
    for (const type of DIAL_EVENTS) {
      libp2p.services.dial.addEventListener(type, (evt: CustomEvent<any>) => {
        this.safeDispatchEvent(type, { detail: evt.detail })
      })
    }
  }

  get peerId (): PeerId {
    return this.libp2p.peerId
  }

  /** libp2p's state */
  get state (): Libp2pStatus {
    return this.libp2p.status
  }

  get logger (): ComponentLogger {
    return this.libp2p.logger
  }

  getMultiaddrs (): Multiaddr[] {
    return this.libp2p.getMultiaddrs()
  }

  /**
   * Selects a peer: dials it, or reuses an existing connection, and runs the
   * handshake. Resolves with the session; rejects with a `HandshakeError`
   * carrying the reason code.
   */
  async connect (target: PeerId | Multiaddr | Multiaddr[], options?: ConnectOptions): Promise<Session> {
    return this.libp2p.services.handshake.connect(target, options)
  }

  /**
   * Ends the session with `peer`: the peer gets a Goodbye with `reason` (and
   * your `appCode` / `detail`), then the connection closes
   */
  async disconnect (peer: PeerId, reason?: ReasonCode, options?: DisconnectOptions): Promise<void> {
    await this.libp2p.services.sessions.disconnect(peer, reason, options)
  }

  /** The session with `peer`, if it has one */
  session (peer: PeerId): Session | undefined {
    return this.libp2p.services.sessions.get(peer)
  }

  /** The current sessions: the node's peers (never DHT or other auxiliary connections) */
  sessions (): Session[] {
    return this.libp2p.services.sessions.list()
  }

  /** The number of sessions (of one direction), reserved peers' included */
  sessionCount (direction?: SessionDirection): number {
    return this.libp2p.services.sessions.count(direction)
  }

  /** The handshakes in flight, one per connection */
  handshakes (): HandshakeInFlight[] {
    return this.libp2p.services.sessions.handshakes()
  }

  /** The address book's contact for `peer`, if it has one */
  contact (peer: PeerId): Contact | undefined {
    return this.libp2p.services.addressBook.get(peer)
  }

  /** Every contact of the address book, with its backoff */
  contacts (): Contact[] {
    return this.libp2p.services.addressBook.list()
  }

  /** Calls `fn` with every contact, without copying the book */
  forEachContact (fn: (contact: Contact) => void): void {
    this.libp2p.services.addressBook.forEach(fn)
  }

  /**
   * Adds contacts to the address book (source `manual` unless told); the dial
   * manager dials them when it has free outbound slots. Addresses end in
   * /p2p/<peer id>.
   */
  async addContact (addrs: string | Multiaddr | Array<string | Multiaddr>, source: ContactSource = 'manual'): Promise<Contact[]> {
    const peers = parsePeerAddrs(Array.isArray(addrs) ? addrs : [addrs], 'contact address')
    const self = peers.find(peer => peer.peerId.equals(this.peerId))
    if (self != null) {
      throw new InvalidParametersError(`contact address ${self.multiaddrs.map(ma => ma.toString()).join(', ')} is this node's own peer id`)
    }
    const added: Contact[] = []
    for (const peer of peers) {
      added.push(await this.libp2p.services.addressBook.add({ peerId: peer.peerId, multiaddrs: peer.multiaddrs, source }))
    }
    return added
  }

  async removeContact (peer: PeerId): Promise<void> {
    await this.libp2p.services.addressBook.remove(peer)
  }

  /** The reserved peers: those the options give and those added at runtime (`stored`) */
  reserved (): ReservedPeer[] {
    return this.libp2p.services.dial.reservedPeers()
  }

  /**
   * Reserves peers at runtime (geth's `admin_addTrustedPeer`): each is kept
   * connected, outside the session limits, and written to the datastore, so
   * it is still reserved after a restart. Addresses end in /p2p/<peer id>;
   * adding a reserved peer again replaces its addresses.
   */
  async addReserved (addrs: string | Multiaddr | Array<string | Multiaddr>, options?: AbortOptions): Promise<ReservedPeer[]> {
    const peers = parsePeerAddrs(Array.isArray(addrs) ? addrs : [addrs], 'reserved peer address')
    const added: ReservedPeer[] = []
    for (const peer of peers) {
      added.push(await this.libp2p.services.dial.addReserved(peer, options))
    }
    return added
  }

  /**
   * Stops reserving `peer`: it goes back to being an ordinary contact, and
   * its session stays (then counts against the limits) unless `disconnect`
   * ends it. A peer the options give (`reserved`) is reserved again at the
   * next start. Resolves with the peer, or undefined when it was not reserved.
   */
  async removeReserved (peer: PeerId, options: AbortOptions & { disconnect?: boolean } = {}): Promise<ReservedPeer | undefined> {
    const removed = await this.libp2p.services.dial.removeReserved(peer, options)
    if (removed != null && options.disconnect === true && this.session(peer) != null) {
      await this.disconnect(peer, undefined, { signal: options.signal })
    }
    return removed
  }

  /** The contacts waiting out a backoff now, each with its reason and next attempt */
  backoffs (): Contact[] {
    return this.libp2p.services.addressBook.backoffs()
  }

  /**
   * Clears the backoff of a contact (of every contact without `peer`), so the
   * dial manager may dial it on its next tick; resolves with the contacts
   * that had one
   */
  async clearBackoff (peer?: PeerId | PeerId[], options?: AbortOptions): Promise<Contact[]> {
    return this.libp2p.services.addressBook.clearBackoff(peer, options)
  }

  /** The peers the dial loop is dialing now (no session yet) */
  dialingPeers (): PeerId[] {
    return this.libp2p.services.dial.dialingPeers()
  }

  /** The bootstrap peers this node could not reach and has no connection to now (`bootstrap:unreachable` told of each as it happened) */
  unreachableBootstrapPeers (): BootstrapUnreachableDetail[] {
    return this.libp2p.services.dial.unreachableBootstrapPeers()
  }

  /** Whether the node's datastore takes writes (see NodeStatus.storage); undefined when this view does not watch it */
  storage (): StorageHealth | undefined {
    return this.watched?.health()
  }

  /** Counts for an operator: sessions per direction against their targets, connections per role, contacts, the storage's health */
  status (): NodeStatus {
    const dial = this.libp2p.services.dial.status()
    const limits = this.libp2p.services.sessions.limits()
    const connections: Record<ConnectionRole, number> = { 'outbound-session': 0, 'inbound-session': 0, handshaking: 0, auxiliary: 0 }
    for (const info of this.connections()) {
      connections[info.role]++
    }
    return {
      sessions: {
        outbound: dial.outbound,
        inbound: dial.inbound,
        reserved: dial.reserved,
        targetOutbound: dial.targetOutbound,
        maxInbound: limits.maxInbound,
        maxInboundPerIp: limits.maxInboundPerIp,
        ipLimitExempt: limits.ipLimitExempt
      },
      connections,
      dialing: dial.dialing,
      contacts: this.libp2p.services.addressBook.size,
      storage: this.storage()
    }
  }

  /** Every open connection with its role: a session (either way), handshaking, or auxiliary */
  connections (): ConnectionInfo[] {
    const sessions = this.libp2p.services.sessions
    const handshaking = new Set(sessions.handshakes().map(h => h.connectionId))
    return this.libp2p.getConnections().map(connection => {
      const session = sessions.get(connection.remotePeer)
      const role = session?.connection.id === connection.id
        ? (session.direction === 'outbound' ? 'outbound-session' : 'inbound-session')
        : handshaking.has(connection.id) ? 'handshaking' : 'auxiliary'
      return {
        peerId: connection.remotePeer,
        remoteAddr: connection.remoteAddr,
        direction: connection.direction,
        role,
        id: connection.id,
        opened: connection.timeline.open,
        rtt: connection.rtt
      }
    })
  }

  /** Each gossip topic the node subscribes to, with its mesh peers and message counts; none without gossip */
  gossipTopics (): GossipTopicStats[] {
    const pubsub = this.libp2p.services.pubsub
    // a libp2p node of your own may run js-libp2p's gossipsub, ungated, under this name: it has no topic stats
    return typeof pubsub?.topicStats === 'function' ? pubsub.topicStats() : []
  }

  /** `peer`'s score and its recent events; undefined when it has none, or the node runs no peer score */
  peerScore (peer: PeerId): PeerScoreInfo | undefined {
    return this.libp2p.services.score?.get(peer)
  }

  /** Every peer with a score held in memory; none without a peer score */
  peerScores (): PeerScoreInfo[] {
    return this.libp2p.services.score?.list() ?? []
  }

  /**
   * Reports a peer's misbehaviour to its score: the action's weight comes
   * off (PeerAction: FATAL bans at once, LOW_TOLERANCE −10, MID_TOLERANCE −5,
   * HIGH_TOLERANCE −1), and at −20 the peer is disconnected with
   * SCORE_TOO_LOW, at −50 banned for 30 min. `reason` is short and stable: it
   * is a log word and (up to its first `:`) a metric label.
   */
  reportPeer (peer: PeerId, action: PeerAction, reason: string): void {
    this.libp2p.services.sessions.reportPeer(peer, action, reason)
  }

  /** identify's AgentVersion of `peer`, from the peer store; undefined until identify has run with it */
  async agent (peer: PeerId): Promise<string | undefined> {
    try {
      const bytes = (await this.libp2p.peerStore.get(peer)).metadata.get(AGENT_VERSION_KEY)
      return bytes == null ? undefined : uint8ArrayToString(bytes)
    } catch {
      // NotFoundError: the peer store has no record of the peer
      return undefined
    }
  }

  /**
   * Bans a peer id or a DID: no session until the ban expires; an open
   * session ends. A DID's ban also covers the peer ids seen with it, a peer
   * id's ban the DID of its session (see `Sessions.ban`).
   */
  async ban (target: PeerId | string, durationMs?: number): Promise<void> {
    await this.libp2p.services.sessions.ban(target, durationMs)
  }

  /** Every ban in force: peer id or DID → when it ends, ms since the epoch */
  bans (): Map<string, number> {
    return this.libp2p.services.sessions.bans()
  }

  /** When the ban of a peer id or DID ends, ms since the epoch; undefined when it is not banned */
  banExpiry (target: PeerId | string): number | undefined {
    return this.libp2p.services.sessions.banExpiry(target)
  }

  /** Lifts the ban of a peer id or DID, and the bans it covered */
  async unban (target: PeerId | string): Promise<void> {
    await this.libp2p.services.sessions.unban(target)
  }
}

/**
 * The view of a libp2p node built with your own `createLibp2p` and
 * peergate's services under the names `sessions`, `handshake`, `addressBook`
 * and `dial`: what `createNodeMetrics` and `createApiServer` take. Build it
 * once per node (it listens to the services from now on). `storage`: the
 * node's datastore, wrapped by `monitorDatastore` before `createLibp2p` got
 * it, whose health the view's status then carries.
 *
 * @throws {InvalidParametersError} when one of those services is missing
 */
export function nodeView (libp2p: Libp2p<NodeViewServices>, options: { metricsRegistry?: Registry, storage?: MonitoredDatastore } = {}): NodeView {
  return new Libp2pNodeView(libp2p, options.metricsRegistry, options.storage)
}
