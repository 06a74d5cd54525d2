import { serviceCapabilities } from '@libp2p/interface'
import { PeerMap, PeerSet } from '@libp2p/peer-collections'
import { TypedEventEmitter } from 'main-event'
import { raceSignal } from 'race-signal'
import { compare as uint8ArrayCompare } from 'uint8arrays/compare'
import { HandshakeError, HandshakeStage } from '../handshake/errors.js'
import { ReasonCode } from '../reason/index.js'
import { endOnRemoteClose } from '../stream/index.js'
import { BanList } from './ban-list.js'
import { DEFAULT_BAN_DURATION_MS, DEFAULT_MAX_INBOUND_SESSIONS, INBOUND_BURST_FRACTION, DEFAULT_MAX_OUTBOUND_SESSIONS, SESSION_TAG, SESSION_TAG_VALUE } from './constants.js'
import { NoSessionError } from './errors.js'
import type { HandshakeAttempt, Session, SessionDirection, SessionLimits, WaitForSessionOptions, SessionEvents, SessionManagerComponents, SessionManagerInit, SessionRejectDetail, Sessions } from './index.js'
import type { Hello } from '../handshake/pb/handshake.js'
import type { HandshakeRole } from '../handshake/transcript.js'
import type { AbortOptions, Connection, Logger, PeerId, Startable, Stream, StreamHandler, StreamHandlerOptions } from '@libp2p/interface'

interface Attempt extends HandshakeAttempt {
  readonly controller: AbortController
}

/** Inbound sessions admitted beyond the inbound limit until the dial manager's next tick sheds them */
export function defaultInboundBurst (maxInbound: number): number {
  return Math.ceil(maxInbound * INBOUND_BURST_FRACTION)
}

function directionOf (role: HandshakeRole): SessionDirection {
  return role === 'initiator' ? 'outbound' : 'inbound'
}

/**
 * The single source of truth for "is this peer a session?". It owns the state
 * of every peer (handshaking → session | rejected → closed) and is the only
 * thing that answers "may this gated stream run?", for inbound streams (each
 * gated handler is wrapped when it is registered) and outbound ones.
 */
export class SessionManager extends TypedEventEmitter<SessionEvents> implements Sessions, Startable {
  readonly [Symbol.toStringTag] = '@peergate/sessions'
  readonly [serviceCapabilities]: string[] = ['@peergate/sessions']

  private readonly components: SessionManagerComponents
  private readonly log: Logger
  private readonly maxInbound: number
  private readonly maxOutbound: number
  private readonly inboundBurst: number
  private readonly reserved = new PeerSet()
  private readonly now: () => number
  private readonly bans: BanList
  private readonly sessions = new PeerMap<Session>()
  private readonly attempts = new PeerMap<Set<Attempt>>()
  private readonly waiters = new PeerMap<Array<() => void>>()
  private readonly gatedProtocols = new Set<string>()

  constructor (components: SessionManagerComponents, init: SessionManagerInit = {}) {
    super()
    this.components = components
    this.log = components.logger.forComponent('peergate:session')
    this.maxInbound = init.maxInboundSessions ?? DEFAULT_MAX_INBOUND_SESSIONS
    this.maxOutbound = init.maxOutboundSessions ?? DEFAULT_MAX_OUTBOUND_SESSIONS
    this.inboundBurst = init.inboundBurst ?? defaultInboundBurst(this.maxInbound)
    this.now = init.now ?? Date.now
    this.bans = new BanList(this.now, components.datastore, this.log.newScope('bans'))
    if (!(this.maxInbound >= 0) || !(this.maxOutbound >= 0) || !(this.inboundBurst >= 0)) {
      throw new RangeError('maxInboundSessions, maxOutboundSessions and inboundBurst must be numbers >= 0')
    }
    this.onConnectionClose = this.onConnectionClose.bind(this)
  }

  async start (): Promise<void> {
    await this.bans.load()
    this.components.events.addEventListener('connection:close', this.onConnectionClose)
  }

  stop (): void {
    this.components.events.removeEventListener('connection:close', this.onConnectionClose)
    for (const session of [...this.sessions.values()]) {
      this.endSession(session, ReasonCode.SHUTDOWN)
    }
    for (const attempts of this.attempts.values()) {
      for (const attempt of attempts) {
        attempt.controller.abort(new HandshakeError(ReasonCode.SHUTDOWN, 'node is stopping', 'local'))
      }
    }
  }

  get (peer: PeerId): Session | undefined {
    return this.sessions.get(peer)
  }

  list (): Session[] {
    return [...this.sessions.values()]
  }

  count (direction?: SessionDirection): number {
    if (direction == null) {
      return this.sessions.size
    }
    let n = 0
    for (const session of this.sessions.values()) {
      if (session.direction === direction) {
        n++
      }
    }
    return n
  }

  limits (): SessionLimits {
    return { maxInbound: this.maxInbound, maxOutbound: this.maxOutbound, inboundBurst: this.inboundBurst }
  }

  setReserved (peers: PeerId[]): void {
    this.reserved.clear()
    for (const peer of peers) {
      this.reserved.add(peer)
    }
  }

  isReserved (peer: PeerId): boolean {
    return this.reserved.has(peer)
  }

  isHandshaking (peer: PeerId): boolean {
    return (this.attempts.get(peer)?.size ?? 0) > 0
  }

  handshakingConnections (): Set<string> {
    const ids = new Set<string>()
    for (const attempts of this.attempts.values()) {
      for (const attempt of attempts) {
        ids.add(attempt.connection.id)
      }
    }
    return ids
  }

  // ---- handshake bookkeeping (called by the handshake service) ----

  beginHandshake (connection: Connection, role: HandshakeRole): HandshakeAttempt {
    const peer = connection.remotePeer
    const reject = (reason: ReasonCode, message: string): never => {
      throw new HandshakeError(reason, message, 'local', HandshakeStage.Admission)
    }

    if (this.bans.isBanned(peer.toString())) {
      reject(ReasonCode.BANNED, 'peer id is banned')
    }
    if (this.sessions.has(peer)) {
      reject(ReasonCode.DUPLICATE, 'peer already has a session')
    }

    const controller = new AbortController()
    const attempt: Attempt = { connection, peerId: peer, role, controller, signal: controller.signal }

    const existing = this.attempts.get(peer) ?? new Set<Attempt>()
    for (const other of existing) {
      if (this.prefer(other, attempt) === other) {
        reject(ReasonCode.DUPLICATE, 'a simultaneous handshake with this peer wins')
      }
    }

    const full = this.limitReached(directionOf(role), peer)
    if (full != null) {
      reject(ReasonCode.TOO_MANY_PEERS, full)
    }

    for (const other of existing) {
      other.controller.abort(new HandshakeError(ReasonCode.DUPLICATE, 'a simultaneous handshake with this peer wins', 'local'))
    }
    existing.add(attempt)
    this.attempts.set(peer, existing)
    this.notify(peer)
    this.safeDispatchEvent('session:handshake', { detail: { peerId: peer, connectionId: connection.id, direction: directionOf(role) } })
    return attempt
  }

  admitRemote (attempt: HandshakeAttempt, remote: Hello): void {
    if (this.bans.isBanned(remote.did)) {
      // a DID's ban covers every peer id seen with it
      this.bans.extend(attempt.peerId.toString(), remote.did).catch(err => {
        this.log.error('could not extend the ban of a DID to %p - %e', attempt.peerId, err)
      })
      throw new HandshakeError(ReasonCode.BANNED, 'DID is banned', 'local')
    }
    for (const session of this.sessions.values()) {
      if (session.did === remote.did && !session.peerId.equals(attempt.peerId)) {
        throw new HandshakeError(ReasonCode.DUPLICATE, 'DID already has a session with another peer id', 'local')
      }
    }
  }

  completeHandshake (attempt: HandshakeAttempt, remote: Hello): Session {
    const own = attempt as Attempt
    if (own.signal.aborted) {
      throw own.signal.reason
    }
    if (attempt.connection.status !== 'open') {
      // its connection:close has passed already; a session now would never end
      throw new HandshakeError(ReasonCode.CONNECTION_CLOSED, 'connection closed before the session opened', 'remote', HandshakeStage.Commit)
    }
    this.admitRemote(attempt, remote)
    if (this.sessions.has(attempt.peerId)) {
      throw new HandshakeError(ReasonCode.DUPLICATE, 'peer already has a session', 'local', HandshakeStage.Commit)
    }
    // inbound handshakes hold no slot while in flight: the limit is checked
    // again now that this one has earned a session
    const full = attempt.role === 'responder' ? this.limitReached('inbound', attempt.peerId) : undefined
    if (full != null) {
      throw new HandshakeError(ReasonCode.TOO_MANY_PEERS, full, 'local', HandshakeStage.Commit)
    }
    this.forget(own)

    const session: Session = {
      peerId: attempt.peerId,
      did: remote.did,
      direction: directionOf(attempt.role),
      connection: attempt.connection,
      chainVersion: remote.chainVersion,
      head: remote.head,
      extra: remote.extra,
      since: this.now()
    }
    this.sessions.set(session.peerId, session)
    this.log('session open with %p (%s, %s)', session.peerId, session.direction, session.did)
    this.safeDispatchEvent('session:open', { detail: session })
    this.notify(session.peerId)
    this.tag(session.peerId, true)
    return session
  }

  failHandshake (attempt: HandshakeAttempt | undefined, connection: Connection, role: HandshakeRole, err: HandshakeError): void {
    if (attempt != null) {
      this.forget(attempt as Attempt)
    }
    const detail: SessionRejectDetail = {
      peerId: connection.remotePeer,
      connectionId: connection.id,
      direction: directionOf(role),
      reason: err.reason,
      side: err.side,
      message: err.message
    }
    this.log('handshake with %p failed, %s rejected with %s: %s', detail.peerId, detail.side, detail.reason, detail.message)
    this.safeDispatchEvent('session:reject', { detail })
    this.notify(connection.remotePeer)
  }

  // ---- the gate ----

  isGated (protocol: string): boolean {
    return this.gatedProtocols.has(protocol)
  }

  async handle (protocol: string, handler: StreamHandler, options?: StreamHandlerOptions): Promise<void> {
    await this.components.registrar.handle(protocol, this.gate(protocol, handler), options)
    this.gatedProtocols.add(protocol)
  }

  async unhandle (protocol: string, options?: AbortOptions): Promise<void> {
    this.gatedProtocols.delete(protocol)
    await this.components.registrar.unhandle(protocol, options)
  }

  /**
   * Wraps a handler so that it only ever sees streams from session peers. A
   * stream from a peer whose handshake is in flight is held until the
   * handshake ends (at most the handshake timeout).
   */
  gate (protocol: string, handler: StreamHandler): StreamHandler {
    return async (stream, connection) => {
      // the common case, a session peer, costs no timer
      // otherwise held while a handshake is in flight: it ends, at the
      // latest, at the handshake deadline
      const session = this.sessions.get(connection.remotePeer) ??
        await this.waitForSession(connection.remotePeer)
      if (session == null) {
        this.log('refusing inbound %s stream from %p: no session', protocol, connection.remotePeer)
        stream.abort(new NoSessionError(`no session for inbound ${protocol} stream`))
        return
      }
      await handler(endOnRemoteClose(stream), connection)
    }
  }

  async openStream (peer: PeerId, protocol: string | string[], options: AbortOptions = {}): Promise<Stream> {
    const session = await this.waitForSession(peer, options)
    if (session == null) {
      throw new NoSessionError(`no session with ${peer.toString()}`)
    }
    return endOnRemoteClose(await session.connection.newStream(protocol, options))
  }

  /**
   * The session with `peer`, waiting while a handshake with it is in flight;
   * undefined when there is none and none is under way
   */
  async waitForSession (peer: PeerId, options: WaitForSessionOptions = {}): Promise<Session | undefined> {
    while (true) {
      const session = this.sessions.get(peer)
      if (session != null || (!this.isHandshaking(peer) && options.expectHandshake !== true)) {
        return session
      }
      try {
        await raceSignal(new Promise<void>(resolve => {
          const list = this.waiters.get(peer) ?? []
          list.push(resolve)
          this.waiters.set(peer, list)
        }), options.signal)
      } catch (err) {
        if (options.expectHandshake === true) {
          return this.sessions.get(peer)
        }
        throw err
      }
    }
  }

  connectionInUse (connection: Connection): boolean {
    if (this.sessions.get(connection.remotePeer)?.connection.id === connection.id) {
      return true
    }
    for (const attempt of this.attempts.get(connection.remotePeer) ?? []) {
      if (attempt.connection.id === connection.id) {
        return true
      }
    }
    return false
  }

  // ---- ending sessions, bans ----

  async disconnect (peer: PeerId, reason: ReasonCode = ReasonCode.DISCONNECT_REQUESTED, options?: AbortOptions): Promise<void> {
    const session = this.sessions.get(peer)
    if (session == null) {
      return
    }
    this.endSession(session, reason)
    await session.connection.close(options).catch(err => {
      session.connection.abort(err)
    })
  }

  async ban (target: PeerId | string, durationMs: number = DEFAULT_BAN_DURATION_MS): Promise<void> {
    const key = target.toString()
    if (!(durationMs > 0)) {
      throw new RangeError(`a ban lasts a positive number of ms, got ${durationMs}`)
    }
    await this.bans.ban(key, durationMs)
    this.log('banned %s for %d ms', key, durationMs)
    for (const session of this.list()) {
      const peer = session.peerId.toString()
      if (peer === key || session.did === key) {
        // the ban covers the session's other half too: its DID, or its peer id
        await this.bans.extend(peer === key ? session.did : peer, key)
        await this.disconnect(session.peerId, ReasonCode.BANNED)
      }
    }
  }

  async unban (target: PeerId | string): Promise<void> {
    await this.bans.unban(target.toString())
  }

  banExpiry (target: PeerId | string): number | undefined {
    return this.bans.expiresAt(target.toString())
  }

  // ---- internals ----

  private onConnectionClose (evt: CustomEvent<Connection>): void {
    const connection = evt.detail
    const session = this.sessions.get(connection.remotePeer)
    if (session?.connection.id === connection.id) {
      this.endSession(session, ReasonCode.CONNECTION_CLOSED)
    }
    // a handshake on this connection sees its stream end and fails by itself,
    // after reading whatever reject the remote sent before hanging up
  }

  private endSession (session: Session, reason: ReasonCode): void {
    if (this.sessions.get(session.peerId) !== session) {
      return
    }
    this.sessions.delete(session.peerId)
    this.log('session with %p closed: %s', session.peerId, reason)
    this.safeDispatchEvent('session:close', { detail: { session, reason } })
    this.notify(session.peerId)
    this.tag(session.peerId, false)
  }

  /**
   * Why a new session of `direction` with `peer` would exceed its limit, if it
   * would. Reserved peers are outside the limits, and not counted. Outbound
   * also counts this node's own handshakes in flight (peers it selected,
   * which the dial manager budgets); inbound never counts a handshake: a
   * handshake that has proven nothing holds no slot.
   */
  private limitReached (direction: SessionDirection, peer: PeerId): string | undefined {
    if (this.reserved.has(peer)) {
      return undefined
    }
    let n = 0
    for (const session of this.sessions.values()) {
      if (session.direction === direction && !this.reserved.has(session.peerId)) {
        n++
      }
    }
    if (direction === 'inbound') {
      return n >= this.maxInbound + this.inboundBurst ? `inbound session limit ${this.maxInbound} (+${this.inboundBurst}) reached` : undefined
    }
    for (const attempts of this.attempts.values()) {
      for (const attempt of attempts) {
        if (attempt.role === 'initiator' && !this.reserved.has(attempt.peerId)) {
          n++
        }
      }
    }
    return n >= this.maxOutbound ? `outbound session limit ${this.maxOutbound} reached` : undefined
  }

  /**
   * Of two handshakes with one peer on two connections, the one whose
   * initiator has the lower peer id wins; both sides compute the same answer.
   * Two from the same initiator: the older one wins.
   */
  private prefer (existing: Attempt, incoming: Attempt): Attempt {
    const initiatorOf = (a: Attempt): Uint8Array =>
      (a.role === 'initiator' ? this.components.peerId : a.peerId).toMultihash().bytes
    return uint8ArrayCompare(initiatorOf(incoming), initiatorOf(existing)) < 0 ? incoming : existing
  }

  private forget (attempt: Attempt): void {
    const set = this.attempts.get(attempt.peerId)
    if (set == null) {
      return
    }
    set.delete(attempt)
    if (set.size === 0) {
      this.attempts.delete(attempt.peerId)
    }
  }

  private notify (peer: PeerId): void {
    const list = this.waiters.get(peer)
    if (list == null) {
      return
    }
    this.waiters.delete(peer)
    for (const resolve of list) {
      resolve()
    }
  }

  private tag (peer: PeerId, on: boolean): void {
    this.components.peerStore.merge(peer, {
      tags: { [SESSION_TAG]: on ? { value: SESSION_TAG_VALUE } : undefined }
    }).catch(err => {
      this.log.error('could not %s session tag of %p - %e', on ? 'set' : 'remove', peer, err)
    })
  }
}
