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

/**
 * Longest length prefix of a frame, in bytes: it-length-prefixed's limit,
 * enough for any safe integer. A minimal prefix of a MAX_MESSAGE_SIZE frame
 * takes 2.
 */
export const MAX_LENGTH_PREFIX_BYTES = 8

/** Bytes of the fresh random nonce each side puts in its hello */
export const NONCE_LENGTH = 32

/**
 * Longest chain id accepted in a hello, in UTF-8 bytes; chain ids are short
 * names such as `devnet-1`
 */
export const MAX_CHAIN_ID_BYTES = 128

/**
 * Longest human-readable note of a reject, in UTF-8 bytes: a sender cuts a
 * longer one and a receiver reads no more, both on a character boundary. A
 * sentence is enough; the reason code is what counts.
 */
export const MAX_DETAIL_BYTES = 256

/** Domain separator that starts every signed transcript; the signer's role follows it */
export const TRANSCRIPT_DOMAIN = 'peergate-handshake-v1'

/** The handshake stream carries one handshake; more would be a protocol error */
export const MAX_INBOUND_HANDSHAKE_STREAMS = 1
export const MAX_OUTBOUND_HANDSHAKE_STREAMS = 1
