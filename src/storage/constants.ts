/** The key prefix of libp2p's peer store (`@libp2p/peer-store`'s NAMESPACE_COMMON) */
export const PEER_STORE_PREFIX = '/peers/'

/** The key prefix of the Kad-DHT's records (kad-dht's default, which peergate keeps) */
export const DHT_PREFIX = '/dht/'

/**
 * Key prefixes of the records libp2p keeps in the datastore as caches of what
 * the network tells: its peer store and the Kad-DHT's records. libp2p 3.3.11
 * treats a failed peer store write as fatal to what caused it (a stream is
 * aborted when the write that records its protocol fails), so a full disk
 * would end every session; a failed write of these is reported and dropped,
 * and libp2p carries on from memory and the network.
 */
export const LIBP2P_CACHE_PREFIXES = [PEER_STORE_PREFIX, DHT_PREFIX] as const

/**
 * While writes fail, one small write every this long tells when they succeed
 * again, also when nothing else writes (an idle node), so that the records
 * kept unsaved meanwhile are written without waiting for the next change
 */
export const STORAGE_PROBE_INTERVAL_MS = 10_000

/** The record the probe writes: when it last tried, ms since the epoch */
export const STORAGE_PROBE_KEY = '/peergate/storage/probe'

/**
 * How long a peer store record's write may wait before it reaches the
 * datastore (WriteBehindDatastore): a second coalesces the dozen rewrites of
 * one session's opening, and the pings and status rounds of many sessions,
 * into one batch
 */
export const WRITE_BEHIND_FLUSH_INTERVAL_MS = 1_000

/** Clean records kept in memory for reads: a few hundred bytes each, a busy node's recent peers */
export const WRITE_BEHIND_MAX_CLEAN = 4_096

/** Pending writes that start a flush before the interval is up, so that a burst stays bounded */
export const WRITE_BEHIND_MAX_DIRTY = 1_024
