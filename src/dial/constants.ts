/** How often the dial manager looks at its peer count; the Nuts node ticks every second too */
export const DIAL_TICK_MS = 1_000

/** At most this many new dials start per tick, as in the Nuts node's connection manager */
export const MAX_DIALS_PER_TICK = 10

/**
 * A dial plus handshake that has not produced a session by then is given up.
 * A loopback session takes milliseconds; 10 s covers slow links and the 5 s
 * handshake timeout after a slow TCP connect.
 */
export const DIAL_TIMEOUT_MS = 10_000

/** Reserved peers are retried on a short backoff of their own: 1 s doubling to 30 s */
export const RESERVED_BACKOFF_INITIAL_MS = 1_000
export const RESERVED_BACKOFF_MAX_MS = 30_000

/**
 * Random-walk DHT lookups: every 2 s while the node is below its outbound
 * target (it needs candidates), every 60 s once it is at target (to keep the
 * book fresh without loading the network)
 */
export const DISCOVERY_INTERVAL_BELOW_TARGET_MS = 2_000
export const DISCOVERY_INTERVAL_AT_TARGET_MS = 60_000

/**
 * One random-walk lookup (`getClosestPeers` of a random key) is given up after
 * this long. A lookup walks several hops, each a dial (TCP, Noise, Yamux: a few
 * round trips) and a request, so over a WAN it takes seconds; and kad-dht
 * holds every lookup until its routing table has a peer and its initial
 * self-query (a whole lookup of its own, without a deadline) has finished. A
 * 3 s deadline would end the first walks after start, and walks over slow
 * links, having met nobody, and make the dial manager reseed the DHT for
 * nothing. 10 s is kad-dht's own wait for one reply (its READ_MESSAGE_TIMEOUT),
 * so a slow peer's answer still counts. A longer walk delays no candidate
 * (peers are handed on as replies arrive) and walks never overlap (the next is
 * scheduled when one ends), so a stalled one costs at most this long.
 */
export const DISCOVERY_QUERY_TIMEOUT_MS = 10_000

/** Bytes of the random key a random-walk lookup searches for (a sha256-sized key) */
export const RANDOM_WALK_KEY_LENGTH = 32

/**
 * A node below its outbound target with nobody to dial, now or soon (see
 * REVERSE_UNLESS_DUE_WITHIN_MS), turns one of its inbound sessions around
 * (ends it, dials the peer back) once it has been so this long with no new
 * contact coming in: three random walks (2 s apart below target) that found
 * nobody new, so that a node whose discovery is still filling its book waits
 * for it instead of churning sessions
 */
export const REVERSE_AFTER_MS = 6_000

/**
 * No reversal while some contact this node could dial is only backing off
 * and due within this long: a peer that refused with TOO_MANY_PEERS or timed
 * out is worth waiting for (its wait doubles from 1 s, so one that keeps
 * refusing is past this after five tries), and turning sessions around on a
 * busy network would only churn them
 */
export const REVERSE_UNLESS_DUE_WITHIN_MS = 30_000

/**
 * At most one reversal per this long: a turned-around peer takes a second or
 * two to dial someone else, and a shortfall that moves around a small
 * network must not make every node hang up on its peers at once
 */
export const REVERSE_INTERVAL_MS = 5_000

/** The Goodbye's note (with TOO_MANY_PEERS) to a peer whose inbound session is turned around */
export const REVERSAL_DETAIL = 'turning the session around: this node dials you'

/** The fraction of `maxPeers` this node dials itself; the rest are inbound slots (go-ethereum's dial ratio of 3) */
export const OUTBOUND_FRACTION = 1 / 3

/**
 * Where reserved peers added at runtime live in the node's datastore, one
 * record per peer (`/peergate/reserved/<peer id>`), so they survive a restart
 */
export const RESERVED_KEY_PREFIX = '/peergate/reserved'

/**
 * Largest reserved-peer record read back, in bytes: a JSON list of a peer's
 * multiaddrs; the API's 4 KiB request body bounds what one add can bring
 */
export const MAX_RESERVED_RECORD_BYTES = 8192

/**
 * A contact whose peer score is below this is dialed only after every other
 * eligible contact (the lowest first): it misbehaved lately. One point below
 * 0, so that the last fraction of a decaying score (scores within one point
 * of 0 are forgotten, FORGET_SCORE_BELOW) does not reorder the book.
 */
export const DEMOTE_BELOW_SCORE = -1
