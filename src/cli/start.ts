import { readFile } from 'node:fs/promises'
import { InvalidParametersError } from '@libp2p/interface'
import { createApiServer, createNodeMetrics, createPeerNode, loadOrCreateApiToken } from '../index.js'
import { AddressInUseError, DEFAULT_DATA_DIR, MAX_SESSIONS_LIMIT } from '../node/index.js'
import { DEFAULT_API_PORT } from '../api/index.js'
import { CONFIG_ENV, optionName, parseConfigText, resolveStartConfig } from './config.js'
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, describeError } from './io.js'
import { closeEvent, connectionsEvent, formatJson, formatText, openEvent, readyEvent, rejectEvent, statusEvent } from './output.js'
import type { ConfigFile, ResolvedStartConfig, StartConfigKey } from './config.js'
import type { CliIo } from './io.js'
import type { CliEvent } from './output.js'
import type { ApiServer, BootstrapUnreachableDetail, NodeMetrics, PeerNode, PeerNodeOptions, Session, SessionCloseDetail, SessionRejectDetail } from '../index.js'

/** a day: setInterval's limit is about 24.8 days, and a status line a day is already rare */
const MAX_STATUS_INTERVAL_S = 86_400

/** a 32-byte genesis hash in hex */
const GENESIS_HEX_DIGITS = 64

/** seconds between status lines when no flag, variable or config file says otherwise */
export const DEFAULT_STATUS_INTERVAL_S = 30

/** The flags of `peergate start`, as commander parses them */
export interface StartFlags {
  dataDir?: string
  listen?: string[]
  bootstrap?: string[]
  chainId?: string
  genesis?: string
  reserved?: string[]
  maxPeers?: string
  maxInbound?: string
  maxOutbound?: string
  statusInterval?: string
  json?: boolean
  /** `--api-port <n>` */
  apiPort?: string
  /** false with `--no-api` */
  api?: boolean
  /** `--config <file>`: a JSON config file of these options */
  config?: string
}

/** A whole-number flag in [min, max]; the message names the range */
function wholeNumber (value: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (value == null) {
    return undefined
  }
  const n = /^\d+$/.test(value) ? Number(value) : NaN
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new InvalidParametersError(`${flag} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`)
  }
  return n
}

/** `--genesis`: the hash of the genesis block, 32 bytes (SHA-256, Keccak-256, as the default derivation), in hex */
function genesisHash (value: string | undefined, origin: string): string | undefined {
  if (value == null) {
    return undefined
  }
  const hex = value.startsWith('0x') ? value.slice(2) : value
  if (!/^[0-9a-fA-F]*$/.test(hex) || hex.length !== GENESIS_HEX_DIGITS) {
    throw new InvalidParametersError(`${origin} must be a 32-byte hash: ${GENESIS_HEX_DIGITS} hex digits, 0x optional, got ${JSON.stringify(value)}`)
  }
  return hex
}

/**
 * The node's options from the start options; `origins` names where each came
 * from in error messages (default: its flag)
 */
export function startOptions (flags: StartFlags, origins: ResolvedStartConfig['origins'] = {}): PeerNodeOptions {
  const name = (key: StartConfigKey): string => optionName(origins, key)
  return {
    dataDir: flags.dataDir,
    listen: flags.listen,
    bootstrap: flags.bootstrap,
    reserved: flags.reserved,
    limits: {
      maxPeers: wholeNumber(flags.maxPeers, name('maxPeers'), 0, MAX_SESSIONS_LIMIT),
      maxInboundSessions: wholeNumber(flags.maxInbound, name('maxInbound'), 0, MAX_SESSIONS_LIMIT),
      maxOutboundSessions: wholeNumber(flags.maxOutbound, name('maxOutbound'), 0, MAX_SESSIONS_LIMIT)
    },
    chain: { chainId: flags.chainId, genesisHash: genesisHash(flags.genesis, name('genesis')) }
  }
}

/** `--api-port`: 0 lets the OS pick */
function apiPortFlag (value: string | undefined, origin: string): number {
  return wholeNumber(value, origin, 0, 65535) ?? DEFAULT_API_PORT
}

/** The config file `--config` (or PEERGATE_CONFIG) names, parsed; none without either */
export async function loadConfigFile (path: string | undefined): Promise<ConfigFile | undefined> {
  if (path == null || path === '') {
    return undefined
  }
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err: any) {
    throw new InvalidParametersError(`cannot read config file ${path}: ${err.code === 'ENOENT' ? 'no such file' : describeError(err)}`)
  }
  return parseConfigText(text, path)
}

/** The start options from the command line's flags, the environment and the config file they name */
export async function gatherStartConfig (cliFlags: StartFlags, env: Record<string, string | undefined>): Promise<ResolvedStartConfig> {
  const file = await loadConfigFile(cliFlags.config ?? env[CONFIG_ENV])
  return resolveStartConfig({ flags: cliFlags, env, file })
}

/** The status API on 127.0.0.1:`port`, with the data dir's token (made at first start) and the node's metrics */
async function startApi (node: PeerNode, dataDir: string, port: number, metrics: NodeMetrics): Promise<ApiServer> {
  const api = createApiServer(node, { port, token: await loadOrCreateApiToken(dataDir), metrics })
  await api.start()
  return api
}

function describeStartError (err: unknown): string {
  if (err instanceof AddressInUseError) {
    return `${err.message}; choose another --listen port`
  }
  return describeError(err)
}

/**
 * Runs a standalone node until SIGINT or SIGTERM, printing its identity and
 * session events; resolves with the exit code once the node has stopped
 */
export async function runStart (cliFlags: StartFlags, io: CliIo): Promise<number> {
  let config: ResolvedStartConfig
  try {
    config = await gatherStartConfig(cliFlags, io.env)
  } catch (err) {
    io.stderr.write(`peergate: ${describeError(err)}\n`)
    return EXIT_USAGE
  }
  const { flags, origins } = config
  const name = (key: StartConfigKey): string => optionName(origins, key)
  const format = flags.json === true ? formatJson : formatText
  const print = (event: CliEvent): void => { io.stdout.write(format(event)) }

  let requestStop!: () => void
  const stopRequested = new Promise<void>(resolve => { requestStop = resolve })
  const unsubscribe = io.stopSignals(() => {
    unsubscribe()
    requestStop()
  })

  let node: PeerNode
  let statusIntervalS: number
  let apiPort: number
  try {
    statusIntervalS = wholeNumber(flags.statusInterval, name('statusInterval'), 0, MAX_STATUS_INTERVAL_S) ?? DEFAULT_STATUS_INTERVAL_S
    apiPort = apiPortFlag(flags.apiPort, name('apiPort'))
    // the API serves GET /metrics: libp2p's series and peergate's
    node = await createPeerNode({ ...startOptions(flags, origins), metrics: flags.api !== false })
  } catch (err) {
    unsubscribe()
    if (err instanceof Error && err.name === InvalidParametersError.name) {
      io.stderr.write(`peergate: ${err.message}\n`)
      return EXIT_USAGE
    }
    io.stderr.write(`peergate: could not start the node: ${describeStartError(err)}\n`)
    return EXIT_FAILURE
  }

  const onOpen = (evt: CustomEvent<Session>): void => { print(openEvent(evt.detail)) }
  const onClose = (evt: CustomEvent<SessionCloseDetail>): void => { print(closeEvent(evt.detail)) }
  const onReject = (evt: CustomEvent<SessionRejectDetail>): void => { print(rejectEvent(evt.detail)) }

  let api: ApiServer | undefined
  let metrics: NodeMetrics | undefined
  if (flags.api !== false) {
    try {
      metrics = createNodeMetrics(node)
      api = await startApi(node, flags.dataDir ?? DEFAULT_DATA_DIR, apiPort, metrics)
    } catch (err) {
      metrics?.stop()
      unsubscribe()
      io.stderr.write(`peergate: could not start the API on port ${apiPort}: ${describeError(err)} (choose another with --api-port, 0 for any, or turn it off with --no-api)\n`)
      await node.stop().catch((stopErr) => { io.stderr.write(`peergate: could not stop the node cleanly: ${describeError(stopErr)}\n`) })
      return EXIT_FAILURE
    }
  }

  print(readyEvent(node, api?.url))
  // createPeerNode left them out (and logged it); the operator hears of it here
  for (const [flag, addrs] of [[name('bootstrap'), flags.bootstrap], [name('reserved'), flags.reserved]] as const) {
    for (const addr of addrs ?? []) {
      if (addr.endsWith(`/p2p/${node.peerId.toString()}`)) {
        io.stderr.write(`peergate: warning: ${flag} ${addr} is this node's own peer id; skipped\n`)
      }
    }
  }
  // a bootstrap address that cannot be reached is said once per peer
  const warned = new Set<string>()
  const onUnreachable = (evt: CustomEvent<BootstrapUnreachableDetail>): void => {
    const { peerId, multiaddrs, error } = evt.detail
    if (warned.has(peerId.toString())) {
      return
    }
    warned.add(peerId.toString())
    io.stderr.write(`peergate: warning: bootstrap peer ${peerId.toString()} (${multiaddrs.map(ma => ma.toString()).join(', ')}) cannot be reached: ${describeError(error)}\n`)
  }
  node.libp2p.services.dial.addEventListener('bootstrap:unreachable', onUnreachable)
  node.addEventListener('session:open', onOpen)
  node.addEventListener('session:close', onClose)
  node.addEventListener('session:reject', onReject)
  // sessions that opened before the listeners were added
  for (const session of node.sessions()) {
    print(openEvent(session))
  }

  const statusTimer = statusIntervalS > 0
    ? setInterval(() => {
      print(statusEvent(node))
      if (flags.json === true) {
        print(connectionsEvent(node))
      }
    }, statusIntervalS * 1000)
    : undefined

  await stopRequested
  clearInterval(statusTimer)
  try {
    await api?.stop()
    metrics?.stop()
    await node.stop()
  } catch (err) {
    io.stderr.write(`peergate: could not stop the node cleanly: ${describeError(err)}\n`)
    return EXIT_FAILURE
  } finally {
    node.removeEventListener('session:open', onOpen)
    node.removeEventListener('session:close', onClose)
    node.removeEventListener('session:reject', onReject)
    node.libp2p.services.dial.removeEventListener('bootstrap:unreachable', onUnreachable)
  }
  print({ event: 'stopped' })
  return EXIT_OK
}
