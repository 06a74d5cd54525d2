import { readFile, stat } from 'node:fs/promises'
import { isIP } from 'node:net'
import { dirname, isAbsolute, join } from 'node:path'
import { InvalidParametersError } from '@libp2p/interface'
// what the flags' checks need, module by module, without libp2p: the node
// itself (../index.js) loads once they pass, so that a usage error is quick
import { AddressInUseError, DamagedDataDirError } from '../node/errors.js'
import { DATASTORE_DIR, DEFAULT_DATA_DIR, MAX_SESSIONS_LIMIT } from '../node/constants.js'
import { parseHex } from '../node/chain.js'
import { isSelfAddress } from '../node/peers.js'
import { IpRanges } from '../session/ip-limit.js'
import { API_URL_FILE, DEFAULT_API_HOST, DEFAULT_API_PORT, DEFAULT_METRICS_HOST } from '../api/constants.js'
import { isLoopbackHost } from '../api/listen.js'
import { CONFIG_DATA_DIR, CONFIG_ENV, fileOrigin, optionName, parseConfigText, resolveStartConfig } from './config.js'
import { DEFAULT_STATUS_INTERVAL_S } from './constants.js'
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, describeError } from './io.js'
import { closeEvent, connectionsEvent, formatJson, formatText, openEvent, readyEvent, rejectEvent, statusEvent, storageFailingEvent, storageOkEvent } from './output.js'
import type { ConfigFile, ResolvedStartConfig, StartConfigKey } from './config.js'
import type { CliIo } from './io.js'
import type { CliEvent } from './output.js'
import type { ApiServer, BootstrapUnreachableDetail, MetricsServer, NodeMetrics, NodeView, PeerNode, PeerNodeOptions, Session, SessionCloseDetail, SessionRejectDetail, StorageFailing, StorageRecoveredDetail } from '../index.js'

/** a day: setInterval's limit is about 24.8 days, and a status line a day is already rare */
const MAX_STATUS_INTERVAL_S = 86_400

/** what `--genesis` takes: a 32-byte hash (SHA-256, Keccak-256, as the default derivation) */
const GENESIS_HASH = { bytes: 32, what: 'a 32-byte hash' }

/** the highest TCP port */
const MAX_PORT = 65535


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
  /** `--max-sessions-per-ip <n>`: inbound sessions from one source IP */
  maxSessionsPerIp?: string
  /** `--ip-limit-exempt <range>`: source ranges outside that limit */
  ipLimitExempt?: string[]
  statusInterval?: string
  json?: boolean
  /** `--api-port <n>` */
  apiPort?: string
  /** `--api-host <host>`: the status API's, loopback unless given */
  apiHost?: string
  /** `--metrics-port <n>`: turns on the metrics listener */
  metricsPort?: string
  /** `--metrics-host <host>`: the metrics listener's, loopback unless given */
  metricsHost?: string
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

/** `--genesis`: the hash of the genesis block, in hex */
function genesisHash (value: string | undefined, origin: string): Uint8Array | undefined {
  return value == null ? undefined : parseHex(value, origin, GENESIS_HASH)
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
      maxOutboundSessions: wholeNumber(flags.maxOutbound, name('maxOutbound'), 0, MAX_SESSIONS_LIMIT),
      maxInboundSessionsPerIp: wholeNumber(flags.maxSessionsPerIp, name('maxSessionsPerIp'), 1, MAX_SESSIONS_LIMIT),
      ipLimitExempt: flags.ipLimitExempt == null ? undefined : [...new IpRanges(flags.ipLimitExempt, name('ipLimitExempt')).list]
    },
    chain: { chainId: flags.chainId, genesisHash: genesisHash(flags.genesis, name('genesis')) }
  }
}

/** Where a listener of `start` listens */
export interface ListenAddress {
  host: string
  /** 0: one the OS picks */
  port: number
}

/** Where the status API and the metrics listener listen; undefined: not at all */
export interface StartListeners {
  api?: ListenAddress
  metrics?: ListenAddress
}

/** A host to listen on: an IP address or `localhost` */
function listenHost (value: string | undefined, origin: string, fallback: string): string {
  if (value == null) {
    return fallback
  }
  if (value !== 'localhost' && isIP(value) === 0) {
    throw new InvalidParametersError(`${origin} must be an IP address (127.0.0.1, ::1, 0.0.0.0, ::, or one of this machine's) or localhost, got ${JSON.stringify(value)}`)
  }
  return value
}

/**
 * The status API's address (none with `--no-api`) and the metrics
 * listener's (none without `--metrics-port`), from the start options;
 * `origins` names where each came from in error messages
 */
export function startListeners (flags: StartFlags, origins: ResolvedStartConfig['origins'] = {}): StartListeners {
  const name = (key: StartConfigKey): string => optionName(origins, key)
  const api = flags.api === false
    ? undefined
    : { host: listenHost(flags.apiHost, name('apiHost'), DEFAULT_API_HOST), port: wholeNumber(flags.apiPort, name('apiPort'), 0, MAX_PORT) ?? DEFAULT_API_PORT }
  const metricsPort = wholeNumber(flags.metricsPort, name('metricsPort'), 0, MAX_PORT)
  if (metricsPort == null && flags.metricsHost != null) {
    throw new InvalidParametersError(`${name('metricsHost')} needs ${name('metricsPort')}: the metrics listener is off without a port`)
  }
  const metrics = metricsPort == null ? undefined : { host: listenHost(flags.metricsHost, name('metricsHost'), DEFAULT_METRICS_HOST), port: metricsPort }
  return { api, metrics }
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
  const config = resolveStartConfig({ flags: cliFlags, env, file })
  if (file != null && config.origins.dataDir === fileOrigin('dataDir', file.path)) {
    await checkDataDirFromFile(file, config.flags.dataDir ?? '')
  }
  return config
}

/**
 * A config file that sits in a data dir but whose relative `dataDir` (now
 * relative to the file) names a directory that does not exist was written by
 * an older `peergate init`, when the path was relative to the working
 * directory: refused, as starting would make a fresh identity next to the
 * node's own
 */
async function checkDataDirFromFile (file: ConfigFile, dataDir: string): Promise<void> {
  const written = (file.value as Record<string, unknown>).dataDir
  if (typeof written !== 'string' || isAbsolute(written) || await exists(dataDir)) {
    return
  }
  const home = dirname(file.path)
  if (await exists(join(home, DATASTORE_DIR))) {
    throw new InvalidParametersError(`dataDir ${JSON.stringify(written)} in ${file.path} is relative to that file: it names ${dataDir}, which does not exist, ` +
      `while the file is inside the data dir ${home}. A relative dataDir in a config file used to be relative to the working directory; ` +
      `write "dataDir": "${CONFIG_DATA_DIR}" (or an absolute path) to keep using ${home}`)
  }
}

async function exists (path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch (err: any) {
    if (err.code === 'ENOENT') {
      return false
    }
    throw err
  }
}

/** peergate's public API, loaded by `runStart` once the flags passed their checks */
type Peergate = typeof import('../index.js')

/**
 * The status API on `host`:`port`, with the data dir's token (made at
 * first start) and the node's metrics; its URL goes into the data dir, where
 * the subcommands find it
 */
async function startApi ({ createApiServer, loadOrCreateApiToken, writeApiUrl }: Peergate, node: NodeView, dataDir: string, { host, port }: ListenAddress, metrics: NodeMetrics): Promise<ApiServer> {
  const api = createApiServer(node, { host, port, token: await loadOrCreateApiToken(dataDir), metrics })
  await api.start()
  try {
    await writeApiUrl(dataDir, api.url)
  } catch (err) {
    await api.stop()
    throw err
  }
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
  let listeners: StartListeners
  let peergate: Peergate
  try {
    statusIntervalS = wholeNumber(flags.statusInterval, name('statusInterval'), 0, MAX_STATUS_INTERVAL_S) ?? DEFAULT_STATUS_INTERVAL_S
    listeners = startListeners(flags, origins)
    const options = startOptions(flags, origins)
    peergate = await import('../index.js')
    // the API and the metrics listener serve GET /metrics: libp2p's series and peergate's
    node = await peergate.createPeerNode({ ...options, metrics: listeners.api != null || listeners.metrics != null })
  } catch (err) {
    unsubscribe()
    if (err instanceof Error && (err.name === InvalidParametersError.name || err.name === DamagedDataDirError.name)) {
      io.stderr.write(`peergate: ${err.message}\n`)
      return EXIT_USAGE
    }
    io.stderr.write(`peergate: could not start the node: ${describeStartError(err)}\n`)
    return EXIT_FAILURE
  }

  const onOpen = (evt: CustomEvent<Session>): void => { print(openEvent(evt.detail)) }
  const onClose = (evt: CustomEvent<SessionCloseDetail>): void => { print(closeEvent(evt.detail)) }
  const onReject = (evt: CustomEvent<SessionRejectDetail>): void => { print(rejectEvent(evt.detail)) }
  // once per spell of refused writes, and once they work again
  const onStorageFailing = (evt: CustomEvent<StorageFailing>): void => { print(storageFailingEvent(evt.detail)) }
  const onStorageOk = (evt: CustomEvent<StorageRecoveredDetail>): void => { print(storageOkEvent(evt.detail)) }

  const dataDir = flags.dataDir ?? DEFAULT_DATA_DIR
  let api: ApiServer | undefined
  let metricsServer: MetricsServer | undefined
  const { createMetricsServer, createNodeMetrics, removeApiUrl } = peergate
  const metrics = listeners.api != null || listeners.metrics != null ? createNodeMetrics(node) : undefined
  /** a listener could not start: undo the rest, say why */
  const failStart = async (message: string): Promise<number> => {
    unsubscribe()
    io.stderr.write(`peergate: ${message}\n`)
    if (api != null) {
      await removeApiUrl(dataDir).catch((err) => { io.stderr.write(`peergate: warning: could not remove ${API_URL_FILE}: ${describeError(err)}\n`) })
      await api.stop()
    }
    metrics?.stop()
    await node.stop().catch((stopErr) => { io.stderr.write(`peergate: could not stop the node cleanly: ${describeError(stopErr)}\n`) })
    return EXIT_FAILURE
  }
  if (listeners.api != null && metrics != null) {
    const { host, port } = listeners.api
    try {
      api = await startApi(peergate, node, dataDir, listeners.api, metrics)
    } catch (err) {
      return failStart(`could not start the API on ${host} port ${port}: ${describeError(err)} (choose another with --api-port, 0 for any, or turn it off with --no-api)`)
    }
    if (!isLoopbackHost(host)) {
      io.stderr.write(`peergate: warning: the status API listens on ${host} (${name('apiHost')}), beyond this machine: its read endpoints need no token, its commands only the data dir's token\n`)
    }
  } else {
    // an earlier run's, left by a node that was killed: no client should take it for this one's
    await removeApiUrl(dataDir).catch((err) => { io.stderr.write(`peergate: warning: could not remove an earlier run's API URL file: ${describeError(err)}\n`) })
  }
  if (listeners.metrics != null && metrics != null) {
    const { host, port } = listeners.metrics
    try {
      metricsServer = createMetricsServer({ host, port, metrics })
      await metricsServer.start()
    } catch (err) {
      return failStart(`could not start the metrics listener on ${host} port ${port}: ${describeError(err)} (choose another with ${name('metricsPort')}, 0 for any)`)
    }
  }

  print(readyEvent(node, api?.url, metricsServer?.url))
  // createPeerNode left them out (and logged it); the operator hears of it here
  for (const [flag, addrs] of [[name('bootstrap'), flags.bootstrap], [name('reserved'), flags.reserved]] as const) {
    for (const addr of addrs ?? []) {
      if (isSelfAddress(addr, node.peerId)) {
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
  node.addEventListener('bootstrap:unreachable', onUnreachable)
  // the first attempt comes during the node's start, before this listener
  for (const detail of node.unreachableBootstrapPeers()) {
    onUnreachable(new CustomEvent('bootstrap:unreachable', { detail }))
  }
  node.addEventListener('session:open', onOpen)
  node.addEventListener('session:close', onClose)
  node.addEventListener('session:reject', onReject)
  node.addEventListener('storage:failing', onStorageFailing)
  node.addEventListener('storage:ok', onStorageOk)
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
    if (api != null) {
      await removeApiUrl(dataDir)
    }
    // the API stays up while the node stops, so that GET /health answers 503 meanwhile
    await node.stop()
    await api?.stop()
    await metricsServer?.stop()
    metrics?.stop()
  } catch (err) {
    io.stderr.write(`peergate: could not stop the node cleanly: ${describeError(err)}\n`)
    return EXIT_FAILURE
  } finally {
    node.removeEventListener('session:open', onOpen)
    node.removeEventListener('session:close', onClose)
    node.removeEventListener('session:reject', onReject)
    node.removeEventListener('bootstrap:unreachable', onUnreachable)
    node.removeEventListener('storage:failing', onStorageFailing)
    node.removeEventListener('storage:ok', onStorageOk)
  }
  print({ event: 'stopped' })
  return EXIT_OK
}
