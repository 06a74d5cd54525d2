import { AbortError, InvalidMessageError, ProtocolError, TimeoutError, UnsupportedProtocolError } from '@libp2p/interface'
import { PeerMap } from '@libp2p/peer-collections'
import { anySignal } from 'any-signal'
import { raceSignal } from 'race-signal'
import { RateLimiter } from '../ratelimit/index.js'
import { ReasonCode } from '../reason/index.js'
import { NoSessionError, PeerAction } from '../session/index.js'
import { MAX_STATUS_FAILURES, MAX_STATUS_STREAMS, STATUS_PROTOCOL } from './constants.js'
import { readStatus, writeStatus } from './message.js'
import type { LocalStatus } from './index.js'
import type { DidResolver } from '../did/index.js'
import type { ResolvedRateLimit } from '../ratelimit/index.js'
import type { Admission, RemoteStatus } from '../session/admission.js'
import type { Session, Sessions } from '../session/index.js'
import type { AbortOptions, ComponentLogger, Connection, Logger, PublicKey, Stream } from '@libp2p/interface'

/*
 * The status exchange, /peergate/status/1.0.0 (docs/PROTOCOL.md §15): over a
 * session's connection the requester sends one length-prefixed Status, the
 * responder answers with its own, both close; each side updates its view of
 * the other through the session port. Rounds run periodically per session
 * (with a revalidation of the peer's DID), after `setHead` (rate-limited) and
 * on demand. The exchange is optional for a peer: one that answers `na` to
 * the protocol keeps its session, gets no more rounds, and is still
 * revalidated on the periodic timer.
 */

export interface StatusExchangeComponents {
  sessions: Sessions
  logger: ComponentLogger
}

export interface StatusExchangeInit {
  /** ms between a session's periodic rounds; 0 for none */
  interval: number
  /** ms: a push starts at most one round per peer in this time */
  minInterval: number
  /** ms: any two rounds with one peer start at least this far apart */
  minRoundGap: number
  /** ms: a request from a peer this soon after the last one taken from it is reset */
  minRequestGap: number
  /** each peer's token bucket of requests: one over it is reset and the peer reported; none when undefined */
  rateLimit?: ResolvedRateLimit
  /** ms: deadline of one exchange, and of one DID resolution */
  timeout: number
  /** largest Status accepted, in bytes, checked on the length prefix */
  maxMessageSize: number
  /** resolves a peer's DID again at each periodic round */
  resolver: DidResolver
  /** what this node says in a Status, read when each one is sent */
  local(): LocalStatus
}

/** Why a periodic revalidation ends a session */
export interface Revalidation {
  reason: ReasonCode
  message: string
}

/**
 * The verdict of a periodic revalidation (docs/PROTOCOL.md §15.5), from the
 * DID's resolution now (its keys, or the error it failed with) and the key
 * that verified the peer's handshake signature: DID_UNRESOLVABLE when the DID
 * no longer resolves to a key, KEY_REVOKED when it resolves but not to that
 * key, undefined when the session may go on. Without a handshake key on
 * record only the resolution is checked.
 */
export function revalidationVerdict (did: string, resolved: PublicKey[] | Error, handshakeKey: PublicKey | undefined): Revalidation | undefined {
  const name = did.slice(0, 64)
  if (resolved instanceof Error) {
    return { reason: ReasonCode.DID_UNRESOLVABLE, message: `${name} no longer resolves: ${resolved.message}` }
  }
  if (resolved.length === 0) {
    return { reason: ReasonCode.DID_UNRESOLVABLE, message: `${name} no longer resolves to a key` }
  }
  if (handshakeKey != null && !resolved.some(key => key.equals(handshakeKey))) {
    return { reason: ReasonCode.KEY_REVOKED, message: `${name} no longer lists the key that signed its handshake` }
  }
  return undefined
}

/** Resolves after `ms` (at once when it is not positive); rejects with the reason of `signal` once it aborts */
async function delay (ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) {
    throw signal.reason
  }
  if (!(ms > 0)) {
    return
  }
  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(signal.reason)
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/** What the exchange keeps per session peer */
interface PeerRounds {
  readonly session: Session
  /** consecutive failed exchanges */
  failures: number
  /** the peer answered `na` to the status protocol: no more exchanges this session */
  noStatus: boolean
  /** when the last exchange started (performance.now()) */
  lastRoundAt: number
  /** when the responder last took a request from the peer (performance.now()) */
  lastRequestAt: number
  periodic?: ReturnType<typeof setTimeout>
  push?: ReturnType<typeof setTimeout>
  /** a pushed round is scheduled or queued and has not sent yet: later pushes join it */
  pushPending: boolean
  /** the exchange in flight; the next one waits for it */
  running?: Promise<Session>
}

/**
 * Runs the status exchange for the handshake service, which starts and stops
 * it with itself (and tells it each new session's handshake key and each
 * head change): the gated handler, one timer per session for its periodic
 * round, one per session for a pending push. A session's timers go when it
 * ends.
 */
export class StatusExchange {
  private readonly components: StatusExchangeComponents
  private readonly init: StatusExchangeInit
  private readonly log: Logger
  private readonly peers = new PeerMap<PeerRounds>()
  /** the key that verified each session's handshake signature */
  private readonly handshakeKeys = new WeakMap<Session, PublicKey>()
  private readonly inFlight = new Set<Promise<unknown>>()
  private shutdown = new AbortController()
  private admission?: Admission
  private readonly limiter?: RateLimiter

  constructor (components: StatusExchangeComponents, init: StatusExchangeInit) {
    this.components = components
    this.init = init
    this.limiter = init.rateLimit == null ? undefined : new RateLimiter(STATUS_PROTOCOL, init.rateLimit, components.sessions)
    this.log = components.logger.forComponent('peergate:handshake:status')
    this.onStatusStream = this.onStatusStream.bind(this)
    this.onSessionOpen = this.onSessionOpen.bind(this)
  }

  private get sessions (): Sessions {
    return this.components.sessions
  }

  async start (admission: Admission): Promise<void> {
    this.admission = admission
    this.shutdown = new AbortController()
    // listening before the await: a session that opens while the handler is
    // being registered gets its rounds too
    this.sessions.addEventListener('session:open', this.onSessionOpen)
    await this.sessions.handle(STATUS_PROTOCOL, this.onStatusStream, {
      maxInboundStreams: MAX_STATUS_STREAMS,
      maxOutboundStreams: MAX_STATUS_STREAMS
    })
  }

  async stop (): Promise<void> {
    this.sessions.removeEventListener('session:open', this.onSessionOpen)
    this.shutdown.abort(new AbortError('node is stopping'))
    for (const rounds of this.peers.values()) {
      this.clearTimers(rounds)
    }
    this.peers.clear()
    this.limiter?.clear()
    await Promise.allSettled([...this.inFlight])
    this.admission = undefined
    await this.sessions.unhandle(STATUS_PROTOCOL)
  }

  /** Keeps the key that verified `session`'s handshake signature, for revalidation */
  remember (session: Session, handshakeKey: PublicKey): void {
    this.handshakeKeys.set(session, handshakeKey)
  }

  /**
   * The local status changed: a round with every session peer (or with the
   * peer of `session` only, whose hello predates the change), at most one per
   * peer per `minInterval`; changes meanwhile join the pending round
   */
  push (session?: Session): void {
    if (session == null) {
      for (const rounds of this.peers.values()) {
        this.schedulePush(rounds)
      }
      return
    }
    const rounds = this.peers.get(session.peerId)
    if (rounds?.session === session) {
      this.schedulePush(rounds)
    }
  }

  private schedulePush (rounds: PeerRounds): void {
    if (rounds.pushPending || rounds.noStatus) {
      return
    }
    rounds.pushPending = true
    const wait = Math.max(0, rounds.lastRoundAt + this.init.minInterval - performance.now())
    rounds.push = setTimeout(() => {
      rounds.push = undefined
      this.exchange(rounds).catch(() => {
        // logged and counted by exchange()
      })
    }, wait)
  }

  /** An exchange with `peer` now; resolves with its session, updated */
  async refresh (peer: Session['peerId'], options: AbortOptions = {}): Promise<Session> {
    const session = this.sessions.get(peer)
    const rounds = this.peers.get(peer)
    if (session == null || rounds?.session !== session) {
      throw new NoSessionError(`no session with ${peer.toString()}`)
    }
    return this.exchange(rounds, options)
  }

  private onSessionOpen (evt: CustomEvent<Session>): void {
    const session = evt.detail
    const rounds: PeerRounds = { session, failures: 0, noStatus: false, lastRoundAt: -Infinity, lastRequestAt: -Infinity, pushPending: false }
    this.peers.set(session.peerId, rounds)
    session.signal.addEventListener('abort', () => {
      this.clearTimers(rounds)
      if (this.peers.get(session.peerId) === rounds) {
        this.peers.delete(session.peerId)
      }
    }, { once: true })
    this.schedulePeriodic(rounds)
  }

  private clearTimers (rounds: PeerRounds): void {
    clearTimeout(rounds.periodic)
    clearTimeout(rounds.push)
    rounds.periodic = undefined
    rounds.push = undefined
  }

  private schedulePeriodic (rounds: PeerRounds): void {
    if (this.init.interval <= 0 || rounds.session.signal.aborted || this.shutdown.signal.aborted) {
      return
    }
    rounds.periodic = setTimeout(() => {
      rounds.periodic = undefined
      this.track(this.periodicRound(rounds)).finally(() => {
        if (this.peers.get(rounds.session.peerId) === rounds) {
          this.schedulePeriodic(rounds)
        }
      }).catch(() => {
        // periodicRound never rejects
      })
    }, this.init.interval)
  }

  /**
   * Revalidates the peer's DID, then exchanges status unless the peer does
   * not speak it (revalidation needs nothing from the peer); never rejects
   */
  private async periodicRound (rounds: PeerRounds): Promise<void> {
    try {
      if (await this.revalidate(rounds.session) && !rounds.noStatus) {
        await this.exchange(rounds)
      }
    } catch {
      // a failed exchange is logged and counted by exchange()
    }
  }

  /**
   * Resolves the peer's DID again (as the Nuts node revalidates its peers):
   * ends the session when it no longer resolves, or no longer to the key that
   * signed the handshake. True when the session goes on.
   */
  private async revalidate (session: Session): Promise<boolean> {
    const signal = anySignal([this.shutdown.signal, session.signal, AbortSignal.timeout(this.init.timeout)])
    let resolved: PublicKey[] | Error
    try {
      resolved = await raceSignal(Promise.resolve(this.init.resolver.resolve(session.did, { signal })), signal)
    } catch (err: any) {
      if (this.shutdown.signal.aborted || session.signal.aborted) {
        return false
      }
      resolved = signal.aborted ? new TimeoutError(`resolving took over ${this.init.timeout} ms`) : err
    } finally {
      signal.clear()
    }
    const verdict = revalidationVerdict(session.did, resolved, this.handshakeKeys.get(session))
    if (verdict == null) {
      return true
    }
    this.log('ending the session with %p: %s (%s)', session.peerId, verdict.reason, verdict.message)
    await this.end(session, verdict.reason)
    return false
  }

  /** One exchange with the peer of `rounds`, after any in flight */
  private async exchange (rounds: PeerRounds, options: AbortOptions = {}): Promise<Session> {
    const previous = rounds.running
    const run = (async () => {
      await previous?.catch(() => {})
      return this.exchangeOnce(rounds, options)
    })()
    rounds.running = run
    try {
      return await this.track(run)
    } finally {
      if (rounds.running === run) {
        rounds.running = undefined
      }
    }
  }

  private async exchangeOnce (rounds: PeerRounds, options: AbortOptions): Promise<Session> {
    const { session } = rounds
    if (rounds.noStatus) {
      throw new UnsupportedProtocolError(`${session.peerId.toString()} does not speak ${STATUS_PROTOCOL}`)
    }
    // spaced so that the peer's responder limit never refuses us
    const gap = anySignal([this.shutdown.signal, session.signal, options.signal])
    try {
      await delay(rounds.lastRoundAt + this.init.minRoundGap - performance.now(), gap)
    } finally {
      gap.clear()
    }
    rounds.lastRoundAt = performance.now()
    rounds.pushPending = false
    const deadline = AbortSignal.timeout(this.init.timeout)
    const signal = anySignal([this.shutdown.signal, session.signal, deadline, options.signal])
    try {
      if (signal.aborted) {
        throw signal.reason
      }
      const stream = await this.sessions.openStream(session.peerId, STATUS_PROTOCOL, { signal })
      let remote: RemoteStatus
      try {
        await writeStatus(stream, this.init.local(), signal)
        remote = await readStatus(stream, this.init.maxMessageSize, signal)
        await stream.close({ signal })
      } catch (err: any) {
        stream.abort(err)
        throw err
      }
      const updated = this.admission?.updateStatus(session.peerId, remote)
      if (updated == null) {
        throw new NoSessionError(`the session with ${session.peerId.toString()} ended`)
      }
      rounds.failures = 0
      return updated
    } catch (e: any) {
      if (this.shutdown.signal.aborted || session.signal.aborted || options.signal?.aborted === true) {
        // stopping, the session ended, or the caller gave up: not the peer's failure
        throw e
      }
      if (e?.name === UnsupportedProtocolError.name) {
        // a valid peer (the exchange is optional, docs/PROTOCOL.md §15.6):
        // no more rounds this session, and no failure
        if (!rounds.noStatus) {
          rounds.noStatus = true
          clearTimeout(rounds.push)
          rounds.push = undefined
          rounds.pushPending = false
          this.log('%p does not speak %s: no status rounds with it this session, revalidation only', session.peerId, STATUS_PROTOCOL)
        }
        throw e
      }
      const err = deadline.aborted ? new TimeoutError(`status exchange took over ${this.init.timeout} ms`) : e
      rounds.failures++
      this.log('status exchange with %p failed (%d in a row) - %e', session.peerId, rounds.failures, err)
      // HIGH_TOLERANCE whatever the failure (a malformed answer included):
      // MAX_STATUS_FAILURES in a row end the session with TIMEOUT, which the
      // score must not overtake (three LOW reports would end it at the second)
      this.sessions.reportPeer(session.peerId, PeerAction.HIGH_TOLERANCE, 'status:failed')
      if (rounds.failures >= MAX_STATUS_FAILURES) {
        this.log('ending the session with %p: %d status exchanges failed in a row', session.peerId, rounds.failures)
        await this.end(session, ReasonCode.TIMEOUT)
      }
      throw err
    } finally {
      signal.clear()
    }
  }

  /**
   * The responder: reads the peer's Status, answers with ours, closes. A
   * request that comes sooner than `minRequestGap` after the last one taken
   * from the peer is reset unread; so is one over the peer's rate limit,
   * which reports the peer.
   */
  private async onStatusStream (stream: Stream, connection: Connection, session: Session): Promise<void> {
    const rounds = this.peers.get(session.peerId)
    const now = performance.now()
    if (rounds?.session === session) {
      const since = now - rounds.lastRequestAt
      if (since < this.init.minRequestGap) {
        this.log('status request from %p on %s %d ms after the last one: reset', session.peerId, connection.id, Math.round(since))
        stream.abort(new ProtocolError(`status request ${Math.round(since)} ms after the last one, under ${this.init.minRequestGap} ms`))
        return
      }
    }
    if (this.limiter?.take(session) === false) {
      // reported by the limiter; a refused request is not the last one taken
      stream.abort(new ProtocolError(`status request ${this.limiter.describe(1)}`))
      return
    }
    if (rounds?.session === session) {
      rounds.lastRequestAt = now
    }
    const signal = anySignal([this.shutdown.signal, session.signal, AbortSignal.timeout(this.init.timeout)])
    try {
      const remote = await readStatus(stream, this.init.maxMessageSize, signal)
      this.admission?.updateStatus(session.peerId, remote)
      await writeStatus(stream, this.init.local(), signal)
      await stream.close({ signal })
    } catch (err: any) {
      // a malformed or missing request gets no answer: the stream is reset
      this.log('status request from %p on %s failed - %e', session.peerId, connection.id, err)
      if (err?.name === InvalidMessageError.name) {
        // a Status no honest peer sends (over the size limit, undecodable)
        this.sessions.reportPeer(session.peerId, PeerAction.LOW_TOLERANCE, 'status:malformed')
      }
      stream.abort(err)
    } finally {
      signal.clear()
    }
  }

  /** Ends `session` through the session manager, if it is still the peer's session */
  private async end (session: Session, reason: ReasonCode): Promise<void> {
    if (this.sessions.get(session.peerId) !== session) {
      return
    }
    await this.sessions.disconnect(session.peerId, reason).catch(err => {
      this.log.error('could not end the session with %p - %e', session.peerId, err)
    })
  }

  private async track<T> (work: Promise<T>): Promise<T> {
    this.inFlight.add(work)
    try {
      return await work
    } finally {
      this.inFlight.delete(work)
    }
  }
}
