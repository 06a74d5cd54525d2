/**
 * Every gossip topic of a chain starts with `/peergate/<chain id>/`: two
 * chains that share a DHT (or a peer) never share a mesh, as the DHT's own
 * protocol id is scoped by chain (`dhtProtocol`)
 */
export const GOSSIP_TOPIC_PREFIX = '/peergate'

/**
 * Longest topic name an application may use, in UTF-8 bytes (the chain's
 * scope comes on top). gossipsub charges every topic a peer subscribes to
 * against its per-peer budget (`maxTopicBytesPerPeer`, 64 KiB), so names stay
 * short; 128 bytes is plenty for `blocks`, `txs/v2` or `attestation/63`.
 */
export const MAX_TOPIC_BYTES = 128

/**
 * Topics a node subscribes to at once. Each is a label value of the gossip
 * metrics (bounded labels), and a chain has a few: Ethereum's consensus layer,
 * among the busiest, runs about 80 (64 attestation subnets included).
 */
export const MAX_TOPICS = 128

/**
 * Peers whose rejected messages are remembered (`Gossip.rejections()`); past
 * that, the peer that was rejected longest ago is forgotten first. Session
 * peers number 50 by default (`DEFAULT_MAX_PEERS`), so a thousand keeps every
 * recent offender with room for churn, in some 100 KiB.
 */
export const MAX_REJECTION_RECORDS = 1_000

/**
 * gossipsub's own counters that peergate reads, by the names its metrics give
 * them (`@libp2p/gossipsub/metrics`): gossipsub counts every message it
 * receives and every duplicate by topic, and tells no one else
 */
export const GOSSIPSUB_COUNTERS = {
  /** every message received, copies included, before any check */
  received: 'gossipsub_msg_received_prevalidation_total',
  /** a message already seen */
  duplicate: 'gossipsub_pre_validation_duplicate_total'
} as const

/**
 * gossipsub's peer-score parameters that peergate changes from gossipsub's
 * defaults (`init.gossipsub.scoreParams` overrides them): the IP colocation
 * factor (P6) is off. gossipsub's default charges every peer
 * `-5 × (n - 10)²` once more than 10 of the peers it knows share an IP, and it
 * keeps a peer whose score is not positive (every peer, when no topic is
 * scored) an hour after it left, IP included (`retainScore`). On sessions that
 * makes gossip fall apart as soon as a dozen peers share an address — a
 * testnet on one host, a soak on loopback, peers behind one NAT — or as
 * sessions turn over: below 0 no peer enters the mesh and its IHAVEs are
 * ignored, below -80 (15 peers) everything they send is dropped, their
 * subscriptions included. Who may gossip at all is the session gate's call
 * (handshake, session limits, bans), not the address's.
 */
export const GOSSIP_SCORE_PARAMS = {
  IPColocationFactorWeight: 0
} as const

/** the reason of the peer report a rejected gossip message makes (a metric label: not the topic, which would multiply it) */
export const GOSSIP_REJECT_REASON = 'gossip:reject'
