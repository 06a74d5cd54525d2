import { perIp } from './output.js'
import type { BanView, ContactView, PeerView, RejectRecord, ReservedView, StatusView } from '../index.js'

/** Columns padded to their widest cell, two spaces apart; `empty` when there are no rows */
export function table (header: string[], rows: Array<Array<string | number | undefined>>, empty: string): string {
  if (rows.length === 0) {
    return `${empty}\n`
  }
  const cells = [header, ...rows.map(row => row.map(cell => cell == null ? '-' : String(cell)))]
  const widths = header.map((_, i) => Math.max(...cells.map(row => row[i].length)))
  return cells.map(row => row.map((cell, i) => i === row.length - 1 ? cell : cell.padEnd(widths[i])).join('  ')).join('\n') + '\n'
}

/** How a table prints ids: shortened by default, whole with `--wide` */
export interface TableOptions {
  wide?: boolean
}

/**
 * A peer id shortened for a table: its first 8 characters (the key type,
 * `12D3KooW` for Ed25519) and its last 6, enough to tell peers apart by eye
 */
export function shortPeerId (id: string): string {
  return id.length <= 16 ? id : `${id.slice(0, 8)}…${id.slice(-6)}`
}

/** A DID shortened for a table: its method, the first 4 and the last 4 characters of its id (`did:key:z6Mk…wxyz`) */
export function shortDid (did: string): string {
  const match = /^(did:[a-z0-9]+:)(.+)$/.exec(did)
  return match == null || match[2].length <= 12 ? did : `${match[1]}${match[2].slice(0, 4)}…${match[2].slice(-4)}`
}

/** A ban target, a peer id or a DID, shortened as its kind is */
function shortTarget (target: string): string {
  return target.startsWith('did:') ? shortDid(target) : shortPeerId(target)
}

/** The two shorteners, or the identity with `--wide` */
function ids (options: TableOptions): { peer: (id: string) => string, did: (did: string | undefined) => string | undefined, target: (target: string) => string } {
  if (options.wide === true) {
    return { peer: id => id, did: did => did, target: target => target }
  }
  return { peer: shortPeerId, did: did => did == null ? undefined : shortDid(did), target: shortTarget }
}

/** An address without its `/p2p/<peer id>` tail when that is the row's peer (an inbound connection's has one): the PEER column says it */
function withoutPeerId (addr: string, peerId: string): string {
  const tail = `/p2p/${peerId}`
  return addr.endsWith(tail) ? addr.slice(0, -tail.length) : addr
}

/** A time as ISO 8601 in UTC, '-' for none */
export function when (ms: number | undefined): string {
  return ms == null || ms === 0 ? '-' : new Date(ms).toISOString()
}

export function formatStatus (status: StatusView): string {
  const { sessions, connections } = status
  return [
    `peer id:     ${status.peerId}`,
    `did:         ${status.did}`,
    `chain:       ${status.chain.chainId} ${status.chain.version} (genesis ${status.chain.genesisHash})`,
    ...status.multiaddrs.map(ma => `listening:   ${ma}`),
    `sessions:    ${sessions.outbound}/${sessions.targetOutbound} outbound, ${sessions.inbound}/${sessions.maxInbound} inbound (${perIp(sessions)})`,
    `connections: ${connections['outbound-session']} outbound session, ${connections['inbound-session']} inbound session, ${connections.handshaking} handshaking, ${connections.auxiliary} auxiliary`,
    `dialing:     ${status.dialing}`,
    `contacts:    ${status.contacts}`,
    ...(status.storage == null ? [] : [`storage:     ${storageLine(status.storage)}`]),
    ''
  ].join('\n')
}

/** ok, or since when and why the datastore refuses writes */
function storageLine (storage: NonNullable<StatusView['storage']>): string {
  if (storage.state === 'ok') {
    return 'ok'
  }
  return `failing since ${new Date(storage.since).toISOString()}, ${storage.failedWrites} writes refused: ${storage.error} (the node carries on from memory)`
}

/**
 * ROLE says whose choice the session was (outbound-session: this node
 * selected the peer, a slot of its outbound target; inbound-session: the peer
 * selected this node, an inbound slot); DIALED BY says who opened the
 * connection. They differ when a session rides a connection the other side
 * opened first, for the DHT.
 */
export function formatPeers (peers: PeerView[], options: TableOptions = {}): string {
  const short = ids(options)
  // the agent (35 columns of js-libp2p/… UserAgent=…) only in the wide table
  const agent = options.wide === true
  return table(
    ['PEER', 'ROLE', 'DIALED BY', 'DID', 'REMOTE ADDRESS', ...(agent ? ['AGENT'] : []), 'HEAD', 'SINCE', 'RTT'],
    peers.map(p => [short.peer(p.peerId), p.role, p.direction === 'outbound' ? 'this node' : 'the peer', short.did(p.did), options.wide === true ? p.remoteAddr : withoutPeerId(p.remoteAddr, p.peerId), ...(agent ? [p.agent] : []), p.head?.height, when(p.since), p.rttMs == null ? undefined : `${p.rttMs} ms`]),
    'no connections'
  )
}

export function formatContacts (contacts: ContactView[], now = Date.now(), options: TableOptions = {}): string {
  const short = ids(options)
  return table(
    ['PEER', 'SOURCE', 'FAILURES', 'NEXT ATTEMPT', 'BACKOFF REASON', 'LAST SEEN', 'DID'],
    contacts.map(c => [short.peer(c.peerId), c.source, c.failures, c.nextAttempt > now ? when(c.nextAttempt) : 'now', c.bannedUntil != null ? `banned by this node until ${when(c.bannedUntil)}` : c.backoffReason, when(c.lastSeen), short.did(c.did)]),
    'no contacts'
  )
}

export function formatBans (bans: BanView[], options: TableOptions = {}): string {
  const short = ids(options)
  return table(['TARGET', 'UNTIL'], bans.map(b => [short.target(b.target), when(b.until)]), 'no bans')
}

export function formatRejects (rejects: RejectRecord[], options: TableOptions = {}): string {
  const short = ids(options)
  return table(
    ['TIME', 'KIND', 'PEER', 'REASON', 'SIDE', 'APP CODE', 'MESSAGE'],
    rejects.map(r => [when(r.time), r.kind, short.peer(r.peerId), r.reason, r.side, r.appCode, r.message]),
    'no rejects'
  )
}

export function formatReserved (peers: ReservedView[], options: TableOptions = {}): string {
  const short = ids(options)
  return table(
    ['PEER', 'SESSION', 'STORED', 'ADDRESSES'],
    peers.map(p => [short.peer(p.peerId), p.session ? 'yes' : 'no', p.stored ? 'yes' : 'no (options)', p.multiaddrs.join(' ')]),
    'no reserved peers'
  )
}
