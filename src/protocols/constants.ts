/**
 * Largest request by default. Requests name what they want (a block range, a
 * hash list), as eth2's req/resp requests do, so 64 KiB leaves room for a few
 * thousand hashes while keeping what a peer can make us buffer small.
 */
export const DEFAULT_MAX_REQUEST_BYTES = 64 * 1024

/**
 * Largest response by default: a block or a batch of blocks of a prototype
 * chain. With {@link DEFAULT_MAX_IN_FLIGHT_PER_PEER} this bounds what one peer's
 * answers can make us buffer at 2 MiB per protocol.
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024

/**
 * Deadline for a whole request/response exchange on the requester (open the
 * stream, send, read the answer), as eth2's RESP_TIMEOUT (10 s)
 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000

/**
 * How long a responder waits for the request after the stream opened, as
 * eth2's TTFB_TIMEOUT (5 s): a peer that opens streams and never writes
 * holds a slot for no longer than that
 */
export const DEFAULT_REQUEST_READ_TIMEOUT_MS = 5_000

/**
 * Requests in flight per peer and protocol, on each side, as eth2's
 * MAX_CONCURRENT_REQUESTS (2): enough to pipeline, too few for one peer to
 * monopolise a handler
 */
export const DEFAULT_MAX_IN_FLIGHT_PER_PEER = 2

/**
 * The error message that follows a non-success result code is cut to this
 * many bytes, as eth2's ErrorMessage (256 bytes): it is for logs, not data
 */
export const MAX_ERROR_MESSAGE_BYTES = 256

/**
 * Largest notification by default, as {@link DEFAULT_MAX_RESPONSE_BYTES}: a
 * notification usually announces or carries a block
 */
export const DEFAULT_MAX_NOTIFICATION_BYTES = 1024 * 1024

/**
 * Notifications queued per peer and protocol while the stream towards it is
 * being opened or is backed up; a further `send` is rejected with
 * `QueueFullError` (nothing already queued is dropped). A peer that stops
 * reading costs at most this many messages of memory, as Substrate bounds a
 * notification substream's buffer instead of growing it without end.
 */
export const DEFAULT_MAX_QUEUED_NOTIFICATIONS = 64

/**
 * How long a notification channel's `close()` waits for each stream it opened
 * to hand over the frames already written before resetting it. The frames are
 * best effort anyway; 1 s lets a reading peer get them over a slow link, and
 * keeps a peer that stopped reading from holding `close()` until its session
 * ends.
 */
export const NOTIFICATION_CLOSE_TIMEOUT_MS = 1_000

/**
 * Inbound streams of one notification protocol that libp2p accepts per
 * connection (its default is 32, each able to buffer up to
 * `maxMessageBytes`): a sender keeps one stream live, and may open the next
 * while its failed one is still ending here. A further stream is reset by
 * libp2p before our handler sees it.
 */
export const MAX_INBOUND_NOTIFICATION_STREAMS = 2
