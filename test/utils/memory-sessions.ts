/**
 * Two session managers in memory, for tests of what runs on sessions
 * (request/response, notifications) without TCP, Noise, a handshake or a
 * datastore: each stream is a pair of @libp2p/utils' in-memory streams (the
 * ones js-libp2p tests its protocols with, which share libp2p's stream
 * behaviour, the lost early close-write included), handed out corrected as
 * peergate's own gate hands them out. The gate's rule is kept: a handler only
 * ever sees a stream from a peer it has a session with, and a stream is only
 * opened to a session peer. Real-node tests keep covering the gate itself
 * and libp2p's stream limits.
 */
import { UnsupportedProtocolError } from '@libp2p/interface'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { PeerMap } from '@libp2p/peer-collections'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { streamPair } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { TypedEventEmitter } from 'main-event'
import pDefer, { type DeferredPromise } from 'p-defer'
import { NoSessionError, ReasonCode, SessionEndedError, handleRequests, notifications, request } from '../../src/index.js'
import { endOnRemoteClose } from '../../src/stream/index.js'
import type { ProtocolSessions } from '../../src/protocols/index.js'
import type { HandleRequestsOptions, PeerAction, NotificationChannel, NotificationsOptions, RequestHandler, RequestOptions, Session, SessionEvents, SessionStreamHandler, SuccessResponse } from '../../src/index.js'
import type { AbortOptions, Connection, PeerId, Stream } from '@libp2p/interface'

/** One node's session manager, in memory */
export class MemorySessions extends TypedEventEmitter<SessionEvents> implements ProtocolSessions {
  readonly peerId: PeerId
  readonly did: string
  private readonly sessions = new PeerMap<{ session: Session, controller: AbortController, remote: MemorySessions }>()
  private readonly handlers = new Map<string, SessionStreamHandler>()
  /** peers whose handshake the test holds open: waitForSession waits for them */
  private readonly handshaking = new PeerMap<DeferredPromise<void>>()

  constructor (peerId: PeerId) {
    super()
    this.peerId = peerId
    this.did = `did:key:memory-${peerId.toString().slice(-8)}`
  }

  get (peer: PeerId): Session | undefined {
    return this.sessions.get(peer)?.session
  }

  list (): Session[] {
    return [...this.sessions.values()].map(entry => entry.session)
  }

  async handle (protocol: string, handler: SessionStreamHandler): Promise<void> {
    this.handlers.set(protocol, handler)
  }

  async unhandle (protocol: string): Promise<void> {
    this.handlers.delete(protocol)
  }

  async waitForSession (peer: PeerId, options: AbortOptions = {}): Promise<Session | undefined> {
    const handshake = this.handshaking.get(peer)
    if (handshake != null) {
      await Promise.race([handshake.promise, new Promise((_resolve, reject) => {
        options.signal?.addEventListener('abort', () => { reject(options.signal?.reason) }, { once: true })
      })])
    }
    return this.get(peer)
  }

  async openStream (peer: PeerId, protocol: string | string[], options: AbortOptions = {}): Promise<Stream> {
    const entry = this.sessions.get(peer)
    const session = entry?.session ?? await this.waitForSession(peer, options)
    const remote = this.sessions.get(peer)?.remote
    if (session == null || remote == null) {
      throw new NoSessionError(`no session with ${peer.toString()}`)
    }
    const name = Array.isArray(protocol) ? protocol.find(p => remote.handlers.has(p)) : protocol
    if (name == null || !remote.handlers.has(name)) {
      throw new UnsupportedProtocolError(`${peer.toString()} does not speak ${String(protocol)}`)
    }
    const [outbound, inbound] = await streamPair({ protocol: name })
    remote.serve(this.peerId, name, inbound)
    const end = (): void => { outbound.abort(session.signal.reason) }
    session.signal.addEventListener('abort', end, { once: true })
    return endOnRemoteClose(outbound)
  }

  /** an inbound stream from `from`: its handler runs only for a session peer */
  private serve (from: PeerId, protocol: string, stream: Stream): void {
    const session = this.get(from)
    const handler = this.handlers.get(protocol)
    if (session == null || handler == null) {
      stream.abort(new NoSessionError(`no session for inbound ${protocol} stream`))
      return
    }
    session.signal.addEventListener('abort', () => { stream.abort(session.signal.reason) }, { once: true })
    Promise.resolve(handler(endOnRemoteClose(stream), session.connection, session)).catch(err => {
      stream.abort(err)
    })
  }

  /** announces a report as the session manager does (`peer:report`) */
  reportPeer (peer: PeerId, action: PeerAction, reason: string): void {
    this.safeDispatchEvent('peer:report', { detail: { peerId: peer, action, reason } })
  }

  /** holds `peer`'s handshake open: waitForSession waits until `connect` or `refuse` */
  beginHandshake (peer: PeerId): void {
    this.handshaking.set(peer, pDefer())
  }

  private settleHandshake (peer: PeerId): void {
    this.handshaking.get(peer)?.resolve()
    this.handshaking.delete(peer)
  }

  /** the handshake with `peer` failed: no session, and waiters learn it */
  refuse (peer: PeerId): void {
    this.settleHandshake(peer)
  }

  /** opens a session between this node (outbound) and `other` (inbound), announced on both */
  connect (other: MemorySessions): void {
    this.open(other, 'outbound')
    other.open(this, 'inbound')
  }

  /** ends the session with `other` on both sides, announced with `session:close` */
  end (other: MemorySessions, reason: ReasonCode = ReasonCode.DISCONNECT_REQUESTED): void {
    this.close(other.peerId, reason, 'local')
    other.close(this.peerId, reason, 'remote')
  }

  private open (remote: MemorySessions, direction: 'inbound' | 'outbound'): void {
    const controller = new AbortController()
    const connection = {
      id: `memory-${this.peerId.toString().slice(-6)}-${remote.peerId.toString().slice(-6)}`,
      remotePeer: remote.peerId,
      direction,
      remoteAddr: multiaddr('/memory/peergate-test')
    } as unknown as Connection
    const session: Session = {
      peerId: remote.peerId,
      did: remote.did,
      direction,
      connection,
      chainVersion: '0.1.0',
      extra: new Uint8Array(),
      since: Date.now(),
      signal: controller.signal,
      state: new Map()
    }
    this.sessions.set(remote.peerId, { session, controller, remote })
    this.settleHandshake(remote.peerId)
    this.safeDispatchEvent('session:open', { detail: session })
  }

  private close (peer: PeerId, reason: ReasonCode, side: 'local' | 'remote'): void {
    const entry = this.sessions.get(peer)
    if (entry == null) {
      return
    }
    this.sessions.delete(peer)
    entry.controller.abort(new SessionEndedError(reason))
    this.safeDispatchEvent('session:close', { detail: { session: entry.session, reason, side } })
  }
}

/** Two in-memory session managers with a session between them (`a` dialed `b`) */
export async function memoryPair (): Promise<{ a: MemorySessions, b: MemorySessions }> {
  const a = new MemorySessions(peerIdFromPrivateKey(await generateKeyPair('Ed25519')))
  const b = new MemorySessions(peerIdFromPrivateKey(await generateKeyPair('Ed25519')))
  a.connect(b)
  return { a, b }
}

/**
 * The protocol half of a PeerNode over in-memory sessions: the same calls a
 * test makes on a real node, through the library's own functions
 */
export interface MemoryNode {
  readonly peerId: PeerId
  readonly did: string
  readonly sessions: MemorySessions
  handle(protocol: string, handler: SessionStreamHandler): Promise<void>
  openStream(peer: PeerId, protocol: string, options?: AbortOptions): Promise<Stream>
  handleRequests(protocol: string, handler: RequestHandler, options?: HandleRequestsOptions): Promise<void>
  request(peer: PeerId, protocol: string, data: Uint8Array, options?: RequestOptions): Promise<SuccessResponse>
  notifications(protocol: string, options: NotificationsOptions): Promise<NotificationChannel>
}

export function memoryNode (sessions: MemorySessions): MemoryNode {
  return {
    peerId: sessions.peerId,
    did: sessions.did,
    sessions,
    handle: async (protocol, handler) => sessions.handle(protocol, handler),
    openStream: async (peer, protocol, options) => sessions.openStream(peer, protocol, options),
    handleRequests: async (protocol, handler, options) => handleRequests(sessions, protocol, handler, options),
    request: async (peer, protocol, data, options) => request(sessions, peer, protocol, data, options),
    notifications: async (protocol, options) => notifications(sessions, protocol, options)
  }
}

/** Two in-memory nodes with a session between them (`a` dialed `b`) */
export async function memoryNodes (): Promise<{ a: MemoryNode, b: MemoryNode }> {
  const { a, b } = await memoryPair()
  return { a: memoryNode(a), b: memoryNode(b) }
}
