import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { InvalidParametersError } from '@libp2p/interface'
import { createPeerNode, loadOrCreateApiToken } from '../index.js'
import { DamagedDataDirError, DEFAULT_DATA_DIR, DEFAULT_LISTEN, DEFAULT_MAX_PEERS, resolveLimits } from '../node/index.js'
import { DEFAULT_API_HOST, DEFAULT_API_PORT, DEFAULT_METRICS_HOST } from '../api/index.js'
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, describeError } from './io.js'
import { formatJson, formatText, genesisHex } from './output.js'
import { CONFIG_FILE_NAME, DEFAULT_STATUS_INTERVAL_S } from './constants.js'
import { startOptions } from './start.js'
import { CONFIG_DATA_DIR, resolveStartConfig } from './config.js'
import type { ResolvedStartConfig } from './config.js'
import type { CliIo } from './io.js'
import type { CliEvent } from './output.js'

/** The metrics port the example config suggests: Prometheus exporters' customary 9464 (OpenTelemetry's), clear of the API and libp2p */
const EXAMPLE_METRICS_PORT = 9464


/** The flags of `peergate init`, as commander parses them */
export interface InitFlags {
  dataDir?: string
  chainId?: string
  genesis?: string
  json?: boolean
}

/**
 * The example config: the chain and the data dir set, the other options
 * commented out at their defaults. The commented lines come first and end in
 * a comma, so that uncommenting any of them keeps the file JSON.
 */
export function exampleConfig (values: { dataDir: string, chainId: string, genesis: string }): string {
  const limits = resolveLimits()
  const option = (key: string, value: unknown, note: string): string => `  // ${JSON.stringify(key)}: ${JSON.stringify(value)},   ${note}`
  return [
    '// peergate start --config <this file>: the options of `peergate start`, each',
    '// under its long flag name in camelCase. Flags win over PEERGATE_* variables,',
    '// which win over this file. Lines starting with // are comments.',
    '{',
    option('listen', DEFAULT_LISTEN, 'addresses to listen on'),
    option('bootstrap', ['/ip4/127.0.0.1/tcp/4001/p2p/12D3KooW…'], 'peers to start from'),
    option('reserved', [], 'peers always kept connected'),
    option('maxPeers', DEFAULT_MAX_PEERS, 'sessions in all'),
    option('maxOutbound', limits.maxOutboundSessions, 'sessions this node dials'),
    option('maxInbound', limits.maxInboundSessions, 'sessions remote peers start'),
    option('maxSessionsPerIp', limits.maxInboundSessionsPerIp, 'inbound sessions from one source IP (IPv6: its /64)'),
    option('ipLimitExempt', ['127.0.0.0/8'], 'source ranges outside maxSessionsPerIp (none by default)'),
    option('statusInterval', DEFAULT_STATUS_INTERVAL_S, 'seconds between status lines, 0 for none'),
    option('json', false, 'one JSON object per stdout line'),
    option('apiPort', DEFAULT_API_PORT, 'status API port, 0 for any (its URL goes into the data dir)'),
    option('apiHost', DEFAULT_API_HOST, 'status API address; another than loopback is warned about'),
    option('api', true, 'false: no status API'),
    option('metricsPort', EXAMPLE_METRICS_PORT, 'a read-only GET /metrics listener of its own (off unless given)'),
    option('metricsHost', DEFAULT_METRICS_HOST, 'its address, 0.0.0.0 for a remote Prometheus'),
    '  // the data dir keeps to this chain; a relative path is relative to this file',
    `  "dataDir": ${JSON.stringify(values.dataDir)},`,
    `  "chainId": ${JSON.stringify(values.chainId)},`,
    `  "genesis": ${JSON.stringify(values.genesis)}`,
    '}',
    ''
  ].join('\n')
}

/**
 * Creates the data dir, its keys, its chain record and its API token the way
 * a first `start` does (it starts and stops a node that listens nowhere), and writes
 * an example config file into it unless one is there; resolves with the exit
 * code
 */
export async function runInit (cliFlags: InitFlags, io: CliIo): Promise<number> {
  let flags: InitFlags
  let origins: ResolvedStartConfig['origins']
  try {
    // PEERGATE_DATA_DIR, PEERGATE_CHAIN_ID, … count as they do for start
    ({ flags, origins } = resolveStartConfig({ flags: cliFlags, env: io.env }))
  } catch (err) {
    io.stderr.write(`peergate: ${describeError(err)}\n`)
    return EXIT_USAGE
  }
  const format = flags.json === true ? formatJson : formatText
  const dataDir = flags.dataDir ?? DEFAULT_DATA_DIR
  let event: Extract<CliEvent, { event: 'init' }>
  try {
    const node = await createPeerNode({ dataDir, listen: [], chain: startOptions(flags, origins).chain })
    try {
      // the status API's token, as start makes it
      await loadOrCreateApiToken(dataDir)
      event = { event: 'init', peerId: node.peerId.toString(), did: node.did, chainId: node.chain.chainId, genesis: genesisHex(node), dataDir, config: join(dataDir, CONFIG_FILE_NAME), configWritten: false }
    } finally {
      await node.stop()
    }
  } catch (err) {
    if (err instanceof Error && (err.name === InvalidParametersError.name || err.name === DamagedDataDirError.name)) {
      io.stderr.write(`peergate: ${err.message}\n`)
      return EXIT_USAGE
    }
    io.stderr.write(`peergate: could not initialise ${dataDir}: ${describeError(err)}\n`)
    return EXIT_FAILURE
  }
  try {
    // 'wx': an existing config is the operator's, never overwritten
    await writeFile(event.config, exampleConfig({ ...event, dataDir: CONFIG_DATA_DIR }), { flag: 'wx' })
    event.configWritten = true
  } catch (err: any) {
    if (err.code !== 'EEXIST') {
      io.stderr.write(`peergate: could not write ${event.config}: ${describeError(err)}\n`)
      return EXIT_FAILURE
    }
  }
  io.stdout.write(format(event))
  return EXIT_OK
}
