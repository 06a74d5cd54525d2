/** Where `createPeerNode` keeps its LevelDB datastore unless told otherwise */
export const DEFAULT_DATA_DIR = './.peergate'

/** Listen on every IPv4 interface on a port the OS picks */
export const DEFAULT_LISTEN = ['/ip4/0.0.0.0/tcp/0']

/** The chain a node joins when none is configured: a local development network */
export const DEFAULT_CHAIN_ID = 'peergate-devnet'
export const DEFAULT_CHAIN_VERSION = '0.1.0'

/** Chain ids become part of the DHT protocol id, so they are restricted to path-safe characters */
export const CHAIN_ID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/

/** Sub-directory of the data dir holding the LevelDB datastore */
export const DATASTORE_DIR = 'datastore'

/** Sessions a node keeps by default, as go-ethereum's MaxPeers */
export const DEFAULT_MAX_PEERS = 50

/**
 * Most sessions a limit may allow: each session holds a TCP connection (a
 * file descriptor) and a few streams, and the dial tick scans them every
 * second; past this a node needs tuning these limits do not offer
 */
export const MAX_SESSIONS_LIMIT = 10_000

/** Ping streams per connection; above libp2p's defaults (1 out, 2 in), see create-node.ts */
export const PING_MAX_OUTBOUND_STREAMS = 3
export const PING_MAX_INBOUND_STREAMS = 4

/**
 * The datastore record of the chain a data dir belongs to (chain id and
 * genesis hash), written on the node's first start: its contacts' backoffs,
 * bans and DHT records are that chain's, so another chain is refused
 */
export const CHAIN_RECORD_KEY = '/peergate/chain'

/**
 * One ping at session open fills the connection's RTT before libp2p's
 * connection monitor measures it (its first round comes after its 10 s
 * interval); given up after this long, as the monitor's own ping deadline
 * (a slow answer says nothing the monitor will not say later)
 */
export const SESSION_PING_TIMEOUT_MS = 5_000
