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
    `sessions:    ${sessions.outbound}/${sessions.targetOutbound} outbound, ${sessions.inbound}/${sessions.maxInbound} inbound`,
    `connections: ${connections['outbound-session']} outbound session, ${connections['inbound-session']} inbound session, ${connections.handshaking} handshaking, ${connections.auxiliary} auxiliary`,
    `dialing:     ${status.dialing}`,
    `contacts:    ${status.contacts}`,
    ''
  ].join('\n')
}

export function formatPeers (peers: PeerView[]): string {
  return table(
    ['PEER', 'ROLE', 'DIR', 'DID', 'REMOTE ADDRESS', 'AGENT', 'HEAD', 'SINCE', 'RTT'],
    peers.map(p => [p.peerId, p.role, p.direction, p.did, p.remoteAddr, p.agent, p.head?.height, when(p.since), p.rttMs == null ? undefined : `${p.rttMs} ms`]),
    'no connections'
  )
}

export function formatContacts (contacts: ContactView[], now = Date.now()): string {
  return table(
    ['PEER', 'SOURCE', 'FAILURES', 'NEXT ATTEMPT', 'BACKOFF REASON', 'LAST SEEN', 'DID'],
    contacts.map(c => [c.peerId, c.source, c.failures, c.nextAttempt > now ? when(c.nextAttempt) : 'now', c.backoffReason, when(c.lastSeen), c.did]),
    'no contacts'
  )
}

export function formatBans (bans: BanView[]): string {
  return table(['TARGET', 'UNTIL'], bans.map(b => [b.target, when(b.until)]), 'no bans')
}

export function formatRejects (rejects: RejectRecord[]): string {
  return table(
    ['TIME', 'KIND', 'PEER', 'REASON', 'SIDE', 'APP CODE', 'MESSAGE'],
    rejects.map(r => [when(r.time), r.kind, r.peerId, r.reason, r.side, r.appCode, r.message]),
    'no rejects'
  )
}

export function formatReserved (peers: ReservedView[], _options: { wide: boolean }): string {
  return table(
    ['PEER', 'SESSION', 'STORED', 'ADDRESSES'],
    peers.map(p => [p.peerId, p.session ? 'yes' : 'no', p.stored ? 'yes' : 'no (options)', p.multiaddrs.join(' ')]),
    'no reserved peers'
  )
}
