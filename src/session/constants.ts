import { MAX_DID_BYTES } from '../did/constants.js'
import { MAX_DETAIL_BYTES } from '../reason/index.js'

/**
 * Inbound session slots. With {@link DEFAULT_MAX_OUTBOUND_SESSIONS} this makes
 * 50 peers, one third of them selected by this node, as go-ethereum does.
 */
export const DEFAULT_MAX_INBOUND_SESSIONS = 34

/**
 * Inbound sessions admitted beyond the inbound limit, as a fraction of it
 * rounded up (`defaultInboundBurst`, docs/PROTOCOL.md §8.1: a limit of 1 to 10
 * has a burst of 1, 0 none), before newcomers are refused with
 * TOO_MANY_PEERS; the dial manager sheds the excess each tick, so newcomers
 * replace the least valuable sessions instead of bouncing off a full node
 */
export const INBOUND_BURST_FRACTION = 0.1

/** Outbound session slots: the peers this node selected itself */
export const DEFAULT_MAX_OUTBOUND_SESSIONS = 16

/**
 * Inbound sessions from one source IP address (an IPv6 source by its /64),
 * docs/PROTOCOL.md §8.1 check 6. CometBFT allows one peer per IP
 * (`AllowDuplicateIP = false`), which refuses a second validator behind the
 * same NAT or cloud gateway; gossipsub starts penalising peers beyond an IP
 * colocation threshold (3 in Lodestar) instead of refusing them. 4 lets a
 * small office or a few nodes on one host in, while one address holds at most
 * 4 of the default 34 + 4 inbound slots: filling them takes 10 addresses.
 * Operators exempt their own ranges (`ipLimitExempt`), reserved peers are
 * outside the limit.
 */
export const DEFAULT_MAX_INBOUND_SESSIONS_PER_IP = 4

/**
 * An IPv6 source counts by its first 64 bits: a host or a subscriber is
 * handed at least a /64 and may use any address in it (SLAAC, privacy
 * addresses), so one address per session would not limit anyone.
 * go-libp2p-pubsub's IP colocation score counts an IPv6 peer under its /64
 * too (js-gossipsub counts exact addresses).
 */
export const IPV6_SOURCE_PREFIX_BITS = 64

/**
 * Peer-store tag on every session peer. kad-dht tags its closest peers
 * `kad-close` with 50 (its keep-alive tag is not written in a peergate node:
 * src/node/dht-keep-alive.ts); libp2p's pruner closes the lowest summed tag
 * values first, so sessions sit above DHT-only peers. 100 is
 * the largest value the peer store accepts for one tag.
 */
export const SESSION_TAG = 'peergate-session'
export const SESSION_TAG_VALUE = 100

/** A ban without an explicit duration lasts a day, as the Nuts node's long backoff does */
export const DEFAULT_BAN_DURATION_MS = 24 * 60 * 60 * 1000

/** Where bans live in the node's datastore, one record per banned peer id or DID */
export const BAN_KEY_PREFIX = '/peergate/bans'

/**
 * A ban record is `{"expiresAt":<ms>}`, plus `"via":<target>` for a ban
 * extended from another (a DID of up to MAX_DID_BYTES, each byte at most a
 * 6-character JSON escape); anything longer is not one
 */
export const MAX_BAN_RECORD_BYTES = 64 + 6 * MAX_DID_BYTES

/**
 * How long the handshake's hang-up may take to flush its reject, wait for the
 * remote to read it, and close the connection, before the connection is
 * aborted; a peer that failed a handshake gets no more of our time
 */
export const HANG_UP_TIMEOUT_MS = 1_000

/** A node that ends a session says why on a stream of its own under this protocol id (PROTOCOL.md §11.1) */
export const GOODBYE_PROTOCOL = '/peergate/goodbye/1.0.0'

/**
 * How long a Goodbye may take: opening its stream, sending it and the remote
 * reading it and closing; the connection is closed after it either way.
 * Lodestar gives its Goodbye about a second too.
 */
export const GOODBYE_TIMEOUT_MS = 1_000

/** One Goodbye stream per connection each way: a session ends once */
export const MAX_GOODBYE_STREAMS = 1

/**
 * Largest Goodbye frame accepted (512 bytes, PROTOCOL.md §11.1): a reason,
 * an app code and a detail of at most MAX_DETAIL_BYTES take well under twice
 * that detail
 */
export const MAX_GOODBYE_MESSAGE_BYTES = 2 * MAX_DETAIL_BYTES

