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
 * One random-walk lookup is abandoned after this long. A walk only collects
 * candidates, so a partial one is still useful; and kad-dht holds a lookup
 * while its routing table is empty, which must not stall discovery for long.
 */
export const DISCOVERY_QUERY_TIMEOUT_MS = 3_000

/** Bytes of the random key a random-walk lookup searches for (a sha256-sized key) */
export const RANDOM_WALK_KEY_LENGTH = 32

/** The fraction of `maxPeers` this node dials itself; the rest are inbound slots (go-ethereum's dial ratio of 3) */
export const OUTBOUND_FRACTION = 1 / 3

/**
 * A contact the DHT meets again is written back (its lastSeen) at most this
 * often, unless it brings a new address: random walks meet the same peers
 * every few seconds, and lastSeen only orders evictions
 */
export const DISCOVERY_REFRESH_MS = 10 * 60 * 1000
