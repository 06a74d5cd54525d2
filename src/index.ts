/**
 * @packageDocumentation
 *
 * peergate: a libp2p node for blockchain prototypes whose node-DID + chain
 * handshake decides which peers are real peers.
 *
 * The public API is this list (README.md, "Public API", says what each is
 * for): a ready node (`createPeerNode`), the services to put in your own
 * `createLibp2p` (`sessions`, `handshake`, `addressBook`, `dialManager`,
 * `gossip`, and `gated` for any libp2p service of yours), the
 * application protocols on the gate (`handleRequests`/`request`,
 * `notifications`, framing), the DID layer, the reason codes, the stream
 * correction, the view of a node (`nodeView`, for your own libp2p), and
 * its metrics and status API (`createNodeMetrics`, `createApiServer`).
 * Everything else is internal and may change.
 *
 * @example
 *
 * ```TypeScript
 * import { createPeerNode } from 'peergate'
 *
 * const node = await createPeerNode({ chain: { chainId: 'devnet-1' } })
 * await node.handle('/devnet-1/blocks/1.0.0', (stream, connection) => { ... })
 * node.addEventListener('session:open', (evt) => { console.info(evt.detail.did) })
 * await node.connect(multiaddr('/ip4/127.0.0.1/tcp/4001/p2p/12D3Koo...'))
 * ```
 */

// a ready node
export { createPeerNode, PeerNode, dhtProtocol, DamagedDataDirError, DataDirError, DataDirLockedError, AddressInUseError, GossipDisabledError } from './node/index.js'
export type { PeerNodeOptions, PeerNodeLimits, PeerNodeMetricsOptions, PeerNodeServices, PeerNodeComponents, PeerNodeServiceFactories, ChainOptions, HandleOptions, NodeStatus, ConnectionInfo, ConnectionRole } from './node/index.js'

// one view of a node, what metrics and the status API read: a PeerNode, or nodeView(libp2p) of your own
export { nodeView } from './node/index.js'
export type { NodeView, NodeViewEvents, NodeViewServices } from './node/index.js'

// the services, for your own createLibp2p
export { sessions, gated, NoSessionError, SessionEndedError, PeerAction, DEFAULT_MAX_INBOUND_SESSIONS_PER_IP } from './session/index.js'
export type { Sessions, Session, RemoteInfo, RemoteHello, DisconnectOptions, SessionStreamHandler, SessionDirection, SessionEvents, SessionCloseDetail, SessionRejectDetail, SessionStatusDetail, StreamRefuseDetail, BanAddDetail, BanRemoveDetail, PeerReportDetail, AdmissionScore, HandshakeInFlight, RejectSide, SessionLimits, SessionManagerInit, SessionManagerComponents, GatedComponents } from './session/index.js'
export { handshake, HandshakeError, HandshakeStage, isHandshakeError, HANDSHAKE_PROTOCOL } from './handshake/index.js'
export { STATUS_PROTOCOL, STATUS_RATE_LIMIT, STATUS_RATE_PERIOD_MS } from './status/index.js'
export type { HandshakeService, HandshakeInit, HandshakeComponents, ConnectOptions, LocalStatus, RemoteValidator, ValidationContext, ApplicationRejection } from './handshake/index.js'
export { addressBook } from './addressbook/index.js'
export type { AddressBook, AddressBookService, DialCandidates, AddressBookInit, AddressBookComponents, BackoffInit, Contact, ContactSource, NewContact } from './addressbook/index.js'
export { dialManager } from './dial/index.js'
export type { DialManagerService, DialManagerInit, DialManagerComponents, DialManagerEvents, DialEndDetail, BootstrapUnreachableDetail, DialStatus, DiscoveryInit, PeerAddress, ReservedPeer } from './dial/index.js'

// the peer score: reports, decay, disconnect and ban thresholds
export { peerScore, ACTION_SCORE, BAN_SCORE_THRESHOLD, DISCONNECT_SCORE_THRESHOLD, GOSSIP_SCORE_WEIGHT, MAX_GOSSIP_BONUS, MAX_GOSSIP_PENALTY, MAX_SCORE, MIN_SCORE, SCORE_BAN_DURATION_MS, SCORE_HALF_LIFE_MS } from './score/index.js'
export type { PeerScores, PeerScoreInfo, PeerScoreInit, PeerScoreComponents, PeerScoreEvents, ScoreEvent, ScoreDisconnectDetail, ScoreBanDetail, ScoreStore, GossipScoreSource } from './score/index.js'

// gossip on sessions: gossipsub with session peers alone, topics scoped by chain
export { gossip, MAX_TOPICS, MAX_TOPIC_BYTES, MAX_REJECTION_RECORDS, GOSSIP_SCORE_PARAMS } from './gossip/index.js'
export type { Gossip, GossipInit, GossipComponents, GossipEvents, GossipMessage, GossipValidator, GossipVerdict, GossipRejections, GossipRejectDetail, GossipPublishResult, GossipTopicStats } from './gossip/index.js'

// application protocols on the gate: framing, request/response, notifications
export { handleRequests, request, notifications, readMessage, readMessages, writeMessage, ResultCode, MessageTooLargeError, StreamEndedError, RemoteResultError, TooManyRequestsError, QueueFullError } from './protocols/index.js'
export type { Response, SuccessResponse, RequestHandler, RequestLimits, HandleRequestsOptions, RequestOptions, NotificationChannel, NotificationsOptions, BroadcastOptions, ByteSource, MessageOptions, ProtocolSessions } from './protocols/index.js'

// rate limits per peer and protocol: the protocols' `rateLimit` option, and the limiter for protocols of your own
export { RateLimiter, resolveRateLimit, rateLimitReason, fullBucket, takeTokens, waitMs, RATE_LIMIT_REASON_PREFIX, DEFAULT_RATE_LIMIT_ACTION, DEFAULT_REQUEST_RATE_LIMIT, DEFAULT_REQUEST_RATE_PERIOD_MS, DEFAULT_NOTIFICATION_RATE_LIMIT, DEFAULT_NOTIFICATION_RATE_PERIOD_MS } from './ratelimit/index.js'
export type { RateLimit, ResolvedRateLimit, PeerReporter, Bucket, BucketRate, Take } from './ratelimit/index.js'

// the chain, DIDs and reasons every layer shares
export { isCompatibleVersion } from './chain/index.js'
export type { ChainIdentity, ChainHead, VersionCompatibility } from './chain/index.js'
export { KeyDidResolver, KeyDidSigner, loadOrCreateDidSigner, DidUnresolvableError, DamagedDidKeyError } from './did/index.js'
export type { DidResolver, DidSigner, LoadDidSignerOptions } from './did/index.js'
export { ReasonCode, LocalReason } from './reason/index.js'
export type { Outcome } from './reason/index.js'

// the datastore's health: writes watched, a full disk reported once and survived
export { monitorDatastore, resealLevel, MonitoredDatastore, StorageWriteError, isStorageWriteError, LIBP2P_CACHE_PREFIXES } from './storage/index.js'
export type { StorageHealth, StorageOk, StorageFailing, StorageEvents, StorageRecoveredDetail, MonitoredDatastoreInit } from './storage/index.js'

// for streams opened through libp2p directly
export { endOnRemoteClose } from './stream/index.js'

// Prometheus metrics: peergate's series next to libp2p's
export { createNodeMetrics } from './metrics/index.js'
export type { NodeMetrics, NodeMetricsOptions, MetricsProvider } from './metrics/index.js'

// the status API of a running node
export { createApiServer, createMetricsServer, loadOrCreateApiToken, readApiToken, apiTokenPath, writeApiUrl, readApiUrl, removeApiUrl, apiUrlPath, DEFAULT_API_PORT, DEFAULT_API_HOST, DEFAULT_METRICS_HOST, REJECT_HISTORY_SIZE, API_TOKEN_FILE, API_URL_FILE } from './api/index.js'
export type { ApiServer, ApiServerInit, MetricsServer, MetricsServerInit, RejectRecord, StatusView, PeerView, ContactView, BanView, HeadView, ReservedView, GossipTopicView, ScoreEventView } from './api/index.js'
