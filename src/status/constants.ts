/** The status exchange runs on its own gated stream under this protocol id (docs/PROTOCOL.md §15) */
export const STATUS_PROTOCOL = '/peergate/status/1.0.0'

/**
 * How often each side of a session exchanges status with the other and
 * revalidates its DID. Lodestar re-sends its Status every 5 minutes: heads
 * that matter sooner are pushed by `setHead`, so the periodic round only
 * catches what a push missed and a DID whose keys changed.
 */
export const STATUS_INTERVAL_MS = 5 * 60_000

/**
 * A push (`setHead`) starts at most one status round per peer in this time;
 * heads set meanwhile are coalesced into the next round, which sends the
 * latest. A chain producing blocks every few seconds then costs each peer at
 * most one exchange a second.
 */
export const STATUS_MIN_INTERVAL_MS = 1_000

/**
 * Any two status rounds this node starts with one peer (pushed, periodic or
 * on demand) start at least this far apart; a round due sooner waits. Half
 * the push interval keeps an on-demand refresh prompt, and is twice the
 * responder's limit ({@link STATUS_MIN_REQUEST_GAP_MS}), so that two requests
 * that travel unevenly still arrive far enough apart to be answered.
 */
export const STATUS_MIN_ROUND_GAP_MS = STATUS_MIN_INTERVAL_MS / 2

/**
 * A responder resets, without an answer, a status request that arrives less
 * than this after the last request it took from the same peer
 * (docs/PROTOCOL.md §15.6). Each answer reads `getStatus` and may announce
 * `session:status`, so without it a session peer looping on the protocol
 * would make the node work as fast as it can send; with it one peer gets at
 * most four answers a second. It is half of {@link STATUS_MIN_ROUND_GAP_MS},
 * by which honest requesters space their rounds: 250 ms for jitter.
 */
export const STATUS_MIN_REQUEST_GAP_MS = STATUS_MIN_ROUND_GAP_MS / 2

/**
 * Deadline of one status exchange (open the stream, one message each way). It
 * is two messages where the handshake is four, over a connection already up;
 * the handshake's 5 s covers slow links with room to spare.
 */
export const STATUS_TIMEOUT_MS = 5_000

/**
 * Consecutive failed status exchanges (timeout, malformed or missing answer)
 * after which the session ends with TIMEOUT. One failure can be a hiccup; three
 * in a row is a peer that no longer answers. How far apart the three are
 * depends on what starts the rounds (they never overlap): periodic rounds
 * alone take two intervals (10 minutes by default), but pushed rounds are only
 * {@link STATUS_MIN_INTERVAL_MS} apart, so on a chain that calls `setHead`
 * every second a peer that fails fast loses its session in about 2 s. A peer
 * that answers `na` (no status protocol) is not failing (docs/PROTOCOL.md §15.6).
 */
export const MAX_STATUS_FAILURES = 3

/** Inbound and outbound status streams per connection: one round each way at a time, plus one overlapping */
export const MAX_STATUS_STREAMS = 2

/**
 * Status requests a responder takes from one peer per
 * {@link STATUS_RATE_PERIOD_MS} (a token bucket, docs/APPLICATION-PROTOCOLS.md
 * §5): 20 per 10 s, two a second, the fastest an honest requester goes (its
 * rounds start STATUS_MIN_ROUND_GAP_MS apart), with 20 at once for a
 * burst of on-demand refreshes. Lodestar allows 5 per 15 s because eth2
 * peers exchange Status rarely; ours push a round at each new head (at most
 * one a second), which its limit would refuse. A request over it is reset
 * and the peer reported `rate-limit:/peergate/status/1.0.0`.
 */
export const STATUS_RATE_LIMIT = 20

/** The period over which {@link STATUS_RATE_LIMIT} status requests come back, in ms */
export const STATUS_RATE_PERIOD_MS = 10_000
