import { InvalidParametersError } from '@libp2p/interface'
import { createApiServer, createPeerNode, loadOrCreateApiToken } from '../index.js'
import { DEFAULT_DATA_DIR } from '../node/index.js'
import { DEFAULT_API_PORT } from '../api/index.js'
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, describeError } from './io.js'
import { closeEvent, formatJson, formatText, openEvent, readyEvent, rejectEvent, statusEvent } from './output.js'
import type { CliIo } from './io.js'
import type { CliEvent } from './output.js'
import type { ApiServer, PeerNode, PeerNodeOptions, Session, SessionCloseDetail, SessionRejectDetail } from '../index.js'

/** The flags of `peergate start`, as commander parses them */
export interface StartFlags {
  dataDir?: string
  listen?: string[]
  bootstrap?: string[]
  chainId?: string
  genesis?: string
  reserved?: string[]
  maxPeers?: string
  statusInterval?: string
  json?: boolean
  /** `--api-port <n>` */
  apiPort?: string
  /** false with `--no-api` */
  api?: boolean
}

function wholeNumber (value: string | undefined, flag: string): number | undefined {
  if (value == null) {
    return undefined
  }
  if (!/^\d{1,9}$/.test(value)) {
    throw new InvalidParametersError(`${flag} must be a whole number, got ${JSON.stringify(value)}`)
  }
  return Number(value)
}

export function startOptions (flags: StartFlags): PeerNodeOptions {
  return {
    dataDir: flags.dataDir,
    listen: flags.listen,
    bootstrap: flags.bootstrap,
    reserved: flags.reserved,
    limits: { maxPeers: wholeNumber(flags.maxPeers, '--max-peers') },
    chain: { chainId: flags.chainId, genesisHash: flags.genesis }
  }
}

function apiPortFlag (value: string | undefined): number {
  const port = wholeNumber(value, '--api-port') ?? DEFAULT_API_PORT
  if (port > 65535) {
    throw new InvalidParametersError(`--api-port must be at most 65535, got ${port}`)
  }
  return port
}

/** The status API on 127.0.0.1:`port`, with the data dir's token (made at first start) */
async function startApi (node: PeerNode, dataDir: string, port: number): Promise<ApiServer> {
  const api = createApiServer(node, { port, token: await loadOrCreateApiToken(dataDir) })
  await api.start()
  return api
}

function describeStartError (err: unknown, flags: StartFlags): string {
  if (err instanceof Error && err.name === 'OpenFailedError') {
    const dataDir = flags.dataDir ?? DEFAULT_DATA_DIR
    return `cannot open the datastore in ${dataDir} (is another peergate using it?): ${describeError(err)}`
  }
  return describeError(err)
}

/**
 * Runs a standalone node until SIGINT or SIGTERM, printing its identity and
 * session events; resolves with the exit code once the node has stopped
 */
export async function runStart (flags: StartFlags, io: CliIo): Promise<number> {
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
    statusIntervalS = wholeNumber(flags.statusInterval, '--status-interval') ?? 0
    apiPort = apiPortFlag(flags.apiPort)
    node = await createPeerNode(startOptions(flags))
  } catch (err) {
    unsubscribe()
    if (err instanceof Error && err.name === InvalidParametersError.name) {
      io.stderr.write(`peergate: ${err.message}\n`)
      return EXIT_USAGE
    }
    io.stderr.write(`peergate: could not start the node: ${describeStartError(err, flags)}\n`)
    return EXIT_FAILURE
  }

  const onOpen = (evt: CustomEvent<Session>): void => { print(openEvent(evt.detail)) }
  const onClose = (evt: CustomEvent<SessionCloseDetail>): void => { print(closeEvent(evt.detail)) }
  const onReject = (evt: CustomEvent<SessionRejectDetail>): void => { print(rejectEvent(evt.detail)) }

  let api: ApiServer | undefined
  if (flags.api !== false) {
    try {
      api = await startApi(node, flags.dataDir ?? DEFAULT_DATA_DIR, apiPort)
    } catch (err) {
      unsubscribe()
      io.stderr.write(`peergate: could not start the API on port ${apiPort}: ${describeError(err)} (choose another with --api-port, 0 for any, or turn it off with --no-api)\n`)
      await node.stop().catch(() => {})
      return EXIT_FAILURE
    }
  }

  print(readyEvent(node, api?.url))
  node.addEventListener('session:open', onOpen)
  node.addEventListener('session:close', onClose)
  node.addEventListener('session:reject', onReject)
  // sessions that opened before the listeners were added
  for (const session of node.sessions()) {
    print(openEvent(session))
  }

  const statusTimer = statusIntervalS > 0
    ? setInterval(() => { print(statusEvent(node)) }, statusIntervalS * 1000)
    : undefined

  await stopRequested
  clearInterval(statusTimer)
  try {
    await api?.stop()
    await node.stop()
  } catch (err) {
    io.stderr.write(`peergate: could not stop the node cleanly: ${describeError(err)}\n`)
    return EXIT_FAILURE
  } finally {
    node.removeEventListener('session:open', onOpen)
    node.removeEventListener('session:close', onClose)
    node.removeEventListener('session:reject', onReject)
  }
  print({ event: 'stopped' })
  return EXIT_OK
}
