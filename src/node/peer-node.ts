import { endOnRemoteClose } from '../stream/index.js'
import { handleRequests, notifications, request } from '../protocols/index.js'
import { parseAddrs } from './peers.js'
import { pingOnOpen } from './session-ping.js'
import { GossipDisabledError } from './errors.js'
import { Libp2pNodeView } from './view.js'
import type { PeerNodeServices, HandleOptions } from './index.js'
import type { Contact } from '../addressbook/index.js'
import type { ChainHead } from '../chain/index.js'
import type { HandleRequestsOptions, NotificationChannel, NotificationsOptions, RequestHandler, RequestOptions, SuccessResponse } from '../protocols/index.js'
import type { Session, SessionStreamHandler } from '../session/index.js'
import type { Gossip } from '../gossip/index.js'
import type { AbortOptions, Libp2p, PeerId, ServiceMap, Stream, StreamHandler } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { LevelDatastore } from 'datastore-level'
import type { Datastore } from 'interface-datastore'
import type { Registry } from 'prom-client'
import type { MonitoredDatastore, WriteBehindDatastore } from '../storage/index.js'

export interface PeerNodeInit<S extends ServiceMap = Record<never, never>> {
  libp2p: Libp2p<PeerNodeServices & S>
  /** the datastore libp2p runs on: the peer store's cache in front of `storage` */
  datastore: WriteBehindDatastore
  /** the datastore's writes, watched */
  storage: MonitoredDatastore
  /** closed on stop: the node opened it */
  ownDatastore?: LevelDatastore
  /** where libp2p's metrics go, when `createPeerNode`'s `metrics` is on */
  metricsRegistry?: Registry
}

/**
 * A running peergate node: a libp2p node whose application protocols are
 * gated by authenticated sessions. It is the node's view (`NodeView`) too:
 * its identity, sessions, connections, contacts, bans and reserved peers,
 * and the session and dial events.
 */
export class PeerNode<S extends ServiceMap = Record<never, never>> extends Libp2pNodeView<PeerNodeServices & S> {
  /** the libp2p node: peergate's services and your own (`createPeerNode`'s `services`) under `libp2p.services` */
  declare readonly libp2p: Libp2p<PeerNodeServices & S>
  /**
   * The node's datastore (its LevelDB in `dataDir`, or the one passed in),
   * open while the node runs. A chain may keep its own records here: put
   * them under a key prefix of its own (`/<chain-id>/…`, e.g.
   * `/devnet-1/blocks/<hash>`), and none under the prefixes peergate and
   * libp2p use: `/peergate/` (DID key, address book, bans, reserved peers), `/pkcs8/` (the
   * libp2p key), `/peers/` (the peer store), `/dht/` (DHT records).
   * Its writes are watched (`status().storage`): one the disk refuses
   * rejects with a `StorageWriteError`, once reported.
   */
  readonly datastore: Datastore
  private readonly ownDatastore?: LevelDatastore
  private readonly cache: WriteBehindDatastore
  private readonly monitored: MonitoredDatastore

  /** @internal createPeerNode builds a PeerNode */
  constructor (init: PeerNodeInit<S>) {
    super(init.libp2p, init.metricsRegistry, init.storage)
    this.datastore = init.datastore
    this.cache = init.datastore
    this.monitored = init.storage
    this.ownDatastore = init.ownDatastore
    const log = this.libp2p.logger.forComponent('peergate:node')
    this.libp2p.services.sessions.addEventListener('session:open', (evt) => {
      pingOnOpen(evt.detail, log)
    })
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
   * Gossip on sessions, as js-libp2p's pubsub (`subscribe`, `publish`,
   * `topicValidators`, `message` events), for this chain's topics and
   * session peers alone; `createPeerNode({ pubsub: true })` runs it
   *
   * @throws {GossipDisabledError} when the node runs no gossip
   */
  get pubsub (): Gossip {
    const pubsub = this.libp2p.services.pubsub
    if (pubsub == null) {
      throw new GossipDisabledError()
    }
    return pubsub
  }

  /** Replaces a contact's addresses (its backoff resets when they change) and/or its DID */
  async updateContact (peer: PeerId, patch: { multiaddrs?: Array<string | Multiaddr>, did?: string }): Promise<Contact | undefined> {
    const multiaddrs = patch.multiaddrs == null ? undefined : parseAddrs(patch.multiaddrs, 'contact address')
    return this.libp2p.services.addressBook.update(peer, { multiaddrs, did: patch.did })
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
    await this.cache.close()
    this.monitored.stop()
    await this.ownDatastore?.close()
  }
}
