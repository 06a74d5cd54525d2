/**
 * A node view in memory, without libp2p: what metrics, the status API and
 * the CLI's output read of a node (`NodeView`), held in plain fields a test
 * sets, with its events dispatched by the test. The commands record their
 * calls. Real-node tests keep covering `PeerNode` and `nodeView(libp2p)`.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { PeerMap } from '@libp2p/peer-collections'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { defaultLogger } from '@libp2p/logger'
import { multiaddr } from '@multiformats/multiaddr'
import { TypedEventEmitter } from 'main-event'
import type { BootstrapUnreachableDetail, ChainIdentity, ConnectionInfo, ConnectionRole, Contact, GossipTopicStats, HandshakeInFlight, NodeStatus, NodeView, NodeViewEvents, PeerAction, PeerScoreInfo, ReservedPeer, Session, SessionDirection, StorageHealth } from '../../src/index.js'
import type { ComponentLogger, Libp2pStatus, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Registry } from 'prom-client'

export async function testPeerId (): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

/** A session of `peer` in memory (its connection carries only an id) */
export function testSession (peer: PeerId, fields: Partial<Session> & { connectionId: string }): Session {
  const { connectionId, ...rest } = fields
  return {
    peerId: peer,
    did: `did:key:fake-${peer.toString().slice(-6)}`,
    direction: 'outbound',
    connection: { id: connectionId } as unknown as Session['connection'],
    chainVersion: '1.0.0',
    extra: new Uint8Array(),
    since: 1_000,
    signal: new AbortController().signal,
    state: new Map(),
    ...rest
  }
}

export class FakeNodeView extends TypedEventEmitter<NodeViewEvents> implements NodeView {
  readonly peerId: PeerId
  readonly did = 'did:key:fake-self'
  readonly chain: ChainIdentity = { chainId: 'fake-chain', genesisHash: Uint8Array.of(0xab, 0xcd), version: '1.0.0' }
  state: Libp2pStatus = 'started'
  metricsRegistry?: Registry
  readonly logger: ComponentLogger = defaultLogger()
  multiaddrs: Multiaddr[] = [multiaddr('/ip4/127.0.0.1/tcp/4001')]
  readonly sessionsByPeer = new PeerMap<Session>()
  handshakesInFlight: HandshakeInFlight[] = []
  connectionInfos: ConnectionInfo[] = []
  readonly book = new PeerMap<Contact>()
  readonly banList = new Map<string, number>()
  dialing: PeerId[] = []
  reservedPeers: ReservedPeer[] = []
  readonly agents = new PeerMap<string>()
  gossip: GossipTopicStats[] = []
  readonly scores = new PeerMap<PeerScoreInfo>()
  targetOutbound = 16
  maxInbound = 34
  /** the datastore's health; undefined: not watched */
  storageHealth?: StorageHealth = { state: 'ok' }
  /** every command called, with its arguments */
  readonly calls: Array<{ command: string, args: unknown[] }> = []
  /** how often the whole book was copied (`contacts()`) */
  bookCopies = 0

  constructor (peerId: PeerId) {
    super()
    this.peerId = peerId
  }

  getMultiaddrs (): Multiaddr[] {
    return this.multiaddrs
  }

  status (): NodeStatus {
    const connections: Record<ConnectionRole, number> = { 'outbound-session': 0, 'inbound-session': 0, handshaking: 0, auxiliary: 0 }
    for (const info of this.connectionInfos) {
      connections[info.role]++
    }
    return {
      sessions: { outbound: this.sessionCount('outbound'), inbound: this.sessionCount('inbound'), reserved: 0, targetOutbound: this.targetOutbound, maxInbound: this.maxInbound, maxInboundPerIp: 4, ipLimitExempt: [] },
      connections,
      dialing: this.dialing.length,
      contacts: this.book.size,
      storage: this.storage()
    }
  }

  storage (): StorageHealth | undefined {
    return this.storageHealth
  }

  session (peer: PeerId): Session | undefined {
    return this.sessionsByPeer.get(peer)
  }

  sessions (): Session[] {
    return [...this.sessionsByPeer.values()]
  }

  sessionCount (direction?: SessionDirection): number {
    return this.sessions().filter(s => direction == null || s.direction === direction).length
  }

  handshakes (): HandshakeInFlight[] {
    return this.handshakesInFlight
  }

  connections (): ConnectionInfo[] {
    return this.connectionInfos
  }

  contact (peer: PeerId): Contact | undefined {
    return this.book.get(peer)
  }

  contacts (): Contact[] {
    this.bookCopies++
    return [...this.book.values()]
  }

  forEachContact (fn: (contact: Contact) => void): void {
    this.book.forEach(fn)
  }

  backoffs (): Contact[] {
    return [...this.book.values()].filter(c => c.nextAttempt > Date.now())
  }

  bans (): Map<string, number> {
    return new Map(this.banList)
  }

  banExpiry (target: PeerId | string): number | undefined {
    return this.banList.get(target.toString())
  }

  dialingPeers (): PeerId[] {
    return this.dialing
  }

  unreachableBootstrapPeers (): BootstrapUnreachableDetail[] {
    return []
  }

  reserved (): ReservedPeer[] {
    return this.reservedPeers
  }

  async agent (peer: PeerId): Promise<string | undefined> {
    return this.agents.get(peer)
  }

  gossipTopics (): GossipTopicStats[] {
    return this.gossip
  }

  peerScore (peer: PeerId): PeerScoreInfo | undefined {
    return this.scores.get(peer)
  }

  peerScores (): PeerScoreInfo[] {
    return [...this.scores.values()]
  }

  reportPeer (peer: PeerId, action: PeerAction, reason: string): void {
    this.calls.push({ command: 'reportPeer', args: [peer, action, reason] })
  }

  async connect (target: PeerId | Multiaddr | Multiaddr[]): Promise<Session> {
    this.calls.push({ command: 'connect', args: [target] })
    throw new Error('the fake view dials nobody')
  }

  async disconnect (peer: PeerId, reason?: string): Promise<void> {
    this.calls.push({ command: 'disconnect', args: [peer, reason] })
    this.sessionsByPeer.delete(peer)
  }

  async ban (target: PeerId | string, durationMs = 86_400_000): Promise<void> {
    this.calls.push({ command: 'ban', args: [target, durationMs] })
    this.banList.set(target.toString(), Date.now() + durationMs)
  }

  async unban (target: PeerId | string): Promise<void> {
    this.calls.push({ command: 'unban', args: [target] })
    this.banList.delete(target.toString())
  }

  async clearBackoff (peer?: PeerId | PeerId[]): Promise<Contact[]> {
    this.calls.push({ command: 'clearBackoff', args: [peer] })
    return []
  }

  async addContact (addrs: string | Multiaddr | Array<string | Multiaddr>): Promise<Contact[]> {
    this.calls.push({ command: 'addContact', args: [addrs] })
    return []
  }

  async removeContact (peer: PeerId): Promise<void> {
    this.calls.push({ command: 'removeContact', args: [peer] })
    this.book.delete(peer)
  }

  async addReserved (addrs: string | Multiaddr | Array<string | Multiaddr>): Promise<ReservedPeer[]> {
    this.calls.push({ command: 'addReserved', args: [addrs] })
    return []
  }

  async removeReserved (peer: PeerId): Promise<ReservedPeer | undefined> {
    this.calls.push({ command: 'removeReserved', args: [peer] })
    return undefined
  }
}
