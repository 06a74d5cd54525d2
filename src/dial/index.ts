/**
 * @packageDocumentation
 *
 * The dial manager: keeps the node at its target number of outbound sessions
 * from the address book service, sheds sessions over the limits, keeps
 * reserved peers connected, and fills the book from Kad-DHT random walks while
 * keeping the DHT's own connections apart from the peers it selects.
 */

import { DialManager } from './dial-manager.js'
import type { PeerScores } from '../score/index.js'
import type { AddressBookService } from '../addressbook/index.js'
import type { HandshakeService } from '../handshake/index.js'
import type { Sessions } from '../session/index.js'
import type { Outcome } from '../reason/index.js'
import type { AbortOptions, ComponentLogger, PeerId, PeerStore, TypedEventTarget } from '@libp2p/interface'
import type { ConnectionManager } from '@libp2p/interface-internal'
import type { KadDHT } from '@libp2p/kad-dht'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Datastore } from 'interface-datastore'

/** A peer and the addresses to dial it at: a reserved or bootstrap peer, or any list of `/p2p/` addresses */
export interface PeerAddress {
  peerId: PeerId
  multiaddrs: Multiaddr[]
}

/** A reserved peer: kept connected, outside the session limits */
export interface ReservedPeer extends PeerAddress {
  /**
   * added at runtime (`addReserved`) and kept in the datastore, so reserved
   * again after a restart; false for a peer only the options give
   */
  stored: boolean
}

export interface DiscoveryInit {
  /**
   * Time between random walks while the node is below its outbound target
   *
   * @default 2000 (DISCOVERY_INTERVAL_BELOW_TARGET_MS)
   */
  intervalBelowTargetMs?: number
  /**
   * Time between random walks once the node is at its outbound target
   *
   * @default 60000 (DISCOVERY_INTERVAL_AT_TARGET_MS)
   */
  intervalAtTargetMs?: number
  /**
   * One walk's `getClosestPeers` lookup is given up after this long
   *
   * @default 10000 (DISCOVERY_QUERY_TIMEOUT_MS)
   */
  queryTimeoutMs?: number
}

export interface DialManagerInit {
  /**
   * How often the dial loop runs
   *
   * @default 1000
   */
  tickMs?: number

  /**
   * At most this many dials start per tick
   *
   * @default 10
   */
  maxDialsPerTick?: number

  /**
   * A dial plus handshake is given up after this long
   *
   * @default 10000
   */
  dialTimeoutMs?: number

  /**
   * Run the dial loop on its own every `tickMs`, the first round right after
   * start. With `false` nothing is dialed until `tick()` is called (tests,
   * or an embedding chain that drives the loop itself).
   *
   * @default true
   */
  autoDial?: boolean

  /** always kept connected, outside the session limits, on a short backoff of their own */
  reserved?: PeerAddress[]

  /** contacts added to the book (source `bootstrap`) once the node has started, and the DHT's seeds */
  bootstrap?: PeerAddress[]

  /** Kad-DHT random walks; `false` turns them off. Needs the DHT as service `dht`. */
  discovery?: DiscoveryInit | false

  /**
   * clock, ms since the epoch; injectable for tests (createPeerNode hands the
   * address book the same one)
   */
  now?(): number
  /** uniform random in [0, 1), for reserved peers' jitter; injectable for tests (as `now`) */
  random?(): number
}

export interface DialManagerComponents {
  peerId: PeerId
  /** a contact's addresses go here before it is dialed */
  peerStore: Pick<PeerStore, 'merge'>
  /** bootstrap peers are connected to for the DHT, without a handshake */
  connectionManager: Pick<ConnectionManager, 'getConnections' | 'openConnection'>
  logger: ComponentLogger
  /** the session manager service, registered as `sessions` */
  sessions: Pick<Sessions, 'get' | 'list' | 'count' | 'handshakes' | 'limits' | 'setReserved' | 'isReserved' | 'bans' | 'banExpiry' | 'disconnect'>
  /** the handshake service, registered as `handshake` */
  handshake: Pick<HandshakeService, 'connect'>
  /** the address book service, registered as `addressBook` */
  addressBook: AddressBookService
  /** optional: the peer score service, registered as `score`: better peers are dialed first, the worst sessions shed first */
  score?: Pick<PeerScores, 'scoreOf' | 'list'>
  /** the Kad-DHT service, registered as `dht` (optional) */
  dht?: KadDHT
  /** where reserved peers added at runtime are kept; without it they last until the node stops */
  datastore?: Datastore
}

export interface DialStatus {
  targetOutbound: number
  /** outbound sessions that count against the target: reserved peers' do not */
  outbound: number
  /** inbound sessions, reserved peers' left out */
  inbound: number
  /** sessions with reserved peers, either direction: outside the limits */
  reserved: number
  dialing: number
}

/** How one dial of the dial loop ended (a dial cancelled by stop() reports nothing) */
export interface DialEndDetail {
  peerId: PeerId
  /** `opened`: the handshake made a session; `failed`: the dial or the handshake failed */
  result: 'opened' | 'failed'
  /** why a failed dial failed: the handshake's reason code, or DIAL_FAILED before any handshake */
  reason?: Outcome
  /** what a failed dial failed with (for DIAL_FAILED, libp2p's error: refused, reset, timed out, …) */
  error?: Error
  /** the peer is a reserved peer (dialed outside the outbound target) */
  reserved: boolean
}

export interface BootstrapUnreachableDetail {
  peerId: PeerId
  multiaddrs: Multiaddr[]
  /** why the connection failed */
  error: Error
}

export interface DialManagerEvents {
  /** a dial the loop started has ended; metrics count them */
  'dial:end': CustomEvent<DialEndDetail>
  /** a bootstrap peer could not be reached for the DHT (the operator may have a wrong address) */
  'bootstrap:unreachable': CustomEvent<BootstrapUnreachableDetail>
}

export interface DialManagerService extends TypedEventTarget<DialManagerEvents> {
  status(): DialStatus
  /** the peers the loop is dialing now (no session yet) */
  dialingPeers(): PeerId[]
  /**
   * The bootstrap peers whose last connection for the DHT failed and that
   * have no open connection now, with that failure: what
   * `bootstrap:unreachable` told as it happened, for whoever began to listen
   * after (a node's first attempt comes during its start)
   */
  unreachableBootstrapPeers(): BootstrapUnreachableDetail[]
  /** the reserved peers: the options' and those added at runtime */
  reservedPeers(): ReservedPeer[]
  /**
   * Reserves a peer from now on: kept connected (dialed on its own backoff,
   * never shed) and outside the session limits; written to the datastore, so
   * it is reserved again after a restart. Adding a reserved peer again
   * replaces its addresses.
   *
   * @throws {InvalidParametersError} for this node's own peer id or a peer without addresses
   */
  addReserved(peer: PeerAddress, options?: AbortOptions): Promise<ReservedPeer>
  /**
   * Stops reserving a peer: it goes back to being an ordinary contact
   * (source `manual`), its session is kept and counts against the limits
   * again. A peer the options give is reserved again at the next start.
   * Resolves with the peer, or undefined when it was not reserved.
   */
  removeReserved(peer: PeerId, options?: AbortOptions): Promise<ReservedPeer | undefined>
  /** runs one round of the dial loop now */
  tick(): Promise<void>
}

/**
 * The dial manager service factory. Needs the session manager as `sessions`,
 * the handshake as `handshake` and the address book as `addressBook`; uses
 * the Kad-DHT as `dht` when present.
 */
export function dialManager (init: DialManagerInit = {}): (components: DialManagerComponents) => DialManagerService {
  return (components) => new DialManager(components, init)
}

export { selectDials, selectDrops, type SessionSlot } from './select.js'
export type { TickSnapshot } from './plan.js'
export { DIAL_TICK_MS, MAX_DIALS_PER_TICK, DIAL_TIMEOUT_MS, OUTBOUND_FRACTION, RESERVED_KEY_PREFIX } from './constants.js'
