import { PeerAction } from '../session/index.js'

/**
 * A refused request, message or status round is reported with this prefix
 * before the protocol id (`rate-limit:/my-chain/blocks/1`): the peer score
 * counts it, the metrics count it per protocol
 */
export const RATE_LIMIT_REASON_PREFIX = 'rate-limit:'

/**
 * What an over-limit request reports by default. Not FATAL, as Lodestar makes
 * it: a requester that never configured its side does not know our limits,
 * and one refused request is not proof of malice. LOW_TOLERANCE ("a few
 * disconnect it") still ends a flood within its first second: a peer at 10×
 * the limit goes over dozens of times a second.
 */
export const DEFAULT_RATE_LIMIT_ACTION = PeerAction.LOW_TOLERANCE

/**
 * Requests per peer and protocol by default: 100 per 10 s, at most 100 at
 * once. Counted in requests unless the protocol counts items (`cost`). Ten a
 * second is far above what a chain's header, block or transaction lookups ask
 * of one peer (Lodestar lets a peer ask 1,024 blocks per 10 s, in about 16
 * requests of 64), and the in-flight limit (2 per peer) already bounds how
 * many run at once; the bucket bounds how many a peer may make in a row.
 */
export const DEFAULT_REQUEST_RATE_LIMIT = 100

/** The period over which {@link DEFAULT_REQUEST_RATE_LIMIT} requests come back, in ms (Lodestar's block quotas use 10 s) */
export const DEFAULT_REQUEST_RATE_PERIOD_MS = 10_000

/**
 * Notifications per peer and protocol by default: 1,000 per 10 s, at most
 * 1,000 at once. A notification protocol carries announcements and
 * transactions, which a busy chain relays by the hundred a second; a peer
 * beyond that is flooding. Messages over it are dropped unread by the
 * application.
 */
export const DEFAULT_NOTIFICATION_RATE_LIMIT = 1_000

/** The period over which {@link DEFAULT_NOTIFICATION_RATE_LIMIT} notifications come back, in ms */
export const DEFAULT_NOTIFICATION_RATE_PERIOD_MS = 10_000
