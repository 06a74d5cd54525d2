import { toString as uint8ArrayToString } from 'uint8arrays/to-string'
import type { NodeStatus, NodeView, Session, SessionCloseDetail, SessionRejectDetail, StorageFailing, StorageRecoveredDetail } from '../index.js'

/** What the `start` command reports, one JSON line each with `--json` */
export type CliEvent =
  | { event: 'ready', peerId: string, did: string, chainId: string, genesis: string, multiaddrs: string[], api?: string, metrics?: string }
  | { event: 'session:open', peerId: string, did: string, direction: string }
  | { event: 'session:close', peerId: string, did: string, reason: string, side: string, appCode?: number, message?: string }
  | { event: 'session:reject', peerId: string, reason: string, side: string, direction: string, message: string, appCode?: number, did?: string, chainId?: string }
  | { event: 'connections', connections: Array<{ peerId: string, role: string, direction: string, remoteAddr: string }> }
  | { event: 'status', sessions: NodeStatus['sessions'], connections: NodeStatus['connections'], dialing: number, contacts: number, storage?: NodeStatus['storage'] }
  | { event: 'storage', state: 'failing', since: number, error: string, failedWrites: number }
  | { event: 'storage', state: 'ok', since: number, until: number, failedWrites: number }
  | { event: 'stopped' }
  | { event: 'init', peerId: string, did: string, chainId: string, genesis: string, dataDir: string, config: string, configWritten: boolean }

export type Formatter = (event: CliEvent) => string

/** The limit of inbound sessions per source IP, for a status line: `4 per IP`, `4 per IP, 127.0.0.0/8 exempt` */
export function perIp (sessions: Pick<NodeStatus['sessions'], 'maxInboundPerIp' | 'ipLimitExempt'>): string {
  const exempt = sessions.ipLimitExempt
  return `${sessions.maxInboundPerIp} per IP${exempt.length > 0 ? `, ${exempt.join(' ')} exempt` : ''}`
}

/** A node's genesis hash as the CLI prints it, `0x` and hex, as `--genesis` takes it */
export function genesisHex (node: NodeView): string {
  return `0x${uint8ArrayToString(node.chain.genesisHash, 'base16')}`
}

/** `api`: the status API's URL, when it runs; `metrics`: the metrics listener's, when it runs */
export function readyEvent (node: NodeView, api?: string, metrics?: string): CliEvent {
  return {
    event: 'ready',
    peerId: node.peerId.toString(),
    did: node.did,
    chainId: node.chain.chainId,
    genesis: genesisHex(node),
    multiaddrs: node.getMultiaddrs().map(ma => ma.toString()),
    api,
    metrics
  }
}

export function openEvent (session: Session): CliEvent {
  return { event: 'session:open', peerId: session.peerId.toString(), did: session.did, direction: session.direction }
}

export function closeEvent (detail: SessionCloseDetail): CliEvent {
  return { event: 'session:close', peerId: detail.session.peerId.toString(), did: detail.session.did, reason: detail.reason, side: detail.side, appCode: detail.appCode, message: detail.message }
}

export function rejectEvent (detail: SessionRejectDetail): CliEvent {
  return {
    event: 'session:reject',
    peerId: detail.peerId.toString(),
    reason: detail.reason,
    side: detail.side,
    direction: detail.direction,
    message: detail.message,
    appCode: detail.appCode,
    // what the peer's hello said, when one arrived
    did: detail.remote?.did,
    chainId: detail.remote?.chainId
  }
}

/** Every connection with its role (JSON output only: the status line counts them) */
export function connectionsEvent (node: NodeView): CliEvent {
  return {
    event: 'connections',
    connections: node.connections().map(c => ({ peerId: c.peerId.toString(), role: c.role, direction: c.direction, remoteAddr: c.remoteAddr.toString() }))
  }
}

/** The datastore began to refuse writes (once per spell) */
export function storageFailingEvent (detail: StorageFailing): CliEvent {
  return { event: 'storage', state: 'failing', since: detail.since, error: detail.error, failedWrites: detail.failedWrites }
}

/** The datastore takes writes again */
export function storageOkEvent (detail: StorageRecoveredDetail): CliEvent {
  return { event: 'storage', state: 'ok', since: detail.since, until: detail.until, failedWrites: detail.failedWrites }
}

export function statusEvent (node: NodeView): CliEvent {
  return { event: 'status', ...node.status() }
}

export const formatJson: Formatter = (event) => `${JSON.stringify(event)}\n`

/** Human output: each line starts with the ISO time it was printed at */
export const formatText: Formatter = (event) => {
  const time = new Date().toISOString()
  return textLines(event).split('\n').filter(line => line !== '').map(line => `${time} ${line}\n`).join('')
}

/** An event's human text without the time: a JSON log line's message (`--log-format json`) */
export function eventText (event: CliEvent): string {
  return textLines(event).trimEnd()
}

function textLines (event: CliEvent): string {
  switch (event.event) {
    case 'ready':
      return [
        `peer id:   ${event.peerId}`,
        `did:       ${event.did}`,
        `chain id:  ${event.chainId}`,
        `genesis:   ${event.genesis}`,
        ...event.multiaddrs.map(ma => `listening: ${ma}`),
        ...(event.api == null ? [] : [`api:       ${event.api}`]),
        ...(event.metrics == null ? [] : [`metrics:   ${event.metrics}`]),
        ''
      ].join('\n')
    case 'session:open':
      return `session open: ${event.peerId} ${event.did} (${event.direction})\n`
    case 'session:close':
      return `session closed by ${event.side === 'local' ? 'this node' : 'the peer'}: ${event.peerId} ${event.did} (${event.reason}${event.appCode == null ? '' : ` ${event.appCode}`}${event.message == null ? '' : `: ${event.message}`})\n`
    case 'session:reject':
      return `handshake rejected by ${event.side === 'local' ? 'this node' : 'the peer'}: ${event.peerId}${event.did == null ? '' : ` ${event.did}`} (${event.direction}) ${event.reason}${event.appCode == null ? '' : ` ${event.appCode}`}: ${event.message}\n`
    case 'connections':
      return ''
    case 'status': {
      const { sessions, connections, storage } = event
      return `status: sessions ${sessions.outbound}/${sessions.targetOutbound} outbound, ${sessions.inbound}/${sessions.maxInbound} inbound (${perIp(sessions)}), ${sessions.reserved} reserved; ` +
        `connections ${connections.auxiliary} auxiliary, ${connections.handshaking} handshaking; ${event.dialing} dialing; ${event.contacts} contacts` +
        `${storage?.state === 'failing' ? `; storage failing since ${new Date(storage.since).toISOString()} (${storage.failedWrites} writes)` : ''}\n`
    }
    case 'storage':
      return event.state === 'failing'
        ? `storage failing: the datastore refuses writes (${event.error}); the node carries on with what it holds in memory\n`
        : `storage ok: the datastore takes writes again, after ${event.failedWrites} failed in ${Math.round((event.until - event.since) / 1000)} s; what it could not write is written now\n`
    case 'stopped':
      return 'stopped\n'
    case 'init':
      return [
        `peer id:   ${event.peerId}`,
        `did:       ${event.did}`,
        `chain id:  ${event.chainId}`,
        `genesis:   ${event.genesis}`,
        `data dir:  ${event.dataDir}`,
        `config:    ${event.config}${event.configWritten ? ' (an example, written now)' : ' (kept: it was there)'}`,
        ''
      ].join('\n')
  }
}
