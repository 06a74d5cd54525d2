/** The handshake runs on its own stream under this protocol id */
export const HANDSHAKE_PROTOCOL = '/peergate/handshake/1.0.0'

/** `Hello.protocol_version` of this implementation; bumped with the protocol id's major version */
export const HANDSHAKE_PROTOCOL_VERSION = 1

/**
 * Whole-handshake deadline. Four messages on loopback take a few milliseconds;
 * 5 s covers slow links without letting a stalled peer hold a slot for long.
 */
export const HANDSHAKE_TIMEOUT_MS = 5_000

/**
 * Largest handshake message accepted, checked on the length prefix before any
 * allocation. A hello is about 200 bytes plus the chain's `extra`; geth caps its
 * handshake at 2 KiB and CometBFT its NodeInfo at 10 KiB.
 */
export const MAX_MESSAGE_SIZE = 4 * 1024

/** Bytes of the fresh random nonce each side puts in its hello */
export const NONCE_LENGTH = 32

/**
 * Longest chain id accepted in a hello, in UTF-8 bytes; chain ids are short
 * names such as `devnet-1`
 */
export const MAX_CHAIN_ID_BYTES = 128

/** Domain separator that starts every signed transcript; the signer's role follows it */
export const TRANSCRIPT_DOMAIN = 'peergate-handshake-v1'

/**
 * Inbound handshake streams per connection. One carries the handshake; a
 * second one, opened while it runs, still reaches the handshake service so
 * that it gets DUPLICATE on the wire (PROTOCOL.md §8.1) instead of a bare
 * reset; libp2p resets any beyond these two before a byte is read.
 */
export const MAX_INBOUND_HANDSHAKE_STREAMS = 2
/** This node opens one handshake stream per connection */
export const MAX_OUTBOUND_HANDSHAKE_STREAMS = 1

/**
 * Inbound handshakes in flight at once. A handshake takes a few ms on a LAN
 * and two round trips on the Internet, so 64 lets a crowd of newcomers in at
 * the same instant, well above the 34 inbound session slots, while bounding
 * what peers that have proven nothing can hold. Handshakes never hold session
 * slots; the session limits apply to sessions.
 */
export const MAX_INBOUND_HANDSHAKES = 64

/**
 * Inbound handshakes in flight from one remote IP address. Honest nodes behind
 * one NAT rarely handshake with the same node at the same instant; 8 makes an
 * attacker need 8 addresses to fill {@link MAX_INBOUND_HANDSHAKES}, and even
 * then a newcomer takes the place of a stalled handshake.
 */
export const MAX_INBOUND_HANDSHAKES_PER_IP = 8

/**
 * How long a responder waits for message 1 after the handshake stream reached
 * it. The initiator sends message 1 as soon as it has negotiated the stream,
 * which is about one round trip after the responder's side is ready, so 2 s
 * covers slow links with room to spare; a peer that opens the stream and says
 * nothing is dropped well before the whole-handshake deadline.
 */
export const FIRST_MESSAGE_TIMEOUT_MS = 2_000

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
