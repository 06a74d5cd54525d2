/**
 * A token bucket, as pure functions of its state and the time: it holds at
 * most `limit` tokens and gains `limit` every `periodMs`, evenly. A request
 * that costs more than the bucket holds is refused and takes nothing, so a
 * peer sending as fast as it can is served exactly at the rate (plus the
 * first full bucket), however fast it sends.
 */

/** The state of one bucket */
export interface Bucket {
  /** tokens in the bucket at `at` (fractional: tokens come back evenly) */
  readonly tokens: number
  /** when `tokens` was counted, ms on the limiter's clock */
  readonly at: number
}

/** A bucket's size and refill */
export interface BucketRate {
  /** the most tokens the bucket holds, and how many come back per `periodMs` */
  readonly limit: number
  /** ms over which `limit` tokens come back */
  readonly periodMs: number
}

/** The outcome of `takeTokens` */
export interface Take {
  /** the tokens were taken: serve the request */
  taken: boolean
  /** the bucket after the attempt */
  bucket: Bucket
}

/**
 * Below this a shortfall is rounding, not a missing token: 0.1 s of a
 * 10-per-second bucket is 0.9999999999999999 tokens in floating point
 */
const EPSILON = 1e-9

/** A full bucket at `now`: a peer's first requests are served at once, up to `limit` */
export function fullBucket (rate: BucketRate, now: number): Bucket {
  return { tokens: rate.limit, at: now }
}

/** The bucket at `now`: refilled for the time since it was counted, never beyond `limit`; a clock going back refills nothing */
export function refill (bucket: Bucket, rate: BucketRate, now: number): Bucket {
  const elapsed = Math.max(0, now - bucket.at)
  const tokens = Math.min(rate.limit, bucket.tokens + elapsed * rate.limit / rate.periodMs)
  return { tokens, at: Math.max(now, bucket.at) }
}

/** Takes `cost` tokens at `now` when the refilled bucket holds them; otherwise takes none */
export function takeTokens (bucket: Bucket, cost: number, rate: BucketRate, now: number): Take {
  const refilled = refill(bucket, rate, now)
  if (cost > refilled.tokens + EPSILON) {
    return { taken: false, bucket: refilled }
  }
  return { taken: true, bucket: { tokens: Math.max(0, refilled.tokens - cost), at: refilled.at } }
}

/**
 * ms from `now` until the bucket holds `cost` tokens: 0 when it does now,
 * Infinity when `cost` is over `limit` (never). A requester that waits this
 * long before each request, and then takes the tokens from a bucket of its
 * own with the responder's rate, is never refused.
 */
export function waitMs (bucket: Bucket, cost: number, rate: BucketRate, now: number): number {
  if (cost > rate.limit) {
    return Number.POSITIVE_INFINITY
  }
  const missing = cost - refill(bucket, rate, now).tokens
  return missing <= EPSILON ? 0 : Math.ceil(missing * rate.periodMs / rate.limit)
}
