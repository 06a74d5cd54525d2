import { InvalidParametersError } from '@libp2p/interface'
import { TypedEventEmitter } from 'main-event'
import { endOnRemoteClose } from '../stream/index.js'
import { handleRequests, notifications, request } from '../protocols/index.js'
import { parseAddrs, parsePeerAddrs } from './peers.js'
import { pingOnOpen } from './session-ping.js'
import type { PeerNodeServices, ConnectionInfo, ConnectionRole, HandleOptions, NodeStatus } from './index.js'
import type { Contact, ContactSource } from '../addressbook/index.js'
import type { ReservedPeer } from '../dial/index.js'
import type { ConnectOptions } from '../handshake/index.js'
import type { ChainHead, ChainIdentity } from '../chain/index.js'
import type { HandleRequestsOptions, NotificationChannel, NotificationsOptions, RequestHandler, RequestOptions, SuccessResponse } from '../protocols/index.js'
import type { ReasonCode } from '../reason/index.js'
import type { DisconnectOptions, Session, SessionEvents, SessionStreamHandler } from '../session/index.js'
import type { AbortOptions, Libp2p, PeerId, ServiceMap, Stream, StreamHandler } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { LevelDatastore } from 'datastore-level'
import type { Datastore } from 'interface-datastore'
import type { Registry } from 'prom-client'

const FORWARDED_EVENTS = ['handshake:start', 'session:open', 'session:close', 'session:reject', 'session:status', 'stream:refuse', 'ban:add', 'ban:remove'] as const

export interface PeerNodeInit<S extends ServiceMap = Record<never, never>> {
  libp2p: Libp2p<PeerNodeServices & S>
  chain: ChainIdentity
  did: string
  /** the datastore libp2p runs on */
  datastore: Datastore
  /** closed on stop: the node opened it */
  ownDatastore?: LevelDatastore
  /** where libp2p's metrics go, when `createPeerNode`'s `metrics` is on */
  metricsRegistry?: Registry
}

/**
 * A running peergate node: a libp2p node whose application protocols are
 * gated by authenticated sessions
 */
export class PeerNode<S extends ServiceMap = Record<never, never>> extends TypedEventEmitter<SessionEvents> {
  /** the libp2p node: peergate's services and your own (`createPeerNode`'s `services`) under `libp2p.services` */
  readonly libp2p: Libp2p<PeerNodeServices & S>
  readonly chain: ChainIdentity
  readonly did: string
  /**
   * The node's datastore (its LevelDB in `dataDir`, or the one passed in),
   * open while the node runs. A chain may keep its own records here: put
   * them under a key prefix of its own (`/<chain-id>/…`, e.g.
   * `/devnet-1/blocks/<hash>`), and none under the prefixes peergate and
   * libp2p use: `/peergate/` (DID key, address book, bans, reserved peers), `/pkcs8/` (the
   * libp2p key), `/peers/` (the peer store), `/dht/` (DHT records).
   */
  readonly datastore: Datastore
  /**
   * The Prometheus registry holding libp2p's metrics (`createPeerNode`'s
   * `metrics` option); undefined when metrics are off. `createNodeMetrics`
   * adds peergate's series to it.
   */
  readonly metricsRegistry?: Registry
  private readonly ownDatastore?: LevelDatastore

  /** @internal createPeerNode builds a PeerNode */
  constructor (init: PeerNodeInit<S>) {
    super()
    this.libp2p = init.libp2p
    this.chain = init.chain
    this.did = init.did
    this.datastore = init.datastore
    this.ownDatastore = init.ownDatastore
    this.metricsRegistry = init.metricsRegistry
    for (const type of FORWARDED_EVENTS) {
      this.libp2p.services.sessions.addEventListener(type, (evt: CustomEvent<any>) => {
        this.safeDispatchEvent(type, { detail: evt.detail })
      })
    }
    const log = this.libp2p.logger.forComponent('peergate:node')
    this.libp2p.services.sessions.addEventListener('session:open', (evt) => {
      pingOnOpen(evt.detail, log)
    })
  }

  get peerId (): PeerId {
    return this.libp2p.peerId
  }

  getMultiaddrs (): Multiaddr[] {
    return this.libp2p.getMultiaddrs()
  }

  /**
   * Registers an application protocol. It is gated: the handler only ever
   * sees streams from peers with a session, and gets that session as its
   * third argument. With `ungated: true` it serves every peer (like identify
   * or ping) and gets libp2p's `(stream, connection)` only.
   */
  async handle (protocol: string, handler: SessionStreamHandler, options?: HandleOptions & { ungated?: false }): Promise<void>
  async handle (protocol: string, handler: StreamHandler, options: HandleOptions & { ungated: true }): Promise<void>
  async handle (protocol: string, handler: SessionStreamHandler | StreamHandler, options: HandleOptions = {}): Promise<void> {
    const { ungated, ...handlerOptions } = options
    if (ungated === true) {
      const plain = handler as StreamHandler
      await this.libp2p.handle(protocol, async (stream, connection) => {
        await plain(endOnRemoteClose(stream), connection)
      }, handlerOptions)
      return
    }
    await this.libp2p.services.sessions.handle(protocol, handler as SessionStreamHandler, handlerOptions)
  }

  async unhandle (protocol: string): Promise<void> {
    if (this.libp2p.services.sessions.isGated(protocol)) {
      await this.libp2p.services.sessions.unhandle(protocol)
      return
    }
    await this.libp2p.unhandle(protocol)
  }

  /**
   * Opens a gated stream over the session with `peer`. Waits for a handshake
   * in flight; fails with `NoSessionError` when there is no session.
   */
  async openStream (peer: PeerId, protocol: string | string[], options?: AbortOptions): Promise<Stream> {
    return this.libp2p.services.sessions.openStream(peer, protocol, options)
  }

  /**
   * Serves a request/response protocol to session peers: the handler gets
   * each request and the session, and answers with the response bytes (or a
   * `Response` with another result code). `unhandle(protocol)` stops it.
   * Wire format and limits: docs/APPLICATION-PROTOCOLS.md.
   */
  async handleRequests (protocol: string, handler: RequestHandler, options: HandleRequestsOptions = {}): Promise<void> {
    await handleRequests(this.libp2p.services.sessions, protocol, handler, { logger: this.libp2p.logger, ...options })
  }

  /**
   * Sends one request to a session peer and resolves with its SUCCESS
   * response; rejects with NoSessionError, TooManyRequestsError,
   * MessageTooLargeError, RemoteResultError (the result code) or TimeoutError
   */
  async request (peer: PeerId, protocol: string, data: Uint8Array, options: RequestOptions = {}): Promise<SuccessResponse> {
    return request(this.libp2p.services.sessions, peer, protocol, data, { logger: this.libp2p.logger, ...options })
  }

  /**
   * Opens a notification channel: `onMessage` gets every message session
   * peers send on `protocol`; `send`/`broadcast` reach session peers over one
   * long-lived stream each. `close()` it to stop.
   */
  async notifications (protocol: string, options: NotificationsOptions): Promise<NotificationChannel> {
    return notifications(this.libp2p.services.sessions, protocol, { logger: this.libp2p.logger, ...options })
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

  /** Every contact of the address book, with its backoff */
  contacts (): Contact[] {
    return this.libp2p.services.addressBook.list()
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

  /** Replaces a contact's addresses (its backoff resets when they change) and/or its DID */
  async updateContact (peer: PeerId, patch: { multiaddrs?: Array<string | Multiaddr>, did?: string }): Promise<Contact | undefined> {
    const multiaddrs = patch.multiaddrs == null ? undefined : parseAddrs(patch.multiaddrs, 'contact address')
    return this.libp2p.services.addressBook.update(peer, { multiaddrs, did: patch.did })
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

  /** Counts for an operator: sessions per direction against their targets, connections per role, contacts */
  status (): NodeStatus {
    const dial = this.libp2p.services.dial.status()
    const limits = this.libp2p.services.sessions.limits()
    const connections: Record<ConnectionRole, number> = { 'outbound-session': 0, 'inbound-session': 0, handshaking: 0, auxiliary: 0 }
    for (const info of this.connections()) {
      connections[info.role]++
    }
    return {
      sessions: { outbound: dial.outbound, inbound: dial.inbound, reserved: dial.reserved, targetOutbound: dial.targetOutbound, maxInbound: limits.maxInbound },
      connections,
      dialing: dial.dialing,
      contacts: this.libp2p.services.addressBook.size
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
      return { peerId: connection.remotePeer, remoteAddr: connection.remoteAddr, direction: connection.direction, role, id: connection.id }
    })
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

  /** Lifts the ban of a peer id or DID, and the bans it covered */
  async unban (target: PeerId | string): Promise<void> {
    await this.libp2p.services.sessions.unban(target)
  }

  /**
   * The head sent in later handshakes and status messages; also pushes it to
   * every session peer (a status round each, at most one per peer a second)
   */
  setHead (head: ChainHead | undefined): void {
    this.libp2p.services.handshake.setHead(head)
  }

  /**
   * Exchanges status with a session peer now; resolves with its session,
   * holding the peer's current head and extra
   */
  async refreshStatus (peer: PeerId, options?: AbortOptions): Promise<Session> {
    return this.libp2p.services.handshake.refreshStatus(peer, options)
  }

  async stop (): Promise<void> {
    await this.libp2p.stop()
    await this.ownDatastore?.close()
  }
}
