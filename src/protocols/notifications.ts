import { InvalidParametersError, NotStartedError } from '@libp2p/interface'
import { defaultLogger } from '@libp2p/logger'
import { PeerMap } from '@libp2p/peer-collections'
import { DEFAULT_NOTIFICATION_RATE_LIMIT, DEFAULT_NOTIFICATION_RATE_PERIOD_MS, RateLimiter, reporterOf, resolveRateLimit, type RateLimit } from '../ratelimit/index.js'
import { NoSessionError } from '../session/index.js'
import { DEFAULT_MAX_NOTIFICATION_BYTES, DEFAULT_MAX_QUEUED_NOTIFICATIONS, MAX_INBOUND_NOTIFICATION_STREAMS, NOTIFICATION_CLOSE_TIMEOUT_MS } from './constants.js'
import { MessageTooLargeError, QueueFullError } from './errors.js'
import { readMessages, writeMessage } from './framing.js'
import type { ProtocolSessions } from './index.js'
import type { Session } from '../session/index.js'
import type { ComponentLogger, Logger, PeerId, Stream } from '@libp2p/interface'

export interface NotificationsOptions {
  /** called with every message a session peer sends on the protocol, in order; what it throws is logged */
  onMessage(message: Uint8Array, session: Session): void | Promise<void>
  /**
   * Largest message body in bytes: `send` refuses a larger one, and a peer
   * whose stream carries one (seen on the length prefix) has that stream
   * aborted
   *
   * @default 1048576 (DEFAULT_MAX_NOTIFICATION_BYTES)
   */
  maxMessageBytes?: number
  /**
   * Messages queued per peer while its stream is opened or backed up; a
   * `send` beyond it is rejected with QueueFullError (queued ones are kept)
   *
   * @default 64 (DEFAULT_MAX_QUEUED_NOTIFICATIONS)
   */
  maxQueuedMessages?: number
  /**
   * Each session peer's rate limit on this protocol, a token bucket counted
   * in messages, or in the units `cost` reads from each message. A message
   * over it is dropped before `onMessage` (the stream stays), and the peer is
   * reported (`rate-limit:<protocol>`, `action`), which the metrics count.
   * Fields left out take the defaults; `false` for no limit.
   *
   * @default 1000 messages per 10 s (DEFAULT_NOTIFICATION_RATE_LIMIT per DEFAULT_NOTIFICATION_RATE_PERIOD_MS), reported LOW_TOLERANCE
   */
  rateLimit?: Partial<RateLimit> | false
  logger?: ComponentLogger
}

export interface BroadcastOptions {
  /** peers not to send to (e.g. the one the message came from) */
  except?: PeerId | PeerId[]
}

/**
 * A notification protocol: one long-lived stream per session peer in each
 * direction, carrying length-prefixed messages (docs/APPLICATION-PROTOCOLS.md)
 */
export interface NotificationChannel {
  readonly protocol: string
  /**
   * Sends `message` to a session peer. Resolves once it was handed to the
   * peer's stream (not when the peer read it). Messages to one peer go out in
   * the order of the calls. To a peer whose handshake is in flight it waits
   * for the handshake to end (at most the handshake's deadline), as `request`
   * and `openStream` do.
   *
   * @throws {NoSessionError} no session with `peer`, nor a handshake that made one
   * @throws {MessageTooLargeError} over `maxMessageBytes`; nothing is sent
   * @throws {QueueFullError} `maxQueuedMessages` messages are waiting for this peer already (or for its handshake)
   */
  send(peer: PeerId, message: Uint8Array): Promise<void>
  /**
   * Sends `message` to every session peer but `except`; resolves with the
   * number of peers it was handed to (failures are logged per peer)
   *
   * @throws {MessageTooLargeError} over `maxMessageBytes`; nothing is sent
   */
  broadcast(message: Uint8Array, options?: BroadcastOptions): Promise<number>
  /**
   * Stops serving the protocol, closes the streams this channel opened (each
   * reset when its written frames have not drained within
   * NOTIFICATION_CLOSE_TIMEOUT_MS) and aborts the ones it serves
   */
  close(): Promise<void>
}

/**
 * Opens a notification channel on `protocol`, gated by `sessions`: inbound
 * streams from session peers are read to their end, each message handed to
 * `onMessage`; `send` and `broadcast` write to one outbound stream per
 * session peer, opened at the first send and again after it failed. Every
 * stream ends with its session. A peer gets at most
 * MAX_INBOUND_NOTIFICATION_STREAMS streams of `protocol` served at once;
 * libp2p resets a further one.
 */
export async function notifications (sessions: ProtocolSessions, protocol: string, options: NotificationsOptions): Promise<NotificationChannel> {
  const channel = new Notifications(sessions, protocol, options)
  await sessions.handle(protocol, async (stream, _connection, session) => {
    await channel.receive(stream, session)
  }, { maxInboundStreams: MAX_INBOUND_NOTIFICATION_STREAMS })
  return channel
}

interface Queued {
  message: Uint8Array
  resolve(): void
  reject(err: unknown): void
}

/** Sends waiting for one handshake with a peer */
interface HandshakeWait {
  settled: Promise<Session | undefined>
  waiting: number
}

/** The outbound side towards one session peer */
interface Outbound {
  session: Session
  stream?: Stream
  queue: Queued[]
  draining: boolean
}

class Notifications implements NotificationChannel {
  readonly protocol: string
  private readonly sessions: ProtocolSessions
  private readonly onMessage: NotificationsOptions['onMessage']
  private readonly maxMessageBytes: number
  private readonly maxQueuedMessages: number
  private readonly log: Logger
  private readonly limiter?: RateLimiter
  private readonly outbound = new Map<Session, Outbound>()
  /** sends waiting for a peer's handshake, which go on in the order of their calls */
  private readonly handshaking = new PeerMap<HandshakeWait>()
  private readonly inbound = new Set<Stream>()
  private closed = false

  constructor (sessions: ProtocolSessions, protocol: string, options: NotificationsOptions) {
    this.sessions = sessions
    this.protocol = protocol
    this.onMessage = options.onMessage
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_NOTIFICATION_BYTES
    this.maxQueuedMessages = options.maxQueuedMessages ?? DEFAULT_MAX_QUEUED_NOTIFICATIONS
    for (const [name, value] of Object.entries({ maxMessageBytes: this.maxMessageBytes, maxQueuedMessages: this.maxQueuedMessages })) {
      if (!Number.isSafeInteger(value) || value < 1) {
        throw new InvalidParametersError(`${name} must be a whole number >= 1, got ${value}`)
      }
    }
    if (typeof options.onMessage !== 'function') {
      throw new InvalidParametersError('onMessage must be a function')
    }
    this.log = (options.logger ?? defaultLogger()).forComponent('peergate:protocols:notifications')
    const rateLimit = resolveRateLimit(options.rateLimit, { limit: DEFAULT_NOTIFICATION_RATE_LIMIT, periodMs: DEFAULT_NOTIFICATION_RATE_PERIOD_MS })
    this.limiter = rateLimit == null ? undefined : new RateLimiter(protocol, rateLimit, reporterOf(sessions))
  }

  /** Whether a message from `session`'s peer is within its rate limit; one over it is dropped (the peer was reported) */
  private admit (message: Uint8Array, session: Session): boolean {
    if (this.limiter == null) {
      return true
    }
    let cost: number
    try {
      cost = this.limiter.costOf(message)
    } catch (err) {
      this.log('%s: could not count a message from %p, dropped - %e', this.protocol, session.peerId, err)
      return false
    }
    return this.limiter.take(session, cost)
  }

  /** Reads a session peer's stream to its end; a message over the limit aborts the stream */
  async receive (stream: Stream, session: Session): Promise<void> {
    if (this.closed) {
      stream.abort(new NotStartedError('notification channel closed'))
      return
    }
    this.inbound.add(stream)
    const endWithSession = (): void => { stream.abort(session.signal.reason) }
    session.signal.addEventListener('abort', endWithSession, { once: true })
    try {
      for await (const message of readMessages(stream, this.maxMessageBytes)) {
        if (!this.admit(message, session)) {
          continue
        }
        try {
          await this.onMessage(message, session)
        } catch (err) {
          this.log.error('%s: onMessage failed on a message from %p - %e', this.protocol, session.peerId, err)
        }
      }
      await stream.close({ signal: session.signal })
    } catch (err: any) {
      this.log('%s: inbound stream from %p ended - %e', this.protocol, session.peerId, err)
      stream.abort(err)
    } finally {
      session.signal.removeEventListener('abort', endWithSession)
      this.inbound.delete(stream)
    }
  }

  async send (peer: PeerId, message: Uint8Array): Promise<void> {
    if (this.closed) {
      throw new NotStartedError('notification channel closed')
    }
    if (message.byteLength > this.maxMessageBytes) {
      throw new MessageTooLargeError(message.byteLength, this.maxMessageBytes)
    }
    const session = this.handshaking.has(peer)
      ? await this.afterHandshake(peer)
      : this.sessions.get(peer) ?? await this.afterHandshake(peer)
    if (session == null || session.signal.aborted) {
      throw new NoSessionError(`no session with ${peer.toString()}`)
    }
    if (this.closed) {
      throw new NotStartedError('notification channel closed')
    }
    const out = this.outboundTo(session)
    if (out.queue.length >= this.maxQueuedMessages) {
      throw new QueueFullError(`${this.maxQueuedMessages} ${this.protocol} messages to ${peer.toString()} are queued already`)
    }
    return new Promise<void>((resolve, reject) => {
      out.queue.push({ message, resolve, reject })
      void this.drain(out)
    })
  }

  async broadcast (message: Uint8Array, options: BroadcastOptions = {}): Promise<number> {
    if (message.byteLength > this.maxMessageBytes) {
      throw new MessageTooLargeError(message.byteLength, this.maxMessageBytes)
    }
    const except = options.except == null ? [] : Array.isArray(options.except) ? options.except : [options.except]
    const peers = this.sessions.list()
      .map(session => session.peerId)
      .filter(peer => !except.some(other => other.equals(peer)))
    const results = await Promise.allSettled(peers.map(async peer => this.send(peer, message)))
    let sent = 0
    results.forEach((result, i) => {
      if (result.status === 'fulfilled') {
        sent++
      } else {
        this.log('%s: broadcast to %p failed - %e', this.protocol, peers[i], result.reason)
      }
    })
    return sent
  }

  async close (): Promise<void> {
    if (this.closed) {
      return
    }
    this.closed = true
    await this.sessions.unhandle(this.protocol)
    const closing: Array<Promise<void>> = []
    for (const out of this.outbound.values()) {
      this.end(out, new NotStartedError('notification channel closed'))
      const stream = out.stream
      if (stream != null) {
        // a peer that stops reading would keep close() waiting for the drain until its session ends
        closing.push(stream.close({ signal: AbortSignal.timeout(NOTIFICATION_CLOSE_TIMEOUT_MS) }).catch(err => { stream.abort(err) }))
      }
    }
    this.outbound.clear()
    this.limiter?.clear()
    for (const stream of this.inbound) {
      stream.abort(new NotStartedError('notification channel closed'))
    }
    await Promise.all(closing)
  }

  /**
   * The session the handshake in flight with `peer` makes (undefined when
   * none is in flight, or it fails); every send waiting for one handshake
   * shares one wait, so they go on in the order they came
   */
  private async afterHandshake (peer: PeerId): Promise<Session | undefined> {
    let wait = this.handshaking.get(peer)
    if (wait == null) {
      const created: HandshakeWait = { settled: this.sessions.waitForSession(peer), waiting: 0 }
      this.handshaking.set(peer, created)
      created.settled.finally(() => {
        if (this.handshaking.get(peer) === created) {
          this.handshaking.delete(peer)
        }
      }).catch(() => {
        // the senders get the error
      })
      wait = created
    }
    if (wait.waiting >= this.maxQueuedMessages) {
      throw new QueueFullError(`${this.maxQueuedMessages} ${this.protocol} messages to ${peer.toString()} are waiting for its handshake already`)
    }
    wait.waiting++
    try {
      return await wait.settled
    } finally {
      wait.waiting--
    }
  }

  /** The outbound side towards a session, made at the first send; it goes with the session */
  private outboundTo (session: Session): Outbound {
    let out = this.outbound.get(session)
    if (out == null) {
      const created: Outbound = { session, queue: [], draining: false }
      session.signal.addEventListener('abort', () => {
        this.outbound.delete(session)
        this.end(created, session.signal.reason)
        created.stream?.abort(session.signal.reason)
      }, { once: true })
      this.outbound.set(session, created)
      out = created
    }
    return out
  }

  /** Rejects what is queued (the message being written settles on its own) */
  private end (out: Outbound, reason: unknown): void {
    const waiting = out.draining ? out.queue.splice(1) : out.queue.splice(0)
    waiting.forEach(queued => { queued.reject(reason) })
  }

  /** Writes the queue in order, opening the stream when there is none; a failed stream is dropped, the next message opens another */
  private async drain (out: Outbound): Promise<void> {
    if (out.draining) {
      return
    }
    out.draining = true
    try {
      while (out.queue.length > 0) {
        const queued = out.queue[0]
        try {
          if (out.stream == null || out.stream.writeStatus !== 'writable') {
            const stream = await this.open(out)
            if (this.closed) {
              // close() ran while the stream was being opened: it could not close this one
              const reason = new NotStartedError('notification channel closed')
              stream.abort(reason)
              throw reason
            }
            out.stream = stream
          }
          await writeMessage(out.stream, queued.message, { maxMessageBytes: this.maxMessageBytes, signal: out.session.signal })
          queued.resolve()
        } catch (err) {
          this.log('%s: sending to %p failed - %e', this.protocol, out.session.peerId, err)
          out.stream?.abort(err instanceof Error ? err : new Error(String(err)))
          out.stream = undefined
          queued.reject(err)
        }
        out.queue.shift()
      }
    } finally {
      out.draining = false
    }
  }

  private async open (out: Outbound): Promise<Stream> {
    const stream = await this.sessions.openStream(out.session.peerId, this.protocol, { signal: out.session.signal })
    // a stream the remote reset or closed is dropped at once, so the next send opens another
    stream.addEventListener('close', () => {
      if (out.stream === stream) {
        out.stream = undefined
      }
    })
    return stream
  }
}
