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
