/**
 * In-memory stand-ins for the services the address book and the dial manager
 * use, so that a test drives them without a network (as js-libp2p's
 * dial-queue.spec.ts does): a session manager whose sessions the test opens
 * and closes, and a handshake whose every connect() the test settles.
 */
import { PeerMap, PeerSet } from '@libp2p/peer-collections'
import { multiaddr } from '@multiformats/multiaddr'
import { TypedEventEmitter } from 'main-event'
import { ReasonCode } from '../../src/index.js'
import type { AddressBookComponents, DialManagerComponents, HandshakeInFlight, RejectSide, Session, SessionDirection, SessionEvents, SessionLimits } from '../../src/index.js'
import type { AbortOptions, Connection, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** The members of the session manager the dial manager and the address book use */
type SessionsPort = DialManagerComponents['sessions'] & AddressBookComponents['sessions']

/** A session manager that holds what the test tells it, and announces sessions as the real one does */
export class FakeSessions extends TypedEventEmitter<SessionEvents> implements SessionsPort {
  readonly sessions = new PeerMap<Session>()
  /** peers with a handshake in flight */
  readonly handshaking = new PeerSet()
  /** ban expiries by peer id string */
  readonly banned = new Map<string, number>()
  /** every disconnect() call, in order */
  readonly disconnected: Array<{ peerId: PeerId, reason: ReasonCode }> = []
  sessionLimits: SessionLimits = { maxInbound: 10, maxOutbound: 3, inboundBurst: 0, maxInboundPerIp: 4, ipLimitExempt: [] }
  private reserved = new Set<string>()

  get (peer: PeerId): Session | undefined {
    return this.sessions.get(peer)
  }

  list (): Session[] {
    return [...this.sessions.values()]
  }

  count (direction?: SessionDirection): number {
    return this.list().filter(s => direction == null || s.direction === direction).length
  }

  isHandshaking (peer: PeerId): boolean {
    return this.handshaking.has(peer)
  }

  handshakes (): HandshakeInFlight[] {
    return [...this.handshaking].map(peerId => ({ peerId, connectionId: `handshake-${peerId.toString()}`, direction: 'inbound' }))
  }

  bans (): Map<string, number> {
    // the dial plan compares expiries with its own clock
    return new Map(this.banned)
  }

  limits (): SessionLimits {
    return this.sessionLimits
  }

  setReserved (peers: PeerId[]): void {
    this.reserved = new Set(peers.map(String))
  }

  isReserved (peer: PeerId): boolean {
    return this.reserved.has(peer.toString())
  }

  banExpiry (target: PeerId | string): number | undefined {
    return this.banned.get(target.toString())
  }

  async disconnect (peer: PeerId, reason: ReasonCode = ReasonCode.DISCONNECT_REQUESTED, _options?: AbortOptions): Promise<void> {
    this.disconnected.push({ peerId: peer, reason })
    this.close(peer, reason)
  }

  /** a session opens, announced with `session:open` */
  open (peer: PeerId, init: { direction?: SessionDirection, did?: string, since?: number, remoteAddr?: Multiaddr } = {}): Session {
    const direction = init.direction ?? 'outbound'
    const connection = {
      id: `connection-${peer.toString()}`,
      remotePeer: peer,
      direction,
      remoteAddr: init.remoteAddr ?? multiaddr('/ip4/127.0.0.1/tcp/4001')
    } as unknown as Connection
    const session: Session = {
      peerId: peer,
      did: init.did ?? `did:key:z6Mk${peer.toString().slice(-8)}`,
      direction,
      connection,
      chainVersion: '0.1.0',
      extra: new Uint8Array(),
      since: init.since ?? 0,
      signal: new AbortController().signal,
      state: new Map()
    }
    this.sessions.set(peer, session)
    this.safeDispatchEvent('session:open', { detail: session })
    return session
  }

  /** the session with `peer` ends, announced with `session:close`; `side` says who ended it */
  close (peer: PeerId, reason: ReasonCode, side: RejectSide = 'local'): void {
    const session = this.sessions.get(peer)
    if (session == null) {
      return
    }
    this.sessions.delete(peer)
    this.safeDispatchEvent('session:close', { detail: { session, reason, side } })
  }
}

interface PendingConnect {
  resolve(session: Session): void
  reject(err: unknown): void
}

/**
 * A handshake service whose connect() waits until the test settles it:
 * `succeed` opens a session (as the handshake would), `fail` rejects. An
 * aborted signal rejects it, as a real dial would end.
 */
export class FakeHandshake implements Pick<DialManagerComponents['handshake'], 'connect'> {
  /** every connect() call, in order */
  readonly calls: Array<{ peerId: PeerId, expectedDid?: string }> = []
  private readonly pending = new PeerMap<PendingConnect>()
  private readonly sessions: FakeSessions

  constructor (sessions: FakeSessions) {
    this.sessions = sessions
  }

  async connect (target: PeerId | Multiaddr | Multiaddr[], options: AbortOptions & { expectedDid?: string } = {}): Promise<Session> {
    if (!isPeerId(target)) {
      throw new TypeError('the fake handshake connects to peer ids only')
    }
    this.calls.push({ peerId: target, expectedDid: options.expectedDid })
    return new Promise<Session>((resolve, reject) => {
      this.pending.set(target, { resolve, reject })
      options.signal?.addEventListener('abort', () => {
        this.pending.delete(target)
        reject(options.signal?.reason)
      }, { once: true })
    })
  }

  /** peers with a connect() in flight */
  waiting (): PeerId[] {
    return [...this.pending.keys()]
  }

  succeed (peer: PeerId, did?: string): Session {
    const pending = this.take(peer)
    const session = this.sessions.open(peer, { direction: 'outbound', did })
    pending.resolve(session)
    return session
  }

  fail (peer: PeerId, err: unknown): void {
    this.take(peer).reject(err)
  }

  private take (peer: PeerId): PendingConnect {
    const pending = this.pending.get(peer)
    if (pending == null) {
      throw new Error(`no connect() in flight to ${peer.toString()}`)
    }
    this.pending.delete(peer)
    return pending
  }
}

function isPeerId (target: PeerId | Multiaddr | Multiaddr[]): target is PeerId {
  return !Array.isArray(target) && 'toMultihash' in target
}
