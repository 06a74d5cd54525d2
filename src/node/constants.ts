/** Where `createPeerNode` keeps its LevelDB datastore unless told otherwise */
export const DEFAULT_DATA_DIR = './.peergate'

/** Listen on every IPv4 interface on a port the OS picks */
export const DEFAULT_LISTEN = ['/ip4/0.0.0.0/tcp/0']

/** The chain a node joins when none is configured: a local development network */
export const DEFAULT_CHAIN_ID = 'peergate-devnet'
export const DEFAULT_CHAIN_VERSION = '0.1.0'

/** Chain ids become part of the DHT protocol id, so they are restricted to path-safe characters */
export const CHAIN_ID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/

/**
 * Sub-directory of the data dir holding the LevelDB datastore; that it exists
 * is how a data dir is known to have been used (see identity-files.ts)
 */
export const DATASTORE_DIR = 'datastore'

/**
 * The node's own files in the data dir, apart from the datastore so that a
 * damaged LevelDB log cannot take them: the libp2p peer key and the DID key
 * (JSON: the peer id or DID and the libp2p protobuf private key in base64,
 * mode 0600), and the chain record (JSON: chain id and genesis hash in hex)
 */
export const PEER_KEY_FILE = 'peer-key.json'
export const DID_KEY_FILE = 'did-key.json'
export const CHAIN_FILE = 'chain.json'

/** Only the node's user reads its keys */
export const KEY_FILE_MODE = 0o600
/** The chain record is no secret */
export const RECORD_FILE_MODE = 0o644

/**
 * Where peergate before its key files kept the peer key in the datastore:
 * libp2p's keychain record of `loadOrCreateSelfKey`; read only to copy it out
 */
export const LEGACY_PEER_KEY_DATASTORE_KEY = '/pkcs8/self'

/** Sessions a node keeps by default, as go-ethereum's MaxPeers */
export const DEFAULT_MAX_PEERS = 50

/**
 * Most sessions a limit may allow: each session holds a TCP connection (a
 * file descriptor) and a few streams, and the dial tick scans them every
 * second; past this a node needs tuning these limits do not offer
 */
export const MAX_SESSIONS_LIMIT = 10_000

/** Ping streams per connection (`node.libp2p.services.ping`, plain libp2p peers' monitors); above libp2p's defaults (1 out, 2 in), see create-node.ts */
export const PING_MAX_OUTBOUND_STREAMS = 3
export const PING_MAX_INBOUND_STREAMS = 4

/**
 * The ping service's defaults (ping-service.ts), @libp2p/ping 3's, which its
 * package does not export: how long the responder gives an inbound ping
 * stream before aborting it, and the ping spec's streams per connection (a
 * dialer keeps at most one, a listener accepts two)
 */
export const PING_RESPONDER_TIMEOUT_MS = 10_000
export const LIBP2P_PING_MAX_OUTBOUND_STREAMS = 1
export const LIBP2P_PING_MAX_INBOUND_STREAMS = 2

/**
 * The datastore record of the chain a datastore belongs to (chain id and
 * genesis hash), written on the node's first start when the caller gives the
 * datastore (a data dir keeps it in CHAIN_FILE, and older data dirs here):
 * its contacts' backoffs, bans and DHT records are that chain's, so another
 * chain is refused
 */
export const CHAIN_RECORD_KEY = '/peergate/chain'

/**
 * One ping at session open fills the connection's RTT before the keep-alive
 * measures it (its first round comes within its 10 s interval); given up
 * after this long, the keep-alive's least deadline (a slow answer says
 * nothing the keep-alive will not say later)
 */
export const SESSION_PING_TIMEOUT_MS = 5_000

/**
 * The responder's ping at session open waits this long. Its session opens
 * before it sends the handshake's last message, so a ping at once would reach
 * the initiator while it still verifies that message, on the path of every
 * session it opens (a stream to negotiate and answer); the initiator pings at
 * once, after its own session opened. An operator's `peers` shows the
 * inbound side's RTT a second later.
 */
export const SESSION_PING_RESPONDER_DELAY_MS = 1_000

/**
 * How a node finds a peer that vanished without closing its connection (its
 * host lost power or network, its process froze): the keep-alive
 * (keep-alive.ts) measures a round trip on every connection every
 * CONNECTION_PING_INTERVAL_MS, by a ping frame of the connection's muxer,
 * and aborts one whose round trip has not come back within its deadline,
 * which adapts to the recent round trips (1.2 × their average) between
 * CONNECTION_PING_MIN_TIMEOUT_MS and CONNECTION_PING_MAX_TIMEOUT_MS. The
 * session on it then ends (CONNECTION_CLOSED): within PEER_LOSS_BOUND_MS on a
 * link whose round trips take less than the minimum deadline. The figures
 * are libp2p 3.3.11's connection monitor's, which the keep-alive replaces.
 * A peer whose process ends (a crash, kill -9) is seen at once: its OS
 * closes the TCP connection.
 */
export const CONNECTION_PING_INTERVAL_MS = 10_000
export const CONNECTION_PING_MIN_TIMEOUT_MS = 5_000
export const CONNECTION_PING_MAX_TIMEOUT_MS = 60_000
export const PEER_LOSS_BOUND_MS = CONNECTION_PING_INTERVAL_MS + CONNECTION_PING_MIN_TIMEOUT_MS
