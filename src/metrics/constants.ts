/**
 * Buckets of `peergate_handshake_duration_seconds`: a loopback handshake takes
 * a few ms, one across the internet a few round trips (100 ms – 1 s), and the
 * whole-handshake deadline is 5 s (HANDSHAKE_TIMEOUT_MS), so the last bucket
 * holds the timeouts
 */
export const HANDSHAKE_DURATION_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/**
 * Handshake start times kept for the duration histogram. Every handshake ends
 * in `session:open` or `session:reject`, which drops its entry; the bound only
 * guards against an end that never comes. Above the inbound (64) plus
 * outbound handshake limits with room to spare.
 */
export const MAX_TRACKED_HANDSHAKES = 1024

/** The name of every peergate series (README.md, "Metrics", describes them) */
export const METRIC_NAMES = {
  sessions: 'peergate_sessions',
  handshakesInFlight: 'peergate_handshakes_in_flight',
  connections: 'peergate_connections',
  dialsInFlight: 'peergate_dials_in_flight',
  addressBookContacts: 'peergate_address_book_contacts',
  addressBookContactsInBackoff: 'peergate_address_book_contacts_in_backoff',
  handshakes: 'peergate_handshakes_total',
  handshakeDuration: 'peergate_handshake_duration_seconds',
  sessionCloses: 'peergate_session_closes_total',
  dials: 'peergate_dials_total',
  gatedStreamRefusals: 'peergate_gated_stream_refusals_total',
  rateLimited: 'peergate_rate_limited_total',
  buildInfo: 'peergate_build_info',
  gossipMeshPeers: 'peergate_gossip_mesh_peers',
  gossipPublished: 'peergate_gossip_messages_published_total',
  gossipReceived: 'peergate_gossip_messages_received_total',
  gossipDuplicate: 'peergate_gossip_messages_duplicate_total',
  gossipRejected: 'peergate_gossip_messages_rejected_total'
} as const

/**
 * Protocols `peergate_rate_limited_total` names in its `protocol` label: the
 * protocols a node serves are few and its own, but the label comes from
 * report reasons, which the application may write too; beyond this many the
 * rest are counted under {@link OTHER_PROTOCOL}
 */
export const MAX_RATE_LIMITED_PROTOCOLS = 64

/** The `protocol` label of rate-limit refusals beyond {@link MAX_RATE_LIMITED_PROTOCOLS} protocols */
export const OTHER_PROTOCOL = 'other'

/** The `commit` label of `peergate_build_info` when the build did not record one (not built from a git checkout) */
export const UNKNOWN_COMMIT = 'unknown'
