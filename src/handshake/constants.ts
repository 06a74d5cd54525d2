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
