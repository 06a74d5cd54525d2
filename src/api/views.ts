import { toString as uint8ArrayToString } from 'uint8arrays/to-string'
import type { ChainHead } from '../chain/index.js'
import type { Contact } from '../addressbook/index.js'
import type { ConnectionRole, NodeStatus, NodeView } from '../node/index.js'
import type { PeerId } from '@libp2p/interface'

/** A head as JSON: the height as a decimal string (it is a bigint), the hash in hex */
export interface HeadView {
  height: string
  hash: string
}

export interface StatusView extends NodeStatus {
  peerId: string
  did: string
  chain: { chainId: string, genesisHash: string, version: string }
  multiaddrs: string[]
}

export interface PeerView {
  peerId: string
  /** the connection's id; empty for a peer being dialed that has none yet */
  connectionId: string
  /** the session's DID, else the one the address book learnt */
  did?: string
  /** a connection's role, or `dialing`: the dial loop is dialing the peer and has no connection to it yet */
  role: ConnectionRole | 'dialing'
  /** who dialed the connection */
  direction: 'inbound' | 'outbound'
  remoteAddr: string
  /** identify's agent version, when the peer store has it */
  agent?: string
  /** the session peer's head */
  head?: HeadView
  /** when the session opened, else when the connection did; ms since the epoch */
  since: number
  /** the keep-alive's last round trip (or the ping at session open), in ms */
  rttMs?: number
  /** the peer score (src/score/), rounded to hundredths; absent when the peer has none */
  score?: number
  /** the last reports that moved the score, oldest first */
  scoreEvents?: ScoreEventView[]
}

/** One report that moved a peer's score, as `GET /peers` shows it */
export interface ScoreEventView {
  /** ms since the epoch */
  at: number
  action: string
  reason: string
  /** the score right after it */
  score: number
  /** what it led to: `disconnect` (SCORE_TOO_LOW) or `ban` */
  outcome?: string
}

export interface ContactView {
  peerId: string
  did?: string
  multiaddrs: string[]
  source: string
  failures: number
  /** ms since the epoch; 0 or past: may be dialled now */
  nextAttempt: number
  backoffReason?: string
  /** this node banned the peer (its peer id or its DID) until then, ms since the epoch */
  bannedUntil?: number
  firstSeen: number
  lastSeen: number
  lastSession?: number
}

export interface ReservedView {
  peerId: string
  multiaddrs: string[]
  /** added at runtime and kept in the data dir (reserved again after a restart); false: given by the options only */
  stored: boolean
  /** the node has a session with it now */
  session: boolean
}

export interface BanView {
  /** a peer id or a DID */
  target: string
  /** when the ban ends, ms since the epoch */
  until: number
}

/** One gossip topic this node subscribes to, as `GET /gossip` shows it */
export interface GossipTopicView {
  topic: string
  /** the session peers in this node's mesh of the topic, with their sessions' DIDs */
  meshPeers: Array<{ peerId: string, did?: string }>
  published: number
  /** every copy received, before any check */
  received: number
  duplicate: number
  /** rejected by the application's validator */
  rejected: number
}

export function headView (head: ChainHead | undefined): HeadView | undefined {
  return head == null ? undefined : { height: head.height.toString(), hash: uint8ArrayToString(head.hash, 'base16') }
}

export function statusView (node: NodeView): StatusView {
  return {
    peerId: node.peerId.toString(),
    did: node.did,
    chain: { chainId: node.chain.chainId, genesisHash: uint8ArrayToString(node.chain.genesisHash, 'base16'), version: node.chain.version },
    multiaddrs: node.getMultiaddrs().map(ma => ma.toString()),
    ...node.status()
  }
}

/** a score as JSON shows it: to hundredths */
function roundScore (score: number): number {
  return Math.round(score * 100) / 100
}

/** `peer`'s score and its recent events, as `GET /peers` shows them; nothing for a peer without a score */
export function scoreView (node: NodeView, peer: PeerId): Pick<PeerView, 'score' | 'scoreEvents'> {
  const info = node.peerScore(peer)
  if (info == null) {
    return {}
  }
  return {
    score: roundScore(info.score),
    scoreEvents: info.events.map(event => ({ at: event.at, action: event.action, reason: event.reason, score: roundScore(event.score), outcome: event.outcome }))
  }
}

/** Every connection with its role, DID, head, score and, from the peer store, agent */
export async function peersView (node: NodeView): Promise<PeerView[]> {
  const views = await Promise.all(node.connections().map(async (info): Promise<PeerView> => {
    const session = info.role === 'outbound-session' || info.role === 'inbound-session' ? node.session(info.peerId) : undefined
    return {
      ...scoreView(node, info.peerId),
      peerId: info.peerId.toString(),
      connectionId: info.id,
      did: session?.did ?? node.contact(info.peerId)?.did,
      role: info.role,
      direction: info.direction,
      remoteAddr: info.remoteAddr.toString(),
      agent: await node.agent(info.peerId),
      head: headView(session?.head),
      since: session?.since ?? info.opened,
      rttMs: info.rtt
    }
  }))
  // peers the dial loop is dialing that have no connection yet
  const connected = new Set(views.map(view => view.peerId))
  for (const peerId of node.dialingPeers()) {
    const id = peerId.toString()
    if (connected.has(id)) {
      continue
    }
    const contact = node.contact(peerId)
    views.push({
      ...scoreView(node, peerId),
      peerId: id,
      connectionId: '',
      did: contact?.did,
      role: 'dialing',
      direction: 'outbound',
      remoteAddr: contact?.multiaddrs[0]?.toString() ?? '',
      since: Date.now()
    })
  }
  return views
}

/** A contact as the API shows it; `bans` (target → until) marks the banned ones */
export function contactView (contact: Contact, bans: Map<string, number> = new Map()): ContactView {
  const banned = [bans.get(contact.peerId.toString()), contact.did == null ? undefined : bans.get(contact.did)]
    .filter((until): until is number => until != null)
  return {
    peerId: contact.peerId.toString(),
    did: contact.did,
    multiaddrs: contact.multiaddrs.map(ma => ma.toString()),
    source: contact.source,
    failures: contact.failures,
    nextAttempt: contact.nextAttempt,
    backoffReason: contact.backoffReason,
    bannedUntil: banned.length === 0 ? undefined : Math.max(...banned),
    firstSeen: contact.firstSeen,
    lastSeen: contact.lastSeen,
    lastSession: contact.lastSession
  }
}

export function reservedView (node: NodeView): ReservedView[] {
  return node.reserved().map(peer => ({
    peerId: peer.peerId.toString(),
    multiaddrs: peer.multiaddrs.map(ma => ma.toString()),
    stored: peer.stored,
    session: node.session(peer.peerId) != null
  }))
}

export function bansView (bans: Map<string, number>): BanView[] {
  return [...bans].map(([target, until]) => ({ target, until })).sort((a, b) => a.until - b.until)
}

/** Each gossip topic the node subscribes to, with its mesh peers and message counts; none without gossip */
export function gossipView (node: NodeView): GossipTopicView[] {
  return node.gossipTopics().map(stats => ({
    topic: stats.topic,
    meshPeers: stats.meshPeers.map(peer => ({ peerId: peer.toString(), did: node.session(peer)?.did })),
    published: stats.published,
    received: stats.received,
    duplicate: stats.duplicate,
    rejected: stats.rejected
  }))
}
