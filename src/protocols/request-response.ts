import { InvalidMessageError, InvalidParametersError, TimeoutError } from '@libp2p/interface'
import { defaultLogger } from '@libp2p/logger'
import { anySignal } from 'any-signal'
import { DEFAULT_REQUEST_RATE_LIMIT, DEFAULT_REQUEST_RATE_PERIOD_MS, RateLimiter, reporterOf, resolveRateLimit, type RateLimit } from '../ratelimit/index.js'
import { NoSessionError } from '../session/index.js'
import { truncateUtf8 } from '../wire/index.js'
import { DEFAULT_MAX_IN_FLIGHT_PER_PEER, DEFAULT_MAX_REQUEST_BYTES, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_REQUEST_READ_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS, MAX_ERROR_MESSAGE_BYTES } from './constants.js'
import { MessageTooLargeError, RemoteResultError, TooManyRequestsError } from './errors.js'
import { readFirstByte, readMessage, writeMessage, type ByteSource, type MessageOptions } from './framing.js'
import { RESULT_BYTE, ResultCode, resultCodeOf } from './result-code.js'
import type { ProtocolSessions } from './index.js'
import type { Session } from '../session/index.js'
import type { AbortOptions, ComponentLogger, Logger, PeerId, Stream } from '@libp2p/interface'

/**
 * A responder's answer: a payload with SUCCESS, or another result code with
 * an error message for the requester's logs
 */
export type Response =
  | { code: ResultCode.SUCCESS, payload: Uint8Array }
  | { code: Exclude<ResultCode, ResultCode.SUCCESS>, message: string }

/** What a request succeeded with */
export interface SuccessResponse {
  code: ResultCode.SUCCESS
  payload: Uint8Array
}

/**
 * Answers one request of a session peer: the payload (SUCCESS) or a
 * `Response` with any result code. A handler that throws answers
 * SERVER_ERROR; what it threw is logged here, not sent.
 */
export interface RequestHandler {
  (request: Uint8Array, session: Session): Uint8Array | Response | Promise<Uint8Array | Response>
}

/** Limits shared by both sides; give both sides the same values */
export interface RequestLimits {
  /**
   * Largest request body in bytes, checked before sending and on the length prefix when reading
   *
   * @default 65536 (DEFAULT_MAX_REQUEST_BYTES)
   */
  maxRequestBytes?: number
  /**
   * Largest response body (payload or error message) in bytes, checked before sending and on the length prefix when reading
   *
   * @default 1048576 (DEFAULT_MAX_RESPONSE_BYTES)
   */
  maxResponseBytes?: number
  /**
   * Requests of this protocol in flight per peer. A responder answers the
   * ones beyond it RESOURCE_UNAVAILABLE without calling the handler; a
   * requester refuses them locally with TooManyRequestsError.
   *
   * @default 2 (DEFAULT_MAX_IN_FLIGHT_PER_PEER)
   */
  maxInFlightPerPeer?: number
  logger?: ComponentLogger
}

export interface HandleRequestsOptions extends RequestLimits {
  /**
   * How long the responder waits for the whole request once the stream is
   * open, in ms; and again, how long its answer (result byte, frame, close)
   * may take to be taken by the requester before the stream is reset
   *
   * @default 5000 (DEFAULT_REQUEST_READ_TIMEOUT_MS)
   */
  timeoutMs?: number
  /**
   * Each session peer's rate limit on this protocol, a token bucket counted in
   * requests, or in the units `cost` reads from each request (the items it
   * asks for). A request over it is answered RESOURCE_UNAVAILABLE without
   * calling the handler, and the peer is reported (`rate-limit:<protocol>`,
   * `action`). Fields left out take the defaults; `false` for no limit.
   *
   * @default 100 requests per 10 s (DEFAULT_REQUEST_RATE_LIMIT per DEFAULT_REQUEST_RATE_PERIOD_MS), reported LOW_TOLERANCE
   */
  rateLimit?: Partial<RateLimit> | false
}

export interface RequestOptions extends RequestLimits, AbortOptions {
  /**
   * Deadline for the whole exchange (open the stream, send, read the answer), in ms
   *
   * @default 10000 (DEFAULT_REQUEST_TIMEOUT_MS)
   */
  timeoutMs?: number
}

interface ResolvedLimits {
  maxRequestBytes: number
  maxResponseBytes: number
  maxInFlightPerPeer: number
  timeoutMs: number
}

function resolveLimits (options: RequestLimits & { timeoutMs?: number }, defaultTimeoutMs: number): ResolvedLimits {
  const limits = {
    maxRequestBytes: options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES,
    maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
    maxInFlightPerPeer: options.maxInFlightPerPeer ?? DEFAULT_MAX_IN_FLIGHT_PER_PEER,
    timeoutMs: options.timeoutMs ?? defaultTimeoutMs
  }
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new InvalidParametersError(`${name} must be a whole number >= 1, got ${value}`)
    }
  }
  return limits
}

/**
 * Requests in flight per session, per protocol. Keyed by the session object,
 * so the count goes when the session does; one map per side.
 */
class InFlight {
  private readonly counts = new WeakMap<Session, Map<string, number>>()

  /** takes a slot, or returns false when `max` are taken */
  acquire (session: Session, protocol: string, max: number): boolean {
    let byProtocol = this.counts.get(session)
    if (byProtocol == null) {
      byProtocol = new Map()
      this.counts.set(session, byProtocol)
    }
    const count = byProtocol.get(protocol) ?? 0
    if (count >= max) {
      return false
    }
    byProtocol.set(protocol, count + 1)
    return true
  }

  release (session: Session, protocol: string): void {
    const byProtocol = this.counts.get(session)
    const count = byProtocol?.get(protocol) ?? 0
    if (count <= 1) {
      byProtocol?.delete(protocol)
    } else {
      byProtocol?.set(protocol, count - 1)
    }
  }
}

const served = new InFlight()
const requested = new InFlight()

/**
 * Serves a request/response protocol to session peers (gated by `sessions`):
 * one stream per request; reads one framed request, answers with a result
 * byte and one framed payload, then closes (docs/APPLICATION-PROTOCOLS.md).
 * libp2p resets a peer's inbound streams of `protocol` beyond
 * `maxInFlightPerPeer + 1` per connection. `sessions.unhandle(protocol)`
 * stops serving it.
 */
export async function handleRequests (sessions: ProtocolSessions, protocol: string, handler: RequestHandler, options: HandleRequestsOptions = {}): Promise<void> {
  const limits = resolveLimits(options, DEFAULT_REQUEST_READ_TIMEOUT_MS)
  const log = (options.logger ?? defaultLogger()).forComponent('peergate:protocols:responder')
  const rateLimit = resolveRateLimit(options.rateLimit, { limit: DEFAULT_REQUEST_RATE_LIMIT, periodMs: DEFAULT_REQUEST_RATE_PERIOD_MS })
  const limiter = rateLimit == null ? undefined : new RateLimiter(protocol, rateLimit, reporterOf(sessions))
  // libp2p's default (32 inbound streams per connection) would let a peer
  // park 30 streams beyond its in-flight slots; the slots plus one leaves room
  // for one stream to be answered RESOURCE_UNAVAILABLE (the rate-limit answer
  // a requester understands) or a just-answered one still closing
  const maxInboundStreams = limits.maxInFlightPerPeer + 1
  await sessions.handle(protocol, async (stream, _connection, session) => {
    if (!served.acquire(session, protocol, limits.maxInFlightPerPeer)) {
      log('%s: %p has %d requests in flight, answering RESOURCE_UNAVAILABLE', protocol, session.peerId, limits.maxInFlightPerPeer)
      await answer(stream, { code: ResultCode.RESOURCE_UNAVAILABLE, message: 'too many requests in flight' }, limits, session, log)
      return
    }
    try {
      // counted in requests: refused before the request is read, the cheapest answer
      if (limiter?.limit.cost == null && limiter?.take(session) === false) {
        await answer(stream, { code: ResultCode.RESOURCE_UNAVAILABLE, message: limiter.describe(1) }, limits, session, log)
        return
      }
      await serve(stream, protocol, session, handler, limits, log, limiter)
    } finally {
      served.release(session, protocol)
    }
  }, { maxInboundStreams })
}

async function serve (stream: Stream, protocol: string, session: Session, handler: RequestHandler, limits: ResolvedLimits, log: Logger, limiter?: RateLimiter): Promise<void> {
  const signal = anySignal([session.signal, AbortSignal.timeout(limits.timeoutMs)])
  let request: Uint8Array
  try {
    request = await readMessage(stream, { maxMessageBytes: limits.maxRequestBytes, signal })
  } catch (err: any) {
    if (signal.aborted) {
      log('%s: no request from %p in time - %e', protocol, session.peerId, err)
      stream.abort(session.signal.aborted ? session.signal.reason : new TimeoutError('no request in time'))
      return
    }
    log('%s: unreadable request from %p - %e', protocol, session.peerId, err)
    await answer(stream, { code: ResultCode.INVALID_REQUEST, message: err.message ?? 'unreadable request' }, limits, session, log)
    return
  } finally {
    signal.clear()
  }

  if (limiter?.limit.cost != null) {
    // counted in the units the request asks for: known once it is read
    let cost: number
    try {
      cost = limiter.costOf(request)
    } catch (err: any) {
      log('%s: could not count the request of %p - %e', protocol, session.peerId, err)
      await answer(stream, { code: ResultCode.INVALID_REQUEST, message: err.message }, limits, session, log)
      return
    }
    if (!limiter.take(session, cost)) {
      await answer(stream, { code: ResultCode.RESOURCE_UNAVAILABLE, message: limiter.describe(cost) }, limits, session, log)
      return
    }
  }

  let response: Response
  try {
    const result = await handler(request, session)
    response = result instanceof Uint8Array ? { code: ResultCode.SUCCESS, payload: result } : result
  } catch (err) {
    log.error('%s: handler failed on a request from %p - %e', protocol, session.peerId, err)
    response = { code: ResultCode.SERVER_ERROR, message: 'the handler failed' }
  }
  if (response.code === ResultCode.SUCCESS && response.payload.byteLength > limits.maxResponseBytes) {
    log.error('%s: response of %d bytes to %p is over maxResponseBytes (%d)', protocol, response.payload.byteLength, session.peerId, limits.maxResponseBytes)
    response = { code: ResultCode.SERVER_ERROR, message: 'response too large' }
  }
  await answer(stream, response, limits, session, log)
}

/**
 * Writes the result byte and the framed payload, then closes, within the
 * responder's `timeoutMs`: a requester that stops reading does not hold the
 * handler (and its in-flight slot) until the session ends. Never throws.
 */
async function answer (stream: Stream, response: Response, limits: ResolvedLimits, session: Session, log: Logger): Promise<void> {
  const payload = response.code === ResultCode.SUCCESS
    ? response.payload
    : new TextEncoder().encode(truncateUtf8(response.message, Math.min(MAX_ERROR_MESSAGE_BYTES, limits.maxResponseBytes)))
  const timeout = AbortSignal.timeout(limits.timeoutMs)
  const signal = anySignal([session.signal, timeout])
  try {
    if (!stream.send(Uint8Array.of(RESULT_BYTE[response.code]))) {
      await stream.onDrain({ signal })
    }
    await writeMessage(stream, payload, { maxMessageBytes: limits.maxResponseBytes, signal })
    await stream.close({ signal })
  } catch (err: any) {
    const reason = timeout.aborted && !session.signal.aborted
      ? new TimeoutError(`the answer to ${session.peerId.toString()} was not taken within ${limits.timeoutMs} ms`)
      : err
    log('could not answer %p - %e', session.peerId, reason)
    stream.abort(reason)
  } finally {
    signal.clear()
  }
}

/**
 * Sends `request` to `peer` over the session with it and reads the answer.
 * Resolves with the SUCCESS payload.
 *
 * @throws {NoSessionError} no session with `peer`
 * @throws {TooManyRequestsError} `maxInFlightPerPeer` requests of `protocol` to `peer` are in flight already
 * @throws {MessageTooLargeError} the request is over `maxRequestBytes` (nothing sent), or the response's prefix is over `maxResponseBytes`
 * @throws {RemoteResultError} the responder answered another result code (`code`, `remoteMessage`)
 * @throws {TimeoutError} the exchange took longer than `timeoutMs`
 * @throws {InvalidMessageError} the responder sent an unknown result byte
 */
export async function request (sessions: ProtocolSessions, peer: PeerId, protocol: string, request: Uint8Array, options: RequestOptions = {}): Promise<SuccessResponse> {
  const limits = resolveLimits(options, DEFAULT_REQUEST_TIMEOUT_MS)
  if (request.byteLength > limits.maxRequestBytes) {
    throw new MessageTooLargeError(request.byteLength, limits.maxRequestBytes, `request of ${request.byteLength} bytes is over maxRequestBytes (${limits.maxRequestBytes})`)
  }
  const session = sessions.get(peer) ?? await sessions.waitForSession(peer, options)
  if (session == null) {
    throw new NoSessionError(`no session with ${peer.toString()}`)
  }
  if (!requested.acquire(session, protocol, limits.maxInFlightPerPeer)) {
    throw new TooManyRequestsError(`${limits.maxInFlightPerPeer} ${protocol} requests to ${peer.toString()} are in flight already`)
  }
  const timeout = AbortSignal.timeout(limits.timeoutMs)
  const signal = anySignal([options.signal, session.signal, timeout])
  let stream: Stream | undefined
  try {
    stream = await sessions.openStream(peer, protocol, { signal })
    await writeMessage(stream, request, { maxMessageBytes: limits.maxRequestBytes, signal })
    await stream.close({ signal })
    return await readResponse(stream, { maxMessageBytes: limits.maxResponseBytes, signal })
  } catch (err: any) {
    const reason = timeout.aborted && options.signal?.aborted !== true
      ? new TimeoutError(`${protocol} request to ${peer.toString()} took longer than ${limits.timeoutMs} ms`)
      : err
    stream?.abort(reason)
    throw reason
  } finally {
    signal.clear()
    requested.release(session, protocol)
  }
}

/**
 * Reads a responder's answer from `source` (docs/APPLICATION-PROTOCOLS.md
 * §3): the result byte, then one framed payload of at most
 * `maxMessageBytes`; anything after it is not read
 *
 * @returns the payload, with SUCCESS
 * @throws {RemoteResultError} another result code, with the payload's first MAX_ERROR_MESSAGE_BYTES as its message
 * @throws {InvalidMessageError} an unknown result byte, or a payload prefix that is not minimally encoded
 * @throws {MessageTooLargeError} the payload's prefix is over `maxMessageBytes`
 * @throws {StreamEndedError} the source ended before the result byte or inside the payload
 * @throws the signal's reason when it aborts first
 */
export async function readResponse (source: ByteSource, options: MessageOptions): Promise<SuccessResponse> {
  const { byte, rest } = await readFirstByte(source, options)
  const code = resultCodeOf(byte)
  if (code == null) {
    throw new InvalidMessageError(`unknown result byte ${byte}`)
  }
  const payload = await readMessage(rest, options)
  if (code !== ResultCode.SUCCESS) {
    throw new RemoteResultError(code, new TextDecoder().decode(payload.subarray(0, MAX_ERROR_MESSAGE_BYTES)))
  }
  return { code, payload }
}
