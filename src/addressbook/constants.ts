/**
 * Datastore key prefix of the address book; a contact's record lives at
 * `${ADDRESS_BOOK_PREFIX}/${peerId.toString()}`. Its own namespace keeps it
 * apart from the peer store and the DHT records in the same datastore.
 */
export const ADDRESS_BOOK_PREFIX = '/peergate/addressbook'

/**
 * Most contacts kept: a few hundred sessions need far fewer candidates, and
 * 10,000 records load in well under a second and cost a few MiB of memory
 */
export const DEFAULT_MAX_CONTACTS = 10_000

/**
 * A contact that discovery meets again is written back (its lastSeen) at most
 * this often, unless it brings a new address: random walks meet the same
 * peers every few seconds, and lastSeen only orders evictions
 */
export const DISCOVERY_REFRESH_MS = 10 * 60 * 1000

/** First wait after a failed dial or handshake: long enough to skip a restarting peer's gap, short enough to feel immediate */
export const DEFAULT_INITIAL_BACKOFF_MS = 1000

/** Cap of the doubling failure wait: a peer that is down for a day is still retried every hour */
export const DEFAULT_MAX_BACKOFF_MS = 3_600_000

/** Fraction of spread on a failure wait, so that contacts that failed together are not retried together */
export const DEFAULT_JITTER = 0.2

/** Shortest wait after a session that ended cleanly: the peer may be restarting */
export const CLEAN_CLOSE_MIN_MS = 1000

/** Longest wait after a session that ended cleanly: spreads reconnections over a few seconds instead of a storm */
export const CLEAN_CLOSE_MAX_MS = 5000

/**
 * Wait after a peer presented another DID than its record holds, or another
 * chain: such a peer will not change within minutes, so retry once a day
 */
export const LONG_BACKOFF_MS = 86_400_000

/**
 * Largest stored record accepted on load: well above the largest record the
 * book writes (MAX_MULTIADDRS_PER_CONTACT × MAX_MULTIADDR_SIZE_BYTES, a DID of
 * up to MAX_DID_BYTES from did/, and an Outcome name: about 11 KiB at worst), so
 * anything bigger is corrupt
 */
export const MAX_RECORD_SIZE_BYTES = 16 * 1024

/**
 * Most addresses kept per contact (the newest): a node rarely listens on more
 * than a handful, and the DHT may hand out stale ones that must not pile up
 */
export const MAX_MULTIADDRS_PER_CONTACT = 16

/**
 * Largest binary multiaddr kept: a DNS name is at most 255 bytes, so real
 * addresses fit many times over; longer ones are dropped so that a record
 * always stays under MAX_RECORD_SIZE_BYTES
 */
export const MAX_MULTIADDR_SIZE_BYTES = 512

/**
 * Largest exponent of the failure doubling: 2^1023 is the largest finite power
 * of two, so the wait computes to a finite number (then the cap) for any count
 */
export const MAX_BACKOFF_DOUBLINGS = 1023

/** Largest failure count stored: the record holds it as a uint32, and the wait is capped long before */
export const MAX_FAILURE_COUNT = 0xFFFF_FFFF
