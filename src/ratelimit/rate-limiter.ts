import { InvalidParametersError } from '@libp2p/interface'
import { PeerAction } from '../session/index.js'
import { DEFAULT_RATE_LIMIT_ACTION, RATE_LIMIT_REASON_PREFIX } from './constants.js'
import { fullBucket, takeTokens, type Bucket, type BucketRate } from './token-bucket.js'
import type { RateLimit } from './index.js'
import type { Session } from '../session/index.js'
import type { PeerId } from '@libp2p/interface'

/** What a refusal is reported to: `Sessions.reportPeer` */
export interface PeerReporter {
  reportPeer(peer: PeerId, action: PeerAction, reason: string): void
}

/** A rate limit with its defaults applied and checked */
export interface ResolvedRateLimit extends BucketRate {
  action: PeerAction
  cost?(message: Uint8Array): number
}

/** A reporter that passes reports on to `sessions.reportPeer` when it has one, and drops them when not */
export function reporterOf (sessions: { reportPeer?: PeerReporter['reportPeer'] }): PeerReporter {
  return {
    reportPeer: (peer, action, reason) => { sessions.reportPeer?.(peer, action, reason) }
  }
}

/** The reason a refusal on `protocol` is reported with: `rate-limit:<protocol>` */
export function rateLimitReason (protocol: string): string {
  return `${RATE_LIMIT_REASON_PREFIX}${protocol}`
}

/** The protocol a report's reason names, when it is a rate limit's; undefined for any other reason */
export function rateLimitedProtocol (reason: string): string | undefined {
  return reason.startsWith(RATE_LIMIT_REASON_PREFIX) ? reason.slice(RATE_LIMIT_REASON_PREFIX.length) : undefined
}

/**
 * A protocol's rate limit from its options: `false` for none, unset for the
 * protocol's defaults, otherwise the options over the defaults
 *
 * @throws {InvalidParametersError} a limit or period that is not a whole number >= 1, an unknown action, a cost that is not a function
 */
export function resolveRateLimit (options: Partial<RateLimit> | false | undefined, defaults: BucketRate): ResolvedRateLimit | undefined {
  if (options === false) {
    return undefined
  }
  const resolved: ResolvedRateLimit = {
    limit: options?.limit ?? defaults.limit,
    periodMs: options?.periodMs ?? defaults.periodMs,
    action: options?.action ?? DEFAULT_RATE_LIMIT_ACTION,
    cost: options?.cost
  }
  for (const name of ['limit', 'periodMs'] as const) {
    const value = resolved[name]
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new InvalidParametersError(`rateLimit.${name} must be a whole number >= 1, got ${value}`)
    }
  }
  if (!Object.values(PeerAction).includes(resolved.action)) {
    throw new InvalidParametersError(`rateLimit.action must be a PeerAction, got ${String(resolved.action)}`)
  }
  if (resolved.cost != null && typeof resolved.cost !== 'function') {
    throw new InvalidParametersError('rateLimit.cost must be a function')
  }
  return resolved
}

/**
 * The rate limit of one protocol: a token bucket per session peer, made at
 * its first request and dropped when its session ends (so the map holds at
 * most one bucket per open session). A refusal reports the peer
 * (`rate-limit:<protocol>`, with the limit's action) and costs nothing else:
 * no log above debug, no allocation beyond the bucket's new state.
 */
export class RateLimiter {
  readonly protocol: string
  readonly limit: ResolvedRateLimit
  /** what a refusal is reported with */
  readonly reason: string
  private readonly reporter: PeerReporter
  private readonly now: () => number
  private readonly buckets = new Map<Session, Bucket>()
  /** what an ordinary refusal says, made once: a refusal costs no string work */
  private readonly overLimit: string

  /**
   * @param now - the clock, ms; injectable for tests
   */
  constructor (protocol: string, limit: ResolvedRateLimit, reporter: PeerReporter, now: () => number = () => performance.now()) {
    this.protocol = protocol
    this.limit = limit
    this.reason = rateLimitReason(protocol)
    this.reporter = reporter
    this.now = now
    this.overLimit = `rate limited: over ${limit.limit} per ${period(limit.periodMs)}`
  }

  /** Buckets held: one per session that made a request and has not ended */
  get size (): number {
    return this.buckets.size
  }

  /**
   * Takes `cost` units from the bucket of `session`'s peer: true when they
   * were there (serve it); false when not (refuse it: the peer was
   * reported) or when the session has ended (nothing to serve, nothing
   * reported)
   */
  take (session: Session, cost: number = 1): boolean {
    if (session.signal.aborted) {
      return false
    }
    const now = this.now()
    let bucket = this.buckets.get(session)
    if (bucket == null) {
      bucket = fullBucket(this.limit, now)
      session.signal.addEventListener('abort', () => { this.buckets.delete(session) }, { once: true })
    }
    const { taken, bucket: after } = takeTokens(bucket, cost, this.limit, now)
    this.buckets.set(session, after)
    if (!taken) {
      this.reporter.reportPeer(session.peerId, this.limit.action, this.reason)
    }
    return taken
  }

  /**
   * The units a message counts for: 1, or what the limit's `cost` says
   *
   * @throws {InvalidParametersError} `cost` threw or did not return a whole number >= 0
   */
  costOf (message: Uint8Array): number {
    if (this.limit.cost == null) {
      return 1
    }
    let cost: number
    try {
      cost = this.limit.cost(message)
    } catch (err: any) {
      throw new InvalidParametersError(`could not count the units of the message: ${err?.message ?? String(err)}`)
    }
    if (!Number.isSafeInteger(cost) || cost < 0) {
      throw new InvalidParametersError(`a message counts for ${cost} units: not a whole number >= 0`)
    }
    return cost
  }

  /** Drops every bucket (the protocol is no longer served) */
  clear (): void {
    this.buckets.clear()
  }

  /** What a refusal tells the requester, for its logs */
  describe (cost: number): string {
    return cost > this.limit.limit
      ? `rate limited: the request counts ${cost} units, more than the limit of ${this.limit.limit} per ${period(this.limit.periodMs)}`
      : this.overLimit
  }
}

/** A period for a person: whole seconds in s, anything else in ms */
function period (ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`
}
