import { InvalidParametersError, serviceCapabilities } from '@libp2p/interface'
import { PeerMap, PeerSet } from '@libp2p/peer-collections'
import { TypedEventEmitter } from 'main-event'
import { anySignal } from 'any-signal'
import { raceSignal } from 'race-signal'
import { equals as uint8ArrayEquals } from 'uint8arrays/equals'
import { ReasonCode, isAppCode } from '../reason/index.js'
import { endOnRemoteClose } from '../stream/index.js'
import { registerAdmission } from './admission.js'
import { BanList } from './ban-list.js'
import { GOODBYE_PROTOCOL, GOODBYE_TIMEOUT_MS, MAX_GOODBYE_STREAMS, DEFAULT_BAN_DURATION_MS, DEFAULT_MAX_INBOUND_SESSIONS, DEFAULT_MAX_INBOUND_SESSIONS_PER_IP, INBOUND_BURST_FRACTION, DEFAULT_MAX_OUTBOUND_SESSIONS, SESSION_TAG, SESSION_TAG_VALUE } from './constants.js'
import { AttemptEndedError, NoSessionError, SessionEndedError } from './errors.js'
import { readGoodbye, sendGoodbye, type Parting } from './goodbye.js'
import { hangUp } from './hang-up.js'
import { whenWritesRecover } from '../storage/index.js'
import { IpRanges, sourceGroup, sourceIp } from './ip-limit.js'
import { beginVerdict, commitVerdict, incomingWins, limitReached, remoteVerdict, sourceLimitReached } from './rules.js'
import type { Attempt, Failure, RemoteStatus, Verdict } from './admission.js'
import { PeerAction } from './index.js'
import type { AdmissionScore, DisconnectOptions, HandshakeInFlight, RejectSide, RemoteInfo, Session, SessionStreamHandler, SessionDirection, SessionLimits, SessionEvents, SessionManagerComponents, SessionManagerInit, SessionRejectDetail, Sessions } from './index.js'
import type { Rejection, RemoteFacts, SlotCounts } from './rules.js'
import type { ChainHead } from '../chain/index.js'
import type { AbortOptions, Connection, Logger, NewStreamOptions, PeerId, Startable, Stream, StreamHandler, StreamHandlerOptions } from '@libp2p/interface'

interface TrackedAttempt extends Attempt {
  readonly controller: AbortController
}

/**
 * Inbound sessions admitted beyond the inbound limit until the dial manager's
 * next tick sheds them: INBOUND_BURST_FRACTION of it, rounded up to a whole
 * session (docs/PROTOCOL.md §8.1; exact for every limit up to
 * MAX_SESSIONS_LIMIT, test/session/burst.test.ts)
 */
export function defaultInboundBurst (maxInbound: number): number {
  return Math.ceil(maxInbound * INBOUND_BURST_FRACTION)
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
  private readonly maxInboundPerIp: number
  private readonly ipLimitExempt: IpRanges
  private readonly reserved = new PeerSet()
  private readonly now: () => number
  private readonly banList: BanList
  private readonly sessions = new PeerMap<Session>()
  /** the inbound sessions by source group (sourceGroup: an IPv4 address, an IPv6 /64), for the limit per source IP */
  private readonly inboundBySource = new Map<string, Set<Session>>()
  /** the sessions by their DID, for DUPLICATE (a DID in a session under another peer id) */
  private readonly byDid = new Map<string, Set<Session>>()
  /** the sessions by direction, reserved peers' included, for the limits */
  private readonly openCounts: Record<SessionDirection, number> = { inbound: 0, outbound: 0 }
  private readonly attempts = new PeerMap<Set<TrackedAttempt>>()
  private readonly waiters = new PeerMap<Array<() => void>>()
  private readonly gatedProtocols = new Set<string>()
  /** what aborts each session's signal when it ends */
  private readonly ended = new WeakMap<Session, AbortController>()
  /** unsubscribes from the datastore's recovery */
  private stopRecovery: () => void = () => {}
  /** connections whose session ended, being hung up (by either side), until they close */
  private readonly partingConnections = new Set<string>()

  constructor (components: SessionManagerComponents, init: SessionManagerInit = {}) {
    super()
    this.components = components
    this.log = components.logger.forComponent('peergate:session')
    this.maxInbound = init.maxInboundSessions ?? DEFAULT_MAX_INBOUND_SESSIONS
    this.maxOutbound = init.maxOutboundSessions ?? DEFAULT_MAX_OUTBOUND_SESSIONS
    this.inboundBurst = init.inboundBurst ?? defaultInboundBurst(this.maxInbound)
    this.maxInboundPerIp = init.maxInboundSessionsPerIp ?? DEFAULT_MAX_INBOUND_SESSIONS_PER_IP
    this.ipLimitExempt = new IpRanges(init.ipLimitExempt)
    this.now = init.now ?? Date.now
    this.banList = new BanList(this.now, components.datastore, this.log.newScope('bans'), {
      banned: (target, until) => { this.safeDispatchEvent('ban:add', { detail: { target, until } }) },
      lifted: (targets) => { this.safeDispatchEvent('ban:remove', { detail: { targets } }) }
    })
    if (!(this.maxInbound >= 0) || !(this.maxOutbound >= 0) || !(this.inboundBurst >= 0)) {
      throw new InvalidParametersError('maxInboundSessions, maxOutboundSessions and inboundBurst must be numbers >= 0')
    }
    if (!(this.maxInboundPerIp >= 1)) {
      throw new InvalidParametersError(`maxInboundSessionsPerIp must be a number >= 1, got ${this.maxInboundPerIp}`)
    }
    this.onConnectionClose = this.onConnectionClose.bind(this)
    this.onGoodbye = this.onGoodbye.bind(this)
    registerAdmission(this, {
      begin: this.#begin.bind(this),
      checkRemote: this.#checkRemote.bind(this),
      open: this.#open.bind(this),
      fail: this.#fail.bind(this),
      nextSession: this.#nextSession.bind(this),
      updateStatus: this.#updateStatus.bind(this),
      parting: (connection) => this.partingConnections.has(connection.id)
    })
  }

  async start (): Promise<void> {
    await this.banList.load()
    // bans set while writes failed are written once they work again
    this.stopRecovery = whenWritesRecover(this.components.datastore, () => { void this.saveUnsavedBans() })
    this.components.events.addEventListener('connection:close', this.onConnectionClose)
    await this.components.registrar.handle(GOODBYE_PROTOCOL, this.onGoodbye, {
      maxInboundStreams: MAX_GOODBYE_STREAMS,
      maxOutboundStreams: MAX_GOODBYE_STREAMS
    })
  }

  /**
   * Ends every session (SHUTDOWN) and handshake while their connections are
   * still open, so that listeners see the sessions end before the
   * connections go, and every session peer gets a Goodbye (within
   * GOODBYE_TIMEOUT_MS in all)
   */
  async beforeStop (): Promise<void> {
    for (const attempts of this.attempts.values()) {
      for (const attempt of attempts) {
        attempt.controller.abort(new AttemptEndedError({ reason: ReasonCode.SHUTDOWN, message: 'node is stopping' }))
      }
    }
    const parting: Parting = { reason: ReasonCode.SHUTDOWN }
    const ending = [...this.sessions.values()].filter(session => this.endSession(session, parting, 'local'))
    const signal = AbortSignal.timeout(GOODBYE_TIMEOUT_MS)
    await Promise.allSettled(ending.map(async session => this.goodbye(session.connection, parting, signal)))
  }

  async stop (): Promise<void> {
    this.stopRecovery()
    this.components.events.removeEventListener('connection:close', this.onConnectionClose)
    await this.components.registrar.unhandle(GOODBYE_PROTOCOL)
    // a last try for the bans that could not be written
    await this.saveUnsavedBans()
  }

  private async saveUnsavedBans (): Promise<void> {
    await this.banList.saveUnsaved().catch(err => { this.log.error('could not write the bans kept unsaved - %e', err) })
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
    return {
      maxInbound: this.maxInbound,
      maxOutbound: this.maxOutbound,
      inboundBurst: this.inboundBurst,
      maxInboundPerIp: this.maxInboundPerIp,
      ipLimitExempt: [...this.ipLimitExempt.list]
    }
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

  handshakes (): HandshakeInFlight[] {
    const list: HandshakeInFlight[] = []
    for (const attempts of this.attempts.values()) {
      for (const attempt of attempts) {
        list.push({ peerId: attempt.peerId, connectionId: attempt.connection.id, direction: attempt.direction })
      }
    }
    return list
  }

  // ---- admission: the port only the handshake service holds (admission.ts) ----

  #begin (connection: Connection, direction: SessionDirection): Verdict<Attempt> {
    const peer = connection.remotePeer
    const existing = this.attempts.get(peer) ?? new Set<TrackedAttempt>()
    const incoming = this.initiatorOf(peer, direction)
    const rejection = beginVerdict({
      peerBanned: this.banList.isBanned(peer.toString()),
      lowScore: this.isReserved(peer) ? undefined : this.score()?.admissionRefusal(peer),
      hasSession: this.sessions.has(peer),
      losesToExisting: [...existing].some(other => !incomingWins(this.initiatorOf(peer, other.direction), incoming)),
      full: this.slotsFull(direction, peer),
      sourceFull: direction === 'inbound' ? this.sourceFull(connection) : undefined
    })
    if (rejection != null) {
      return { rejected: rejection }
    }

    for (const other of existing) {
      other.controller.abort(new AttemptEndedError({ reason: ReasonCode.DUPLICATE, message: 'a simultaneous handshake with this peer wins' }))
    }
    const controller = new AbortController()
    const attempt: TrackedAttempt = { connection, peerId: peer, direction, controller, signal: controller.signal }
    existing.add(attempt)
    this.attempts.set(peer, existing)
    this.notify(peer)
    this.safeDispatchEvent('handshake:start', { detail: { peerId: peer, connectionId: connection.id, direction } })
    return { admitted: attempt }
  }

  #checkRemote (attempt: Attempt, did: string): Rejection | undefined {
    const rejection = remoteVerdict(this.remoteFacts(attempt.peerId, did))
    this.extendDidBan(attempt, did, rejection)
    return rejection
  }

  #open (attempt: Attempt, remote: RemoteInfo): Verdict<Session> {
    const own = attempt as TrackedAttempt
    if (own.signal.aborted) {
      return { rejected: own.signal.reason.rejection }
    }
    const rejection = commitVerdict({
      connectionOpen: attempt.connection.status === 'open',
      ...this.remoteFacts(attempt.peerId, remote.did),
      hasSession: this.sessions.has(attempt.peerId),
      // inbound handshakes hold no slot while in flight: the limit is checked
      // again now that this one has earned a session
      full: attempt.direction === 'inbound' ? this.slotsFull('inbound', attempt.peerId) : undefined,
      sourceFull: attempt.direction === 'inbound' ? this.sourceFull(attempt.connection) : undefined
    })
    if (rejection != null) {
      this.extendDidBan(attempt, remote.did, rejection)
      return { rejected: rejection }
    }
    this.forget(own)

    const ended = new AbortController()
    const session: Session = {
      peerId: attempt.peerId,
      did: remote.did,
      direction: attempt.direction,
      connection: attempt.connection,
      chainVersion: remote.chainVersion,
      head: remote.head,
      extra: remote.extra,
      since: this.now(),
      signal: ended.signal,
      state: new Map()
    }
    this.ended.set(session, ended)
    this.sessions.set(session.peerId, session)
    this.index(session, true)
    this.log('session open with %p (%s, %s)', session.peerId, session.direction, session.did)
    this.safeDispatchEvent('session:open', { detail: session })
    this.notify(session.peerId)
    this.tag(session.peerId, true)
    return { admitted: session }
  }

  #fail (attempt: Attempt | undefined, connection: Connection, direction: SessionDirection, failure: Failure): void {
    if (attempt != null) {
      this.forget(attempt as TrackedAttempt)
    }
    const detail: SessionRejectDetail = {
      peerId: connection.remotePeer,
      connectionId: connection.id,
      direction,
      reason: failure.reason,
      side: failure.side,
      message: failure.message,
      appCode: failure.appCode,
      remote: failure.remote
    }
    this.log('handshake with %p failed, %s rejected with %s: %s', detail.peerId, detail.side, detail.reason, detail.message)
    this.safeDispatchEvent('session:reject', { detail })
    this.notify(connection.remotePeer)
  }

  async #nextSession (peer: PeerId, options: Required<AbortOptions>): Promise<Session | undefined> {
    try {
      return await this.sessionOnceSettled(peer, options.signal, () => true)
    } catch {
      return this.sessions.get(peer)
    }
  }

  #updateStatus (peer: PeerId, status: RemoteStatus): Session | undefined {
    const session = this.sessions.get(peer)
    if (session == null) {
      return undefined
    }
    const previousHead = session.head
    if (sameHead(previousHead, status.head) && uint8ArrayEquals(session.extra, status.extra)) {
      return session
    }
    session.head = status.head
    session.extra = status.extra
    this.log.trace('status of %p: head %s', peer, status.head?.height ?? 'none')
    this.safeDispatchEvent('session:status', { detail: { session, previousHead } })
    return session
  }

  private remoteFacts (peer: PeerId, did: string): RemoteFacts {
    let didInUse = false
    for (const session of this.byDid.get(did) ?? []) {
      if (!session.peerId.equals(peer)) {
        didInUse = true
      }
    }
    return { didBanned: this.banList.isBanned(did), didInUse }
  }

  /** A banned DID's ban covers every peer id seen presenting it */
  private extendDidBan (attempt: Attempt, did: string, rejection: Rejection | undefined): void {
    if (rejection?.reason !== ReasonCode.BANNED) {
      return
    }
    this.banList.extend(attempt.peerId.toString(), did).catch(err => {
      this.log.error('could not extend the ban of a DID to %p - %e', attempt.peerId, err)
    })
  }

  // ---- the gate ----

  isGated (protocol: string): boolean {
    return this.gatedProtocols.has(protocol)
  }

  async handle (protocol: string, handler: SessionStreamHandler, options?: StreamHandlerOptions): Promise<void> {
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
  gate (protocol: string, handler: SessionStreamHandler): StreamHandler {
    return async (stream, connection) => {
      // the common case, a session peer, costs no timer
      // otherwise held while a handshake is in flight: it ends, at the
      // latest, at the handshake deadline
      const session = this.sessions.get(connection.remotePeer) ??
        await this.waitForSession(connection.remotePeer)
      if (session == null) {
        this.log('refusing inbound %s stream from %p: no session', protocol, connection.remotePeer)
        stream.abort(new NoSessionError(`no session for inbound ${protocol} stream`))
        this.safeDispatchEvent('stream:refuse', { detail: { peerId: connection.remotePeer, protocol, direction: 'inbound' } })
        return
      }
      await handler(endOnRemoteClose(stream), connection, session)
    }
  }

  async openStream (peer: PeerId, protocol: string | string[], options: NewStreamOptions = {}): Promise<Stream> {
    const session = await this.waitForSession(peer, options)
    if (session == null) {
      const protocols = Array.isArray(protocol) ? protocol : [protocol]
      this.safeDispatchEvent('stream:refuse', { detail: { peerId: peer, protocol: protocols.join(','), direction: 'outbound' } })
      throw new NoSessionError(`no session with ${peer.toString()}`)
    }
    return endOnRemoteClose(await session.connection.newStream(protocol, options))
  }

  async waitForSession (peer: PeerId, options: AbortOptions = {}): Promise<Session | undefined> {
    return this.sessionOnceSettled(peer, options.signal, () => this.isHandshaking(peer))
  }

  /**
   * The session with `peer` once it exists, or undefined as soon as
   * `waiting()` says there is nothing left to wait for; rejects when `signal`
   * aborts
   */
  private async sessionOnceSettled (peer: PeerId, signal: AbortSignal | undefined, waiting: () => boolean): Promise<Session | undefined> {
    while (true) {
      const session = this.sessions.get(peer)
      if (session != null || !waiting()) {
        return session
      }
      await this.changeOf(peer, signal)
    }
  }

  /** Resolves at the next change of `peer`'s state (a handshake begins or ends, a session opens or closes) */
  private async changeOf (peer: PeerId, signal?: AbortSignal): Promise<void> {
    let waiter: (() => void) | undefined
    try {
      await raceSignal(new Promise<void>(resolve => {
        waiter = resolve
        const list = this.waiters.get(peer) ?? []
        list.push(resolve)
        this.waiters.set(peer, list)
      }), signal)
    } finally {
      // a wait given up (its signal aborted) leaves no waiter behind
      const list = this.waiters.get(peer)
      const at = waiter == null ? -1 : list?.indexOf(waiter) ?? -1
      if (list != null && at >= 0) {
        list.splice(at, 1)
        if (list.length === 0) {
          this.waiters.delete(peer)
        }
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

  async disconnect (peer: PeerId, reason: ReasonCode = ReasonCode.DISCONNECT_REQUESTED, options: DisconnectOptions = {}): Promise<void> {
    const session = this.sessions.get(peer)
    if (session == null) {
      return
    }
    const parting: Parting = { reason, appCode: options.appCode, detail: options.detail }
    if (options.appCode != null && !isAppCode(options.appCode)) {
      throw new InvalidParametersError(`an app code is a whole number from 0 to 2^32 - 1, got ${options.appCode}`)
    }
    if (this.endSession(session, parting, 'local')) {
      await this.goodbye(session.connection, parting, options.signal)
    }
  }

  async ban (target: PeerId | string, durationMs: number = DEFAULT_BAN_DURATION_MS): Promise<void> {
    const key = target.toString()
    if (!(durationMs > 0)) {
      throw new InvalidParametersError(`a ban lasts a positive number of ms, got ${durationMs}`)
    }
    await this.banList.ban(key, durationMs)
    this.log('banned %s for %d ms', key, durationMs)
    for (const session of this.list()) {
      const peer = session.peerId.toString()
      if (peer === key || session.did === key) {
        // the ban covers the session's other half too: its DID, or its peer id
        await this.banList.extend(peer === key ? session.did : peer, key)
        await this.disconnect(session.peerId, ReasonCode.BANNED)
      }
    }
  }

  reportPeer (peer: PeerId, action: PeerAction, reason: string): void {
    this.log('peer %p reported: %s (%s)', peer, reason, action)
    this.safeDispatchEvent('peer:report', { detail: { peerId: peer, action, reason } })
  }

  async unban (target: PeerId | string): Promise<void> {
    await this.banList.unban(target.toString())
  }

  banExpiry (target: PeerId | string): number | undefined {
    return this.banList.expiresAt(target.toString())
  }

  bans (): Map<string, number> {
    return this.banList.list()
  }

  // ---- internals ----

  private onConnectionClose (evt: CustomEvent<Connection>): void {
    const connection = evt.detail
    this.partingConnections.delete(connection.id)
    const session = this.sessions.get(connection.remotePeer)
    if (session?.connection.id === connection.id) {
      this.endSession(session, { reason: ReasonCode.CONNECTION_CLOSED }, 'remote')
    }
    // a handshake on this connection sees its stream end and fails by itself,
    // after reading whatever reject the remote sent before hanging up
  }

  /** Ends a session once; false when it had ended already */
  private endSession (session: Session, parting: Parting, side: RejectSide): boolean {
    if (this.sessions.get(session.peerId) !== session) {
      return false
    }
    const { reason, appCode, detail } = parting
    this.sessions.delete(session.peerId)
    this.index(session, false)
    // whoever ended it hangs up: a listener that connects again gets a new connection
    if (session.connection.status === 'open') {
      this.partingConnections.add(session.connection.id)
    }
    this.ended.get(session)?.abort(new SessionEndedError(reason))
    this.log('session with %p closed by the %s side: %s%s', session.peerId, side, reason, detail == null ? '' : ` (${detail})`)
    this.safeDispatchEvent('session:close', { detail: { session, reason, side, appCode, message: detail } })
    this.notify(session.peerId)
    this.tag(session.peerId, false)
    return true
  }

  /**
   * Says Goodbye on the session's connection and hangs up: the remote gets up
   * to GOODBYE_TIMEOUT_MS to read it and close; the connection closes after
   * that either way (bounded only by `signal`)
   */
  private async goodbye (connection: Connection, parting: Parting, signal?: AbortSignal): Promise<void> {
    const farewellSignal = anySignal([AbortSignal.timeout(GOODBYE_TIMEOUT_MS), signal])
    let stream: Stream | undefined
    try {
      stream = await sendGoodbye(connection, parting, farewellSignal)
    } catch (err) {
      this.log('could not say goodbye to %p - %e', connection.remotePeer, err)
    }
    try {
      await hangUp(connection, stream == null ? undefined : { stream, said: true, signal: farewellSignal }, this.log, { signal })
    } finally {
      farewellSignal.clear()
    }
  }

  /** The remote says why it ends the session: the session ends with its reason */
  private async onGoodbye (stream: Stream, connection: Connection): Promise<void> {
    const session = this.sessions.get(connection.remotePeer)
    if (session?.connection.id !== connection.id) {
      stream.abort(new NoSessionError('goodbye without a session'))
      return
    }
    let parting: Parting
    try {
      parting = await readGoodbye(stream)
    } catch (err: any) {
      // nothing readable (docs/PROTOCOL.md §11.1): the session ends all the
      // same, the stream is reset, and the remote is left to hang up; the
      // peer score counts it (LOW_TOLERANCE: an honest peer's Goodbye is
      // well formed, though a crash may cut one short)
      this.endSession(session, { reason: ReasonCode.CONNECTION_CLOSED, detail: err.message }, 'remote')
      this.reportPeer(session.peerId, PeerAction.LOW_TOLERANCE, 'goodbye:malformed')
      stream.abort(err)
      return
    }
    this.endSession(session, parting, 'remote')
    // the remote hangs up; closing our side tells it we read it
    await stream.close().catch(err => { stream.abort(err) })
  }

  /** Why a new session of `direction` with `peer` would exceed its limit, if it would (rules.ts) */
  private slotsFull (direction: SessionDirection, peer: PeerId): Rejection | undefined {
    // the reserved peers are few, the sessions may be thousands
    const counts: SlotCounts = { ...this.openCounts, initiating: 0 }
    for (const peer of this.reserved) {
      const session = this.sessions.get(peer)
      if (session != null) {
        counts[session.direction]--
      }
    }
    // handshakes in flight: a few dozen at most
    for (const attempts of this.attempts.values()) {
      for (const attempt of attempts) {
        if (attempt.direction === 'outbound' && !this.reserved.has(attempt.peerId)) {
          counts.initiating++
        }
      }
    }
    return limitReached(direction, this.reserved.has(peer), counts, this.limits())
  }

  /** the node's peer score, made after this service: looked up when a handshake begins */
  private score (): AdmissionScore | undefined {
    try {
      return this.components.score
    } catch {
      // libp2p's components throw for a service the node does not run
      return undefined
    }
  }

  /**
   * Why one more inbound session on `connection` would exceed the limit per
   * source IP, if it would (rules.ts): the inbound sessions from the same
   * source (IPv4 address, IPv6 /64) are counted, reserved peers' not
   */
  private sourceFull (connection: Connection): Rejection | undefined {
    const reserved = this.reserved.has(connection.remotePeer)
    const ip = sourceIp(connection.remoteAddr)
    const group = ip == null ? undefined : sourceGroup(ip)
    const exempt = ip != null && this.ipLimitExempt.contains(ip)
    let sessions = 0
    if (!reserved && !exempt && group != null) {
      for (const session of this.inboundBySource.get(group) ?? []) {
        if (!this.reserved.has(session.peerId)) {
          sessions++
        }
      }
    }
    return sourceLimitReached(reserved, { group, exempt, sessions }, this.maxInboundPerIp)
  }

  /**
   * Adds a session to (or removes it from) the counts by direction and the
   * indexes by DID and by source group, so that an admission reads the few
   * sessions it is about rather than every session (a thousand per admission
   * on a node holding a thousand)
   */
  private index (session: Session, open: boolean): void {
    this.openCounts[session.direction] += open ? 1 : -1
    indexBy(this.byDid, session.did, session, open)
    const ip = session.direction === 'inbound' ? sourceIp(session.connection.remoteAddr) : undefined
    if (ip != null) {
      indexBy(this.inboundBySource, sourceGroup(ip), session, open)
    }
  }

  /** For the tie-break: who initiated a handshake of `direction` with `peer` (multihash bytes) */
  private initiatorOf (peer: PeerId, direction: SessionDirection): Uint8Array {
    return (direction === 'outbound' ? this.components.peerId : peer).toMultihash().bytes
  }

  private forget (attempt: TrackedAttempt): void {
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

/** Two heads are the same: both absent, or equal height and hash */
function sameHead (a: ChainHead | undefined, b: ChainHead | undefined): boolean {
  if (a == null || b == null) {
    return a == null && b == null
  }
  return a.height === b.height && uint8ArrayEquals(a.hash, b.hash)
}

/** Adds `session` to (or removes it from) `index`'s set under `key`; an empty set goes */
function indexBy (index: Map<string, Set<Session>>, key: string, session: Session, open: boolean): void {
  let sessions = index.get(key)
  if (open) {
    if (sessions == null) {
      sessions = new Set()
      index.set(key, sessions)
    }
    sessions.add(session)
  } else if (sessions != null) {
    sessions.delete(session)
    if (sessions.size === 0) {
      index.delete(key)
    }
  }
}
