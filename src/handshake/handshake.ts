import { randomBytes } from '@libp2p/crypto'
import { InvalidParametersError, serviceCapabilities, serviceDependencies } from '@libp2p/interface'
import { PeerMap } from '@libp2p/peer-collections'
import { peerIdFromString } from '@libp2p/peer-id'
import { anySignal, type ClearableSignal } from 'any-signal'
import { raceSignal } from 'race-signal'
import { isCompatibleVersion } from '../chain/index.js'
import { KeyDidResolver } from '../did/did-key.js'
import { ReasonCode, isAppCode, isOtherChain } from '../reason/index.js'
import { admissionOf } from '../session/admission.js'
import { HANG_UP_TIMEOUT_MS, hangUp, isAttemptEnded } from '../session/index.js'
import { resolveRateLimit } from '../ratelimit/index.js'
import { STATUS_INTERVAL_MS, STATUS_MIN_INTERVAL_MS, STATUS_MIN_REQUEST_GAP_MS, STATUS_MIN_ROUND_GAP_MS, STATUS_RATE_LIMIT, STATUS_RATE_PERIOD_MS, STATUS_TIMEOUT_MS } from '../status/index.js'
import { StatusExchange } from '../status/status-exchange.js'
import { endOnRemoteClose, errorText } from '../stream/index.js'
import { HandshakeChannel } from './channel.js'
import { FIRST_MESSAGE_TIMEOUT_MS, HANDSHAKE_PROTOCOL, HANDSHAKE_TIMEOUT_MS, MAX_INBOUND_HANDSHAKES, MAX_INBOUND_HANDSHAKES_PER_IP, MAX_INBOUND_HANDSHAKE_STREAMS, MAX_MESSAGE_SIZE, MAX_OUTBOUND_HANDSHAKE_STREAMS, NONCE_LENGTH } from './constants.js'
import { HandshakeError, HandshakeStage, isHandshakeError, rejectionError } from './errors.js'
import { InboundLimiter, type InboundTicket } from './inbound-limiter.js'
import { performHandshake, type HandshakeJudge, type HandshakeParty } from './perform-handshake.js'
import type { ApplicationRejection, ConnectOptions, HandshakeComponents, HandshakeInit, HandshakeService, RemoteValidator } from './index.js'
import type { Hello } from './pb/handshake.js'
import type { HandshakeRole } from './transcript.js'
import type { ChainHead, ChainIdentity } from '../chain/index.js'
import type { Admission, Attempt, Rejection, RemoteInfo } from '../session/admission.js'
import type { Session, SessionDirection, Sessions } from '../session/index.js'
import type { LocalStatus } from '../status/index.js'
import type { AbortOptions, Connection, Logger, PeerId, PublicKey, Startable, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/**
 * Runs the peergate handshake: as responder on every inbound handshake stream,
 * as initiator on connections to peers this node selects through
 * {@link Handshake.connect}. Connections nobody handshakes (such as Kad-DHT's
 * query connections) stay auxiliary.
 */
export class Handshake implements HandshakeService, Startable {
  readonly [Symbol.toStringTag] = '@peergate/handshake'
  readonly [serviceCapabilities]: string[] = ['@peergate/handshake']
  readonly [serviceDependencies]: string[] = ['@peergate/sessions']

  readonly protocol = HANDSHAKE_PROTOCOL
  readonly did: string
  readonly chain: ChainIdentity
  private readonly components: HandshakeComponents
  private readonly log: Logger
  private readonly party: HandshakeParty
  private readonly timeout: number
  private readonly maxMessageSize: number
  private readonly firstMessageTimeout: number
  private readonly validateRemote?: RemoteValidator
  private readonly inbound: InboundLimiter
  private readonly inFlight = new Set<Promise<unknown>>()
  private readonly selecting = new PeerMap<Selection>()
  /** ids of the connections this node is hanging up after a failed handshake */
  private readonly hangingUp = new Set<string>()
  private shutdown = new AbortController()
  private head: ChainHead | undefined
  /** counts `setHead` calls: a hello sent before the latest one is stale */
  private headVersion = 0
  private readonly localStatus: () => LocalStatus
  private readonly status: StatusExchange
  private admissionPort?: Admission

  constructor (components: HandshakeComponents, init: HandshakeInit) {
    this.components = components
    this.log = components.logger.forComponent('peergate:handshake')
    this.did = init.signer.did
    this.chain = init.chain
    this.timeout = init.timeout ?? HANDSHAKE_TIMEOUT_MS
    this.maxMessageSize = init.maxMessageSize ?? MAX_MESSAGE_SIZE
    this.head = init.head
    this.validateRemote = init.validateRemote
    this.firstMessageTimeout = init.firstMessageTimeout ?? FIRST_MESSAGE_TIMEOUT_MS
    const limits = {
      maxInFlight: init.maxInboundHandshakes ?? MAX_INBOUND_HANDSHAKES,
      maxPerIp: init.maxInboundHandshakesPerIp ?? MAX_INBOUND_HANDSHAKES_PER_IP
    }
    for (const [name, value] of Object.entries({ timeout: this.timeout, maxMessageSize: this.maxMessageSize, firstMessageTimeout: this.firstMessageTimeout, maxInboundHandshakes: limits.maxInFlight, maxInboundHandshakesPerIp: limits.maxPerIp })) {
      if (!(value > 0)) {
        throw new InvalidParametersError(`handshake ${name} must be a positive number, got ${value}`)
      }
    }
    const statusInterval = init.statusInterval === false ? 0 : init.statusInterval ?? STATUS_INTERVAL_MS
    if (!(statusInterval >= 0)) {
      throw new InvalidParametersError(`handshake statusInterval must be a number >= 0 or false, got ${init.statusInterval}`)
    }
    this.inbound = new InboundLimiter(limits)
    const extra = init.extra ?? (() => undefined)
    this.localStatus = init.getStatus ?? (() => ({ head: this.head, extra: extra() }))
    const resolver = init.resolver ?? new KeyDidResolver()
    this.party = {
      chain: init.chain,
      signer: init.signer,
      resolver,
      isCompatibleVersion: init.isCompatibleVersion ?? isCompatibleVersion,
      status: () => this.localStatus(),
      nonce: () => randomBytes(NONCE_LENGTH),
      now: init.now ?? Date.now
    }
    this.status = new StatusExchange(components, {
      interval: statusInterval,
      minInterval: STATUS_MIN_INTERVAL_MS,
      minRoundGap: STATUS_MIN_ROUND_GAP_MS,
      minRequestGap: STATUS_MIN_REQUEST_GAP_MS,
      rateLimit: resolveRateLimit(init.statusRateLimit, { limit: STATUS_RATE_LIMIT, periodMs: STATUS_RATE_PERIOD_MS }),
      timeout: STATUS_TIMEOUT_MS,
      maxMessageSize: this.maxMessageSize,
      resolver,
      local: this.localStatus
    })
    this.onInboundStream = this.onInboundStream.bind(this)
    this.onConnectionOpen = this.onConnectionOpen.bind(this)
    // listening from construction, as identify does, and constructed before
    // identify: the handshake stream is then the first stream of a selected
    // connection and its round trips start before identify's. The listener
    // does nothing until connect() selects a peer.
    components.events.addEventListener('connection:open', this.onConnectionOpen)
  }

  private get sessions (): Sessions {
    return this.components.sessions
  }

  /**
   * The session manager's admission port, found at start; handshakes run only
   * once it is (inbound ones from start, outbound ones from connect(), which
   * checks)
   */
  private get admission (): Admission {
    if (this.admissionPort == null) {
      throw new HandshakeError(ReasonCode.SHUTDOWN, 'node is not running', 'local')
    }
    return this.admissionPort
  }

  async start (): Promise<void> {
    this.admissionPort = admissionOf(this.components.sessions)
    this.shutdown = new AbortController()
    await this.components.registrar.handle(HANDSHAKE_PROTOCOL, this.onInboundStream, {
      maxInboundStreams: MAX_INBOUND_HANDSHAKE_STREAMS,
      maxOutboundStreams: MAX_OUTBOUND_HANDSHAKE_STREAMS
    })
    this.components.events.addEventListener('connection:open', this.onConnectionOpen)
    await this.status.start(this.admissionPort)
  }

  /**
   * Tells every peer we are handshaking with that we are going away (SHUTDOWN)
   * while the connections are still open
   */
  async beforeStop (): Promise<void> {
    this.shutdown.abort(new HandshakeError(ReasonCode.SHUTDOWN, 'node is stopping', 'local'))
    await Promise.allSettled([...this.inFlight])
  }

  async stop (): Promise<void> {
    this.components.events.removeEventListener('connection:open', this.onConnectionOpen)
    this.selecting.clear()
    await this.status.stop()
    await this.components.registrar.unhandle(HANDSHAKE_PROTOCOL)
  }

  setHead (head: ChainHead | undefined): void {
    this.head = head
    this.headVersion++
    this.status.push()
  }

  async refreshStatus (peer: PeerId, options?: AbortOptions): Promise<Session> {
    return this.status.refresh(peer, options)
  }

  /**
   * Selects a peer: dials it (or reuses an existing connection, promoting an
   * auxiliary one) and runs the handshake as initiator
   */
  async connect (target: PeerId | Multiaddr | Multiaddr[], options: ConnectOptions = {}): Promise<Session> {
    if (this.shutdown.signal.aborted || this.admissionPort == null) {
      throw new HandshakeError(ReasonCode.SHUTDOWN, 'node is not running', 'local')
    }
    const peer = targetPeer(target)
    if (peer != null) {
      const known = await this.sessionOrHandshakeInFlight(peer, options)
      if (known != null) {
        return known
      }
    }

    // a peer known by id is handshaken from connection:open, before the dial
    // call returns; otherwise once the dial returns the connection
    const selection = peer == null ? undefined : this.select(peer, options.expectedDid)
    let handshake: Promise<Session>
    let remote: PeerId
    try {
      let connection: Connection
      try {
        connection = await this.openConnection(target, options)
      } catch (err) {
        // a handshake that failed fast hangs up before the dial call returns:
        // its reason is the answer
        await selection?.started
        throw err
      }
      remote = connection.remotePeer
      if (selection?.started != null) {
        handshake = selection.started
      } else {
        const existing = await this.sessionOrHandshakeInFlight(remote, options)
        if (existing != null) {
          return existing
        }
        handshake = this.run(connection, 'initiator', undefined, options.expectedDid)
      }
    } finally {
      if (peer != null && this.selecting.get(peer) === selection) {
        this.selecting.delete(peer)
      }
    }

    try {
      return await handshake
    } catch (err) {
      // lost a simultaneous dial (decided here or by the remote): the winning
      // handshake, which may not have reached us yet, gives the session
      if (isHandshakeError(err) && err.reason === ReasonCode.DUPLICATE) {
        const winner = await this.admission.nextSession(remote, {
          signal: options.signal ?? AbortSignal.timeout(this.timeout)
        })
        if (winner != null) {
          return winner
        }
      }
      throw err
    }
  }

  /**
   * A connection to `target` that can carry a handshake: libp2p hands back an
   * open connection it has, but one being hung up is about to close, so then
   * a new one is dialed: a handshake on it failed (perhaps in this very tick,
   * as when `connect` is called from a `session:reject` listener), or its
   * session ended (a Goodbye said by either side; `connect` from a
   * `session:close` listener)
   */
  private async openConnection (target: PeerId | Multiaddr | Multiaddr[], options: ConnectOptions): Promise<Connection> {
    const connection = await this.components.connectionManager.openConnection(target, options)
    if (connection.status === 'open' && !this.hangingUp.has(connection.id) && !this.admission.parting(connection)) {
      return connection
    }
    this.log('%p: the connection libp2p had is closing, dialing a new one', connection.remotePeer)
    return this.components.connectionManager.openConnection(target, { ...options, force: true })
  }

  private select (peer: PeerId, expectedDid?: string): Selection {
    const selection: Selection = { expectedDid }
    this.selecting.set(peer, selection)
    return selection
  }

  /** starts the handshake on a new connection to a peer being selected, as soon as it opens */
  private onConnectionOpen (evt: CustomEvent<Connection>): void {
    const connection = evt.detail
    const selection = this.selecting.get(connection.remotePeer)
    if (selection == null || selection.started != null || this.sessions.get(connection.remotePeer) != null) {
      return
    }
    selection.started = this.run(connection, 'initiator', undefined, selection.expectedDid)
    selection.started.catch(() => {
      // the caller of connect() gets this error
    })
  }

  /**
   * The session with `peer`; while a handshake with it is in flight, the
   * session that one makes, waiting up to the handshake timeout (or the
   * caller's signal); undefined when there is neither
   */
  private async sessionOrHandshakeInFlight (peer: PeerId, options: AbortOptions): Promise<Session | undefined> {
    return this.sessions.waitForSession(peer, {
      signal: options.signal ?? AbortSignal.timeout(this.timeout)
    })
  }

  private onInboundStream (stream: Stream, connection: Connection): void {
    this.run(connection, 'responder', stream).catch(() => {
      // reported through session:reject by run()
    })
  }

  private async run (connection: Connection, role: HandshakeRole, stream?: Stream, expectedDid?: string): Promise<Session> {
    const work = this.runHandshake(connection, role, stream, expectedDid)
    this.inFlight.add(work)
    try {
      return await work
    } finally {
      this.inFlight.delete(work)
    }
  }

  /**
   * One handshake on `connection`, step by step: an inbound one is admitted
   * first (a place in the inbound limiter, the first-message deadline); the
   * session manager begins the attempt; the stream is opened (outbound) and
   * the handshake performed with this node's judge; the session it committed
   * is remembered for the status exchange. A failure is mapped to its reason,
   * said to the remote when it is ours, reported, and ends in a hang-up.
   */
  private async runHandshake (connection: Connection, role: HandshakeRole, stream?: Stream, expectedDid?: string): Promise<Session> {
    const run = this.prepareRun(connection, role, stream, expectedDid)
    try {
      if (this.shutdown.signal.aborted) {
        throw this.shutdown.signal.reason
      }
      if (role === 'responder') {
        this.admitInbound(run)
      }
      const attempt = this.begin(run)
      return await this.perform(run, attempt)
    } catch (err) {
      throw await this.fail(run, err)
    } finally {
      this.release(run)
    }
  }

  /** What one attempt shares between its steps; the admission port is read now, so a stopped node fails before anything is reported */
  private prepareRun (connection: Connection, role: HandshakeRole, stream: Stream | undefined, expectedDid: string | undefined): HandshakeRun {
    const dropped = new AbortController()
    return {
      connection,
      role,
      direction: directionOf(role),
      expectedDid,
      log: this.log.newScope(`${role}:${connection.id}`),
      admission: this.admission,
      stream,
      channel: stream == null ? undefined : new HandshakeChannel(endOnRemoteClose(stream), this.maxMessageSize),
      dropped,
      signal: anySignal([this.shutdown.signal, AbortSignal.timeout(this.timeout), dropped.signal])
    }
  }

  /**
   * An inbound handshake takes a place in the inbound limiter (or is refused
   * with TOO_MANY_PEERS) and must hear the initiator's hello within the
   * first-message deadline; a shed or the deadline drops it with TIMEOUT
   */
  private admitInbound (run: HandshakeRun): void {
    const heard = (): boolean => (run.channel?.messagesRead ?? 0) > 0
    const drop = (message: string): void => {
      run.dropped.abort(new HandshakeError(ReasonCode.TIMEOUT, message, 'local', HandshakeStage.AwaitInitiatorHello))
    }
    const ticket: InboundTicket = { ip: remoteIp(run.connection), heard, shed: () => { drop('no hello yet, and its place was needed') } }
    const decision = this.inbound.admit(ticket)
    if (!decision.admit) {
      throw new HandshakeError(ReasonCode.TOO_MANY_PEERS, `busy: ${decision.why}`, 'local', HandshakeStage.Admission)
    }
    run.ticket = ticket
    run.firstMessageTimer = setTimeout(() => {
      if (!heard()) {
        drop(`no hello within ${this.firstMessageTimeout} ms`)
      }
    }, this.firstMessageTimeout)
  }

  /** The session manager begins the attempt, or refuses it (a duplicate, a ban, the limits) */
  private begin (run: HandshakeRun): Attempt {
    const begun = run.admission.begin(run.connection, run.direction)
    if ('rejected' in begun) {
      throw rejectionError(begun.rejected, HandshakeStage.Admission)
    }
    run.attempt = begun.admitted
    return begun.admitted
  }

  /** Opens the stream (as initiator), performs the handshake with this node's judge and commits its session */
  private async perform (run: HandshakeRun, attempt: Attempt): Promise<Session> {
    const attemptSignal = anySignal([run.signal, attempt.signal])
    try {
      if (run.channel == null) {
        run.stream = await this.openHandshakeStream(run.connection, attemptSignal)
        run.channel = new HandshakeChannel(endOnRemoteClose(run.stream), this.maxMessageSize)
      }

      let session: Session | undefined
      // the head our hello carries; one set after it went out reaches the
      // peer in a status round as soon as the session opens
      let helloHeadVersion = this.headVersion
      const party: HandshakeParty = {
        ...this.party,
        status: () => {
          helloHeadVersion = this.headVersion
          return this.party.status()
        }
      }
      const remoteKey = await performHandshake(run.channel, {
        role: run.role,
        localPeer: this.components.peerId,
        remotePeer: run.connection.remotePeer,
        party,
        log: run.log,
        judge: this.judge(run, attempt, (opened) => { session = opened })
      }, { signal: attemptSignal })

      run.stream?.close().catch(err => { run.stream?.abort(err) })
      if (session == null) {
        throw new HandshakeError(ReasonCode.UNSPECIFIED, 'handshake ended without a session', 'local', HandshakeStage.Commit)
      }
      this.remember(run, session, remoteKey, helloHeadVersion)
      return session
    } finally {
      attemptSignal.clear()
    }
  }

  /**
   * This node's say in the handshake: the remote's hello noted for a failure
   * report, the expected DID and the session rules, the application's
   * validator, then the session opened through the admission port
   */
  private judge (run: HandshakeRun, attempt: Attempt, opened: (session: Session) => void): HandshakeJudge {
    return {
      heard: (hello) => { run.heard = hello },
      admit: (hello) => {
        if (run.expectedDid != null && hello.did !== run.expectedDid) {
          return { reason: ReasonCode.UNEXPECTED_DID, message: `expected ${run.expectedDid.slice(0, 64)}, the peer presented ${hello.did.slice(0, 64)}` }
        }
        return run.admission.checkRemote(attempt, hello.did)
      },
      validate: async (hello, options) => this.validate(hello, run.connection.remotePeer, run.direction, options, run.log),
      commit: (hello) => {
        const result = run.admission.open(attempt, remoteInfo(hello))
        if ('rejected' in result) {
          return result.rejected
        }
        opened(result.admitted)
      }
    }
  }

  /** Hands the new session to the status exchange: its handshake key, and the head if it changed after our hello */
  private remember (run: HandshakeRun, session: Session, remoteKey: PublicKey, helloHeadVersion: number): void {
    this.status.remember(session, remoteKey)
    if (helloHeadVersion !== this.headVersion) {
      run.log('the head changed after our hello: pushing it to %p', session.peerId)
      this.status.push(session)
    }
  }

  /**
   * A failed handshake: its reason (said to the remote when the failure is
   * ours), reported through the admission port, then the hang-up, and for a
   * peer of another chain its other connections closed too
   *
   * @returns the HandshakeError the handshake fails with
   */
  private async fail (run: HandshakeRun, e: unknown): Promise<HandshakeError> {
    const { connection, log } = run
    const err = toHandshakeError(e, run.signal, run.attempt?.signal)
    const said = err.side === 'local' && run.channel != null
    if (said) {
      run.channel?.sendReject(err.reason, err.message, err.appCode)
    }
    // marked before the failure is announced: a session:reject listener
    // that connects again gets a new connection, not this closing one
    // (a duplicate may keep its connection, see below)
    const closing = err.reason !== ReasonCode.DUPLICATE
    if (closing) {
      this.hangingUp.add(connection.id)
    }
    const heard = run.heard
    run.admission.fail(run.attempt, connection, run.direction, {
      reason: err.reason,
      side: err.side,
      message: err.message,
      appCode: err.appCode,
      remote: heard == null ? undefined : { did: heard.did, chainId: heard.chainId, chainVersion: heard.chainVersion, head: heard.head }
    })
    // a duplicate on a connection that carries the winning handshake (both
    // sides selected each other over one connection) only ends its stream;
    // when the remote said DUPLICATE, it knows where its winner runs and
    // hangs up itself if this connection is spare
    const keepConnection = err.reason === ReasonCode.DUPLICATE &&
      (err.side === 'remote' || this.sessions.connectionInUse(connection))
    try {
      await hangUp(keepConnection ? undefined : connection, run.stream == null ? undefined : { stream: run.stream, said }, log, {
        signal: AbortSignal.timeout(HANG_UP_TIMEOUT_MS)
      })
    } finally {
      if (closing) {
        this.hangingUp.delete(connection.id)
      }
    }
    if (isOtherChain(err.reason)) {
      // no auxiliary connection to it is worth its slot either
      await this.components.connectionManager.closeConnections(connection.remotePeer).catch(closeErr => {
        log('could not close the other connections of a peer of another chain - %e', closeErr)
      })
    }
    return err
  }

  /** Gives back what the attempt held: the first-message timer, the inbound place, its signal */
  private release (run: HandshakeRun): void {
    clearTimeout(run.firstMessageTimer)
    if (run.ticket != null) {
      this.inbound.release(run.ticket)
    }
    run.signal.clear()
  }

  /** The application's validator on a remote whose signature verified: its rejection as a verdict */
  private async validate (hello: Hello, peerId: PeerId, direction: SessionDirection, options: AbortOptions, log: Logger): Promise<Rejection | undefined> {
    if (this.validateRemote == null) {
      return undefined
    }
    let refusal: ApplicationRejection | undefined
    try {
      refusal = await raceSignal(Promise.resolve(this.validateRemote(remoteInfo(hello), { peerId, direction, signal: options.signal ?? AbortSignal.timeout(this.timeout) })), options.signal)
    } catch (err) {
      if (options.signal?.aborted === true) {
        throw options.signal.reason
      }
      log.error('the validator of %p threw; refusing it - %e', peerId, err)
      return { reason: ReasonCode.APPLICATION_REJECTED, message: 'validation failed' }
    }
    if (refusal == null) {
      return undefined
    }
    if (!isAppCode(refusal.appCode)) {
      log.error('the validator of %p returned app code %s, not a uint32; refusing it with 0', peerId, refusal.appCode)
      return { reason: ReasonCode.APPLICATION_REJECTED, message: refusal.detail ?? 'refused by the application', appCode: 0 }
    }
    return { reason: ReasonCode.APPLICATION_REJECTED, message: refusal.detail ?? 'refused by the application', appCode: refusal.appCode }
  }

  /** Inbound handshakes in flight (each also holds a place in the inbound limiter) */
  inboundInFlight (): number {
    return this.inbound.size
  }

  private async openHandshakeStream (connection: Connection, signal: AbortSignal): Promise<Stream> {
    try {
      return await connection.newStream(HANDSHAKE_PROTOCOL, { signal })
    } catch (err: any) {
      if (err?.name === 'UnsupportedProtocolError') {
        throw new HandshakeError(ReasonCode.INCOMPATIBLE_VERSION, `remote does not speak ${HANDSHAKE_PROTOCOL}`, 'local', HandshakeStage.Admission)
      }
      throw err
    }
  }
}

/** The IP address a connection comes from; the whole address where it names none */
function remoteIp (connection: Connection): string {
  return connection.remoteAddr.getComponents().find(c => c.name === 'ip4' || c.name === 'ip6')?.value ?? connection.remoteAddr.toString()
}

function isPeerId (target: unknown): target is PeerId {
  return typeof target === 'object' && target != null && 'toMultihash' in target && 'type' in target
}

/** The peer a dial target names, if it names one */
function targetPeer (target: PeerId | Multiaddr | Multiaddr[]): PeerId | undefined {
  if (isPeerId(target)) {
    return target
  }
  const first = Array.isArray(target) ? target[0] : target
  const id = first?.getComponents().find(c => c.name === 'p2p')?.value
  if (id == null) {
    return undefined
  }
  try {
    return peerIdFromString(id)
  } catch {
    return undefined
  }
}

/** One handshake attempt on one connection: what its steps share */
interface HandshakeRun {
  readonly connection: Connection
  readonly role: HandshakeRole
  readonly direction: SessionDirection
  /** the DID the remote must present, when this node selected it by DID */
  readonly expectedDid?: string
  readonly log: Logger
  readonly admission: Admission
  /** the handshake stream: the inbound one, or the one this node opens */
  stream?: Stream
  channel?: HandshakeChannel
  /** sheds and the first-message deadline end an inbound handshake through this */
  readonly dropped: AbortController
  /** shutdown, the whole-handshake deadline and `dropped` */
  readonly signal: ClearableSignal
  /** the inbound limiter's place, held until the handshake ends */
  ticket?: InboundTicket
  firstMessageTimer?: ReturnType<typeof setTimeout>
  /** the session manager's attempt, once begun */
  attempt?: Attempt
  /** the remote's hello once decoded, for the report of a failure */
  heard?: Hello
}

interface Selection {
  expectedDid?: string
  /** the initiator handshake started from connection:open */
  started?: Promise<Session>
}

/**
 * Maps whatever ended a handshake to the reason code the protocol reports
 */
export function toHandshakeError (err: unknown, signal: AbortSignal, attemptSignal?: AbortSignal): HandshakeError {
  if (isHandshakeError(err)) {
    return err
  }
  if (attemptSignal?.aborted === true && isAttemptEnded(attemptSignal.reason)) {
    // superseded by a simultaneous handshake, or the session manager is stopping
    return rejectionError(attemptSignal.reason.rejection)
  }
  if (signal.aborted) {
    if (isHandshakeError(signal.reason)) {
      return signal.reason
    }
    return new HandshakeError(ReasonCode.TIMEOUT, 'handshake timed out', 'local')
  }
  return new HandshakeError(ReasonCode.CONNECTION_CLOSED, `handshake stream failed: ${errorText(err)}`, 'remote')
}

function directionOf (role: HandshakeRole): SessionDirection {
  return role === 'initiator' ? 'outbound' : 'inbound'
}

/** What a session records of the remote's hello */
function remoteInfo (hello: Hello): RemoteInfo {
  return { did: hello.did, chainVersion: hello.chainVersion, head: hello.head, extra: hello.extra }
}
