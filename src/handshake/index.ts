/**
 * @packageDocumentation
 *
 * The peergate handshake, `/peergate/handshake/1.0.0`: both sides exchange a
 * node DID and chain metadata, prove control of the DID key by signing a
 * transcript bound to both peer ids and both fresh nonces, and validate each
 * other. The service also starts and stops the status exchange
 * (src/status/), which keeps each side's view of the other's head current
 * over the session and revalidates the peer's DID. docs/PROTOCOL.md is the
 * specification.
 *
 * @example
 *
 * ```TypeScript
 * import { handshake, sessions } from 'peergate'
 *
 * services: {
 *   sessions: sessions(),
 *   handshake: handshake({
 *     chain: { chainId: 'devnet-1', genesisHash, version: '1.0.0' },
 *     signer // a DidSigner, e.g. await loadOrCreateDidSigner(datastore)
 *   })
 * }
 * ```
 */

import { Handshake } from './handshake.js'
import type { ChainHead, ChainIdentity, VersionCompatibility } from '../chain/index.js'
import type { DidResolver, DidSigner } from '../did/index.js'
import type { RemoteInfo, Session, SessionDirection, Sessions } from '../session/index.js'
import type { LocalStatus } from '../status/index.js'
import type { RateLimit } from '../ratelimit/index.js'
import type { AbortOptions, ComponentLogger, Libp2pEvents, PeerId, TypedEventTarget } from '@libp2p/interface'
import type { ConnectionManager, Registrar } from '@libp2p/interface-internal'
import type { Multiaddr } from '@multiformats/multiaddr'

export interface HandshakeInit {
  /** the chain this node belongs to; peers of another chain are rejected */
  chain: ChainIdentity
  /** the node's DID and its signing key */
  signer: DidSigner

  /**
   * Resolves remote DIDs to their verification keys
   *
   * @default a did:key resolver for Ed25519 keys
   */
  resolver?: DidResolver

  /**
   * Decides whether a remote chain version is compatible
   *
   * @default semver caret rule (same major; same minor for 0.x)
   */
  isCompatibleVersion?: VersionCompatibility

  /**
   * Whole-handshake deadline in ms
   *
   * @default 5000
   */
  timeout?: number

  /**
   * Largest handshake message in bytes, checked on the length prefix
   *
   * @default 4096
   */
  maxMessageSize?: number

  /**
   * How long a responder waits for the initiator's first message (its hello)
   * before it drops the handshake with TIMEOUT
   *
   * @default 2000
   */
  firstMessageTimeout?: number

  /**
   * Inbound handshakes in flight at once; a newcomer beyond it takes the place
   * of a stalled one (no hello yet) or is refused with TOO_MANY_PEERS
   *
   * @default 64
   */
  maxInboundHandshakes?: number

  /**
   * Inbound handshakes in flight from one remote IP address, handled as
   * `maxInboundHandshakes` is
   *
   * @default 8
   */
  maxInboundHandshakesPerIp?: number

  /**
   * The application's say on a peer, before a session opens: called once the
   * peer's signature over its hello is verified, on both roles, before either
   * side announces a session (docs/PROTOCOL.md §8.4). Return a rejection to
   * refuse the peer (it gets APPLICATION_REJECTED with your code and detail);
   * undefined to accept. May be async; it runs within the handshake's
   * deadline (`context.signal`), and one still running then ends the
   * handshake with TIMEOUT, as any step would. A validator that throws
   * refuses the peer (APPLICATION_REJECTED without a code); an `appCode`
   * that is not a uint32 is logged and sent as 0.
   */
  validateRemote?: RemoteValidator

  /**
   * the local chain head sent in hellos and status messages; update it with
   * `setHead`, which also pushes it to every session peer
   */
  head?: ChainHead

  /** chain-specific bytes sent in every hello (`Hello.extra`) and status message */
  extra?(): Uint8Array | undefined

  /**
   * Pull: asked for the local head and extra at each hello and each status
   * message; when given it wins over `head` and `extra` (a head it leaves out
   * is sent as none). Keep it cheap and synchronous.
   */
  getStatus?(): LocalStatus

  /**
   * ms between the periodic status rounds of each session (a status exchange
   * and a revalidation of the peer's DID, PROTOCOL.md §15); `0` or `false`
   * turns them off (pushes and `refreshStatus` still work)
   *
   * @default 300000 (5 minutes)
   */
  statusInterval?: number | false

  /**
   * Each session peer's rate limit on status requests (a token bucket): a
   * request over it is reset and the peer reported
   * (`rate-limit:/peergate/status/1.0.0`, `action`). `cost` is not used here
   * (one request, one unit); `false` for no limit.
   *
   * @default 20 per 10 s (STATUS_RATE_LIMIT per STATUS_RATE_PERIOD_MS), reported LOW_TOLERANCE
   */
  statusRateLimit?: Partial<Omit<RateLimit, 'cost'>> | false

  /** clock for hello timestamps, ms since the epoch */
  now?(): number
}

/** Whom a validator is asked about */
export interface ValidationContext {
  peerId: PeerId
  direction: SessionDirection
  /** aborts at the handshake's deadline */
  signal: AbortSignal
}

/** Why the application refuses a peer: its own code and a short note (≤ 256 bytes on the wire) */
export interface ApplicationRejection {
  appCode: number
  detail?: string
}

/** See `HandshakeInit.validateRemote` */
export interface RemoteValidator {
  (remote: RemoteInfo, context: ValidationContext): ApplicationRejection | undefined | Promise<ApplicationRejection | undefined>
}

export interface HandshakeComponents {
  peerId: PeerId
  registrar: Registrar
  connectionManager: ConnectionManager
  events: TypedEventTarget<Libp2pEvents>
  logger: ComponentLogger
  /** the session manager service, registered under the name `sessions` */
  sessions: Sessions
}

export interface ConnectOptions extends AbortOptions {
  /**
   * The DID the peer must present; another one is rejected with
   * UNEXPECTED_DID (the DID moved, or the address now belongs to someone else)
   */
  expectedDid?: string
}

export interface HandshakeService {
  readonly protocol: string
  /** this node's DID, the one its signer proves */
  readonly did: string
  /** the chain this node belongs to (`HandshakeInit.chain`) */
  readonly chain: ChainIdentity
  /** dial (or reuse a connection to) a peer and run the handshake as initiator */
  connect(target: PeerId | Multiaddr | Multiaddr[], options?: ConnectOptions): Promise<Session>
  /**
   * The head sent in later hellos and status messages. Also starts a status
   * round with every session peer that speaks the status protocol (at most
   * one per peer a second, later heads joining the pending round), so that
   * peers learn it at once.
   */
  setHead(head: ChainHead | undefined): void
  /**
   * Exchanges status with a session peer now (`/peergate/status/1.0.0`), or
   * as soon as half a second has passed since the last round with it:
   * resolves with its session, whose `head` and `extra` are then the peer's
   * current ones; rejects with `NoSessionError` without a session, with
   * `UnsupportedProtocolError` when the peer does not speak the status
   * protocol (not a failure: the exchange is optional, PROTOCOL.md §15.6), or
   * with the exchange's error (which counts towards the three failures in a
   * row that end a session with TIMEOUT)
   */
  refreshStatus(peer: PeerId, options?: AbortOptions): Promise<Session>
  /** inbound handshakes in flight */
  inboundInFlight(): number
}

/**
 * The handshake service factory. Needs the session manager registered as the
 * service `sessions`.
 */
export function handshake (init: HandshakeInit): (components: HandshakeComponents) => HandshakeService {
  return (components) => new Handshake(components, init)
}

export { HANDSHAKE_PROTOCOL, MAX_INBOUND_HANDSHAKES, MAX_MESSAGE_SIZE } from './constants.js'
// what a hello carries of the chain now, as a Status does
export type { LocalStatus } from '../status/index.js'
export { HandshakeError, HandshakeStage, isHandshakeError } from './errors.js'
export { checkRemoteHello, createHello } from './hello.js'
export { signingInput, type Transcript } from './transcript.js'
export { HandshakeChannel } from './channel.js'
export { Hello, HandshakeMessage } from './pb/handshake.js'
