/**
 * @packageDocumentation
 *
 * Rate limits per peer and protocol (docs/APPLICATION-PROTOCOLS.md §5): a
 * token bucket per session peer for each protocol that has one, counted in
 * units the protocol declares (requests or messages by default; the items a
 * request asks for when it says so with `cost`, as Lodestar counts blocks).
 * Request/response answers an over-limit request RESOURCE_UNAVAILABLE without
 * running its handler, notifications drop an over-limit message, the status
 * protocol resets an over-limit request; each refusal reports the peer
 * (`Sessions.reportPeer`, reason `rate-limit:<protocol>`) for the peer score
 * and the metrics. A peer's buckets go with its session.
 *
 * @example
 *
 * ```TypeScript
 * // 1,024 blocks per 10 s per peer, counted from the request
 * await node.handleRequests('/my-chain/blocks/1', serveBlocks, {
 *   rateLimit: { limit: 1024, periodMs: 10_000, cost: (req) => decodeRange(req).count }
 * })
 * ```
 */

import type { PeerAction } from '../session/index.js'

/** A protocol's rate limit per peer; unset fields take the protocol's defaults */
export interface RateLimit {
  /**
   * Units a peer may use per `periodMs`, and the most it may use at once
   * (the bucket's size). Units come back evenly over the period.
   */
  limit: number
  /** ms over which `limit` units come back */
  periodMs: number
  /**
   * What a refusal reports to the peer score
   *
   * @default PeerAction.LOW_TOLERANCE (DEFAULT_RATE_LIMIT_ACTION)
   */
  action?: PeerAction
  /**
   * The units one request (or notification) counts for, e.g. the number of
   * blocks it asks for; read from the request before the handler runs. A
   * request over `limit` on its own is always refused. Unset: 1 each.
   * What throws or is not a whole number >= 0 makes the request invalid
   * (INVALID_REQUEST; a notification is dropped).
   */
  cost?(message: Uint8Array): number
}

export { RateLimiter, resolveRateLimit, rateLimitReason, rateLimitedProtocol, reporterOf, type PeerReporter, type ResolvedRateLimit } from './rate-limiter.js'
export { takeTokens, refill, fullBucket, waitMs, type Bucket, type BucketRate, type Take } from './token-bucket.js'
export { RATE_LIMIT_REASON_PREFIX, DEFAULT_RATE_LIMIT_ACTION, DEFAULT_REQUEST_RATE_LIMIT, DEFAULT_REQUEST_RATE_PERIOD_MS, DEFAULT_NOTIFICATION_RATE_LIMIT, DEFAULT_NOTIFICATION_RATE_PERIOD_MS } from './constants.js'
