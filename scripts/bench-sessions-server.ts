/**
 * The node under test of `npm run bench:sessions`, in its own process as a
 * real node is: `node --expose-gc bench-sessions-server.js <kind> <target> <statusMs>`
 *
 * - `peergate`: createPeerNode on a LevelDB data dir, limits raised to hold
 *   `target` inbound sessions (no outbound ones), status rounds every
 *   `statusMs`; its per-host limits (libp2p's `inboundConnectionThreshold`,
 *   the handshake's per-IP limit) at their defaults. Its event: `session:open`.
 * - `bare`: libp2p with TCP, Noise, Yamux and identify and nothing else, on a
 *   LevelDB datastore as well (so that neither keeps its peer store in the
 *   heap and the other not), the same connection limits. Its event:
 *   `peer:identify` of an inbound connection (the connection open and
 *   identified, as the server sees it).
 * - `floor`: the bare node on peergate's stack (its DHT, coalesced writes,
 *   its peer store cached and written behind, no connection monitor) with a
 *   stand-in for the handshake (bench-sessions-floor.ts). Its event: the
 *   stand-in's third message read, where peergate's responder announces
 *   its session.
 *
 * All listen on 127.0.0.1. Prints `{"event":"ready","multiaddr":…}`, then
 * answers each line of its stdin:
 *
 * - `sample`: `{"event":"sample","heap":…,"rss":…,"held":…,"connections":…,"streams":{…},"ends":{…},"waitedMs":…}`
 *   (bytes, after two GCs), `held` being the sessions or identified inbound
 *   connections open now, `streams` the streams open on its connections by
 *   direction and protocol, `ends` peergate's closed sessions and rejected
 *   handshakes since the last sample, counted by reason. Taken between two
 *   of the connection monitor's rounds (waiting up to QUIET_WAIT_MS for at
 *   most QUIET_STREAMS_SHARE of `held` streams to be open, `waitedMs`): the
 *   monitor pings every connection at once every 10 s, and a sample in the
 *   middle of that burst counted a thousand pings in flight (924 outbound
 *   ping streams open at 1,000 sessions) as what each session holds
 * - `opens`: `{"event":"opens","firstConnection":…,"at":[…]}`, the time of
 *   the first inbound `connection:open` and of every event since the last
 *   `opens` (epoch ms, µs precision), then forgets them, and `cpuMs`, the CPU time this process has used since it
 *   started (`sample` gives it too)
 * - `idle <ms>`: `{"event":"idle","cpuMs":…,"wallMs":…}`, the CPU time this
 *   process used in the next `ms` milliseconds
 * - `snapshot <file>`: after two GCs, writes a V8 heap snapshot to `file`
 *   (`{"event":"snapshot","file":…}`), to see what a session holds
 * - `profile-start` / `profile-stop <file>`: samples this process's CPU
 *   (every 1 ms) between the two, and writes the profile to `file`
 *   (`{"event":"profile","file":…}`), to see where an accept's CPU goes
 *
 * and stops on the end of its stdin.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { writeHeapSnapshot } from 'node:v8'
import { createInterface } from 'node:readline'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { defaultLogger } from '@libp2p/logger'
import { tcp } from '@libp2p/tcp'
import { LevelDatastore } from 'datastore-level'
import type { Connection } from '@libp2p/interface'
import { createLibp2p } from 'libp2p'
import { MAX_INBOUND_HANDSHAKES } from '../src/handshake/index.js'
import { createPeerNode, ReasonCode } from '../src/index.js'
import { cachePeerStore } from '../src/storage/index.js'
import { exchange, floorOptions, FLOOR_HANDSHAKE, HANDSHAKE_FRAMES } from './bench-sessions-floor.js'
import { BENCH_CHAIN_ID, connectionLimits, PROFILE_INTERVAL_US, type BenchKind } from './bench-sessions-setup.js'
import { startProfiler, type Profile } from './cpu-profile.js'

const kind = process.argv[2] as BenchKind
const target = Number(process.argv[3])
const statusInterval = Number(process.argv[4])
if ((kind !== 'peergate' && kind !== 'bare' && kind !== 'floor') || !(target > 0) || !(statusInterval > 0)) {
  throw new Error('usage: bench-sessions-server.js peergate|bare|floor <target> <statusMs>')
}

const now = (): number => performance.timeOrigin + performance.now()
const write = (msg: Record<string, unknown>): void => { process.stdout.write(`${JSON.stringify(msg)}\n`) }
const dataDir = await mkdtemp(join(tmpdir(), `peergate-bench-sessions-${kind}-`))

let firstConnection: number | undefined
let opens: number[] = []
/** sessions closed and handshakes rejected, by reason, since the last `sample` */
let ends: Record<string, number> = {}
const tally = (counts: Record<string, number>, key: string): void => { counts[key] = (counts[key] ?? 0) + 1 }
const opened = (): void => {
  opens.push(now())
}

let stop: () => Promise<void>
let held: () => number
let connections: () => Connection[]
let multiaddr: string
if (kind === 'peergate') {
  const node = await createPeerNode({
    dataDir,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    chain: { chainId: BENCH_CHAIN_ID },
    // the bench's configuration: room for `target` inbound sessions
    limits: { maxInboundSessions: target, maxOutboundSessions: 0 },
    handshake: { statusInterval },
    connectionManager: connectionLimits(target)
  })
  node.libp2p.addEventListener('connection:open', (evt) => {
    if (evt.detail.direction === 'inbound') {
      firstConnection ??= now()
    }
  })
  node.addEventListener('session:open', opened)
  node.addEventListener('session:close', (evt) => { tally(ends, `close ${ReasonCode[evt.detail.reason] ?? evt.detail.reason} (${evt.detail.side})`) })
  node.addEventListener('session:reject', (evt) => { tally(ends, `reject ${ReasonCode[evt.detail.reason] ?? evt.detail.reason} (${evt.detail.side}): ${evt.detail.message}`) })
  stop = async () => { await node.stop() }
  held = () => node.sessions().length
  connections = () => node.libp2p.getConnections()
  multiaddr = node.getMultiaddrs()[0].toString()
} else {
  const datastore = new LevelDatastore(join(dataDir, 'datastore'))
  await datastore.open()
  // the floor's peer store as peergate's: cached and written behind
  const cache = kind === 'floor' ? cachePeerStore(datastore, { logger: defaultLogger() }) : undefined
  const options = {
    datastore: cache ?? datastore,
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() },
    // as many connections upgrading at once as peergate lets handshake (its default)
    connectionManager: { maxIncomingPendingConnections: MAX_INBOUND_HANDSHAKES, ...connectionLimits(target) }
  }
  const node = kind === 'floor' ? await createLibp2p(floorOptions('server', options)) : await createLibp2p(options)
  /** inbound connections identified (bare) or past the handshake stand-in (floor) */
  const identified = new Set<string>()
  const arrived = (connection: Connection): void => {
    if (connection.direction === 'inbound' && !identified.has(connection.id)) {
      identified.add(connection.id)
      opened()
    }
  }
  node.addEventListener('connection:open', (evt) => {
    if (evt.detail.direction === 'inbound') {
      firstConnection ??= now()
    }
  })
  if (kind === 'floor') {
    const failed = (err: any): void => { tally(ends, `floor stream: ${err?.message ?? err}`) }
    await node.handle(FLOOR_HANDSHAKE, async (stream, connection) => {
      await exchange(stream, HANDSHAKE_FRAMES, 'listener', () => { arrived(connection) }).catch(failed)
    })
  } else {
    node.addEventListener('peer:identify', (evt) => { arrived(evt.detail.connection) })
  }
  node.addEventListener('connection:close', (evt) => { identified.delete(evt.detail.id) })
  stop = async () => {
    await node.stop()
    await cache?.close()
    await datastore.close()
  }
  held = () => identified.size
  connections = () => node.getConnections()
  multiaddr = node.getMultiaddrs()[0].toString()
}

/** the streams open on the server's connections, by direction and protocol */
function streams (): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const connection of connections()) {
    for (const stream of connection.streams) {
      tally(counts, `${stream.direction} ${stream.protocol === '' ? '(negotiating)' : stream.protocol}`)
    }
  }
  return counts
}

/** CPU ms this process has used since it started */
function cpuMs (): number {
  const used = process.cpuUsage()
  return (used.user + used.system) / 1000
}

/** what a memory sample waits for: at most this share of the held connections with a stream open… */
const QUIET_STREAMS_SHARE = 0.02
/** …for at most this long */
const QUIET_WAIT_MS = 15_000

async function quietSample (): Promise<Record<string, unknown>> {
  const start = now()
  const open = (): number => Object.values(streams()).reduce((sum, n) => sum + n, 0)
  while (open() > Math.max(5, held() * QUIET_STREAMS_SHARE) && now() - start < QUIET_WAIT_MS) {
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  return { ...sample(), waitedMs: Math.round(now() - start) }
}

function sample (): Record<string, unknown> {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc == null) {
    throw new Error('run with --expose-gc: heap figures are taken after a GC')
  }
  gc()
  gc()
  const memory = process.memoryUsage()
  const ended = ends
  ends = {}
  return { event: 'sample', heap: memory.heapUsed, rss: memory.rss, held: held(), connections: connections().length, streams: streams(), ends: ended, cpuMs: cpuMs() }
}

async function idle (ms: number): Promise<Record<string, unknown>> {
  const start = now()
  const cpu = process.cpuUsage()
  await new Promise(resolve => setTimeout(resolve, ms))
  const used = process.cpuUsage(cpu)
  return { event: 'idle', cpuMs: (used.user + used.system) / 1000, wallMs: now() - start }
}

let stopProfiler: (() => Promise<Profile>) | undefined

write({ event: 'ready', multiaddr })
const lines = createInterface({ input: process.stdin })
lines.on('line', (line) => {
  const [command, arg] = line.split(' ')
  if (command === 'sample') {
    void quietSample().then(write)
  } else if (command === 'opens') {
    write({ event: 'opens', firstConnection, at: opens, cpuMs: cpuMs() })
    opens = []
    firstConnection = undefined
  } else if (command === 'snapshot') {
    sample()
    write({ event: 'snapshot', file: writeHeapSnapshot(arg) })
  } else if (command === 'profile-start') {
    void startProfiler(PROFILE_INTERVAL_US).then(stop => { stopProfiler = stop })
  } else if (command === 'profile-stop') {
    const stopping = stopProfiler
    stopProfiler = undefined
    void stopping?.().then(async (profile: Profile) => {
      await writeFile(arg, JSON.stringify(profile))
      write({ event: 'profile', file: arg })
    })
  } else if (command === 'idle') {
    void idle(Number(arg)).then(write)
  }
})
lines.on('close', () => {
  void (async () => {
    await stop()
    await rm(dataDir, { recursive: true, force: true })
    process.exit(0)
  })()
})
