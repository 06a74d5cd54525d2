/**
 * npm run lab -- [--nodes 100] [--procs 10] [--sim [--dilation K]] [--relay gossip,flood]
 *                [--blocks 50] [--interval-ms 200] [--timeout-s 120]
 *                [--settle-s 5] [--pubsub on|off] [--max-pending N] [--out FILE]
 *
 * The scale lab (docs/SCALE.md). N peergate nodes with default limits, each
 * its own libp2p node, from one bootstrap address:
 *
 * - real: `--procs` child processes (lab-worker.ts), N/procs nodes each, over
 *   TCP on loopback, each node with its own data dir and its own 127.x address
 *   to listen on and dial from (one host per node, so libp2p's per-host
 *   inbound connection threshold sees what it would see on a network);
 * - `--sim`: the same node code in this process over `@libp2p/memory`, on
 *   a simulated clock (time-dilation.ts): while the event loop works it runs
 *   `--dilation K` times slower than the wall clock (default K = N: each node
 *   has at least a core of its own, however many are busy at once), and
 *   while the loop only waits for a timer it jumps to that timer. Every time
 *   the lab reports is then simulated time; the JSON gives the CPU each node
 *   used per simulated second and the loop's delay in simulated ms, to show
 *   the nodes were not starved. `--dilation 1` is the wall clock.
 *
 * `--pubsub off` runs the nodes without gossip (the flood relay only), to
 * tell gossip's cost in convergence from the dial loop's. `--max-pending N`
 * raises libp2p's `maxIncomingPendingConnections` (default 10) on every node,
 * to show what the bootstrap node's limit costs when all start at once.
 *
 * It measures the time until every node holds its outbound target, sessions,
 * dials and address-book sizes per node; then, for each relay in turn on the
 * same network, a producer sends `--blocks` 1 KiB blocks `--interval-ms`
 * apart, and it measures propagation to every node, duplicates received per
 * node per block and bytes sent per node per block (net of each node's idle
 * traffic, measured just before). Writes every figure to a JSON file
 * (default docs/lab/<real|sim>-<N>.json) after the convergence and after each
 * relay (`"partial": true` until the end, so that a run stopped midway keeps
 * what it measured), and prints a summary.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import { cpus, loadavg, totalmem, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { bytesPerBlock, convergenceFigures, duplicatesPerBlock, propagationFigures, spread, type Spread } from './lab-figures.js'
import { LabGroup, now, type LabGroupInit, type LabNodeReport, type LabRelay } from './lab-nodes.js'
import { dilateTime, skippedMs } from './time-dilation.js'

const { values: args } = parseArgs({
  options: {
    nodes: { type: 'string', default: '100' },
    procs: { type: 'string' },
    sim: { type: 'boolean', default: false },
    dilation: { type: 'string' },
    relay: { type: 'string', default: 'gossip,flood' },
    blocks: { type: 'string', default: '50' },
    'interval-ms': { type: 'string', default: '200' },
    'timeout-s': { type: 'string', default: '120' },
    'settle-s': { type: 'string', default: '5' },
    pubsub: { type: 'string', default: 'on' },
    'max-pending': { type: 'string' },
    out: { type: 'string' }
  }
})
const N = Number(args.nodes)
const SIM = args.sim === true
const DILATION = Number(args.dilation ?? (SIM ? N : 1))
if (DILATION !== 1 && !SIM) {
  console.error('--dilation is for the simulation (--sim): real processes keep the wall clock')
  process.exit(2)
}
if (DILATION !== 1) {
  dilateTime(DILATION)
}
const PROCS = Number(args.procs ?? (SIM ? 1 : Math.max(1, Math.ceil(N / 10))))
const PUBSUB = args.pubsub !== 'off'
const MAX_PENDING = args['max-pending'] == null ? undefined : Number(args['max-pending'])
const RELAYS = (String(args.relay).split(',') as LabRelay[]).filter(relay => PUBSUB || relay !== 'gossip')
const BLOCKS = Number(args.blocks)
const INTERVAL_MS = Number(args['interval-ms'])
const TIMEOUT_MS = Number(args['timeout-s']) * 1000
const SETTLE_MS = Number(args['settle-s']) * 1000
/** after the last block, how long the lab waits for every node to have every block */
const DRAIN_MS = 10_000
/** how often the lab says how many nodes are at their target while it waits */
const PROGRESS_MS = 5_000
const OUT = args.out ?? join('docs', 'lab', `${SIM ? 'sim' : 'real'}-${N}.json`)
const here = dirname(fileURLToPath(import.meta.url))

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }
const log = (line: string): void => { console.info(`[lab ${((now() - t0) / 1000).toFixed(1)} s] ${line}`) }

/** a group of nodes, in a child process (real) or here (sim) */
interface Group {
  call<T>(method: 'start' | 'publish' | 'report' | 'sessions' | 'stop', ...args: unknown[]): Promise<T>
}

function childGroup (): Group & { child: ChildProcess } {
  const child = fork(join(here, 'lab-worker.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, UV_THREADPOOL_SIZE: '16' } })
  let next = 0
  const pending = new Map<number, { resolve(v: any): void, reject(e: Error): void }>()
  child.on('message', (reply: { id: number, result?: unknown, error?: string }) => {
    const waiting = pending.get(reply.id)
    pending.delete(reply.id)
    if (reply.error != null) {
      waiting?.reject(new Error(reply.error))
    } else {
      waiting?.resolve(reply.result)
    }
  })
  child.on('exit', (code) => {
    for (const waiting of pending.values()) {
      waiting.reject(new Error(`lab worker exited with ${code}`))
    }
    pending.clear()
  })
  return {
    child,
    call: async (method, ...callArgs) => new Promise((resolve, reject) => {
      const id = next++
      pending.set(id, { resolve, reject })
      child.send({ id, method, args: callArgs })
    })
  }
}

function localGroup (): Group {
  const group = new LabGroup()
  return {
    call: async (method, ...callArgs) => await (group as any)[method](...callArgs)
  }
}

async function reports (groups: Group[]): Promise<LabNodeReport[]> {
  return (await Promise.all(groups.map(async g => g.call<LabNodeReport[]>('report')))).flat().sort((a, b) => a.index - b.index)
}

const round = (value: number, digits = 1): number => Number.isFinite(value) ? Number(value.toFixed(digits)) : value
function roundSpread (s: Spread, digits = 1): Spread {
  return { n: s.n, min: round(s.min, digits), p50: round(s.p50, digits), p99: round(s.p99, digits), max: round(s.max, digits), mean: round(s.mean, digits) }
}
const fmt = (s: Spread, unit = ''): string => `min ${round(s.min)}${unit}, p50 ${round(s.p50)}${unit}, p99 ${round(s.p99)}${unit}, max ${round(s.max)}${unit}`

const root = await mkdtemp(join(tmpdir(), 'peergate-lab-'))
const load: { start: number[], end?: number[] } = { start: loadavg().map(l => round(l, 2)) }
const date = new Date().toISOString()
let t0 = now()
const groups: Group[] = []
const result: Record<string, unknown> = {
  command: `npm run lab -- ${process.argv.slice(2).join(' ')}`.trim(),
  date,
  machine: { cores: cpus().length, cpu: cpus()[0]?.model, memoryGiB: round(totalmem() / 2 ** 30), node: process.version, platform: process.platform },
  mode: SIM ? `sim (@libp2p/memory, one process${DILATION === 1 ? '' : `, time dilated ${DILATION}×`})` : `real (TCP on loopback, ${PROCS} processes)`,
  dilation: DILATION,
  nodes: N,
  processes: SIM ? 1 : PROCS,
  limits: 'default (maxPeers 50: 16 outbound, 34 inbound)',
  pubsub: PUBSUB,
  maxIncomingPendingConnections: MAX_PENDING ?? 'default (10)'
}
try {
  const indexes = Array.from({ length: N }, (_, i) => i)
  const perGroup = Math.ceil(N / PROCS)
  const slices = Array.from({ length: PROCS }, (_, g) => indexes.slice(g * perGroup, (g + 1) * perGroup)).filter(s => s.length > 0)
  for (let g = 0; g < slices.length; g++) {
    groups.push(SIM ? localGroup() : childGroup())
  }
  // the workers load their modules first: the clock starts at the bootstrap node's start
  await Promise.all(groups.map(async g => g.call('report')))
  t0 = now()
  const wallT0 = wallMs()
  const cpuAtStart = { cpu: process.cpuUsage(), wall: wallMs(), skipped: skippedMs() }
  const loopDelay = monitorEventLoopDelay({ resolution: 10 })
  loopDelay.enable()
  const base: Omit<LabGroupInit, 'indexes'> = { dataRoot: root, transport: SIM ? 'memory' : 'tcp', chainId: 'lab-chain', pubsub: PUBSUB, maxIncomingPendingConnections: MAX_PENDING }
  const bootstrap = await groups[0].call<string>('start', { ...base, indexes: slices[0] })
  await Promise.all(groups.slice(1).map(async (g, i) => g.call('start', { ...base, indexes: slices[i + 1], bootstrap })))
  const startedS = (now() - t0) / 1000
  log(`${N} nodes started in ${slices.length} ${SIM ? 'groups (one process)' : 'processes'} after ${startedS.toFixed(1)} s; bootstrap ${bootstrap}`)

  // convergence
  let nodes = await reports(groups)
  let progressAt = now()
  while (nodes.some(n => n.reachedAt == null) && now() - t0 < TIMEOUT_MS) {
    await sleep(500)
    nodes = await reports(groups)
    if (now() - progressAt >= PROGRESS_MS) {
      progressAt = now()
      log(`${nodes.filter(n => n.reachedAt != null).length}/${N} nodes at their outbound target${SIM ? ` (wall clock ${((wallMs() - wallT0) / 1000).toFixed(0)} s)` : ''}`)
    }
  }
  const convergence = convergenceFigures(t0, nodes.map(n => n.reachedAt))
  log(`converged: ${convergence.reached}/${N} nodes at their outbound target${convergence.all ? ` after ${convergence.seconds.toFixed(1)} s` : ` within ${TIMEOUT_MS / 1000} s`}`)
  const sessions = nodes.map(n => n.inbound + n.outbound)
  result.convergence = {
    startedSeconds: round(startedS),
    all: convergence.all,
    reached: convergence.reached,
    seconds: round(convergence.seconds),
    perNodeSeconds: roundSpread(convergence.perNode),
    targetOutbound: nodes[0]?.targetOutbound,
    sessionsPerNode: roundSpread(spread(sessions)),
    outboundPerNode: roundSpread(spread(nodes.map(n => n.outbound))),
    inboundPerNode: roundSpread(spread(nodes.map(n => n.inbound))),
    dialsPerNode: roundSpread(spread(nodes.map(n => n.dials))),
    failedDialsPerNode: roundSpread(spread(nodes.map(n => n.dialsFailed))),
    connectionsOpenedPerNode: roundSpread(spread(nodes.map(n => n.connectionsOut))),
    connectionsAcceptedPerNode: roundSpread(spread(nodes.map(n => n.connectionsIn))),
    failedDialReasons: nodes.reduce<Record<string, number>>((all, n) => {
      for (const [reason, count] of Object.entries(n.failReasons)) all[reason] = (all[reason] ?? 0) + count
      return all
    }, {}),
    failedDialErrors: nodes.reduce<Record<string, number>>((all, n) => {
      for (const [error, count] of Object.entries(n.failErrors)) all[error] = (all[error] ?? 0) + count
      return all
    }, {}),
    addressBookPerNode: roundSpread(spread(nodes.map(n => n.contacts))),
    loadAtConvergence: loadavg().map(l => round(l, 2)),
    ...(SIM ? { memoryMiBAtConvergence: memoryMiB() } : {}),
    ...(SIM ? { simulation: starvation(cpuAtStart, loopDelay, (now() - t0) / 1000) } : {})
  }
  await saveFigures(true)

  await sleep(SETTLE_MS)
  const producer = N - 1
  const producerGroup = groups[slices.findIndex(s => s.includes(producer))]
  const relays: Record<string, unknown> = {}
  result.relays = relays
  for (const relay of RELAYS) {
    // the nodes' idle traffic, then the blocks
    const idleStart = await reports(groups)
    const idleT = now()
    await sleep(SETTLE_MS)
    const idleEnd = await reports(groups)
    const idleMs = now() - idleT
    const phaseT = now()
    const cpuAtPhase = { cpu: process.cpuUsage(), wall: wallMs(), skipped: skippedMs() }
    loopDelay.reset()
    const publishedAt: Record<number, number> = {}
    for (let b = 0; b < BLOCKS; b++) {
      publishedAt[b] = await producerGroup.call<number>('publish', producer, relay, b)
      await sleep(INTERVAL_MS)
    }
    let after = await reports(groups)
    const drainUntil = now() + DRAIN_MS
    const complete = (rs: LabNodeReport[]): boolean => rs.every(r => r.index === producer || Object.keys(r.receipts[relay]).length >= BLOCKS)
    while (!complete(after) && now() < drainUntil) {
      await sleep(250)
      after = await reports(groups)
    }
    // a second more for the stragglers' copies (and gossip's IHAVE/IWANT) to be counted
    await sleep(1000)
    after = await reports(groups)
    const phaseMs = now() - phaseT
    const others = after.filter(r => r.index !== producer)
    const propagation = propagationFigures(publishedAt, others.map(r => r.receipts[relay]))
    const duplicates = others.map(r => {
      if (relay === 'gossip') {
        const before = idleEnd.find(x => x.index === r.index) as LabNodeReport
        return (r.gossipDuplicate - before.gossipDuplicate) / BLOCKS
      }
      return duplicatesPerBlock(r.receipts.flood, BLOCKS)
    })
    const bytes = after.map(r => {
      const s0 = idleStart.find(x => x.index === r.index) as LabNodeReport
      const s1 = idleEnd.find(x => x.index === r.index) as LabNodeReport
      return bytesPerBlock({ sent: r.sentBytes - s1.sentBytes, ms: phaseMs }, { sent: s1.sentBytes - s0.sentBytes, ms: idleMs }, BLOCKS)
    })
    const idleBytesPerS = after.map(r => {
      const s0 = idleStart.find(x => x.index === r.index) as LabNodeReport
      const s1 = idleEnd.find(x => x.index === r.index) as LabNodeReport
      return (s1.sentBytes - s0.sentBytes) / (idleMs / 1000)
    })
    relays[relay] = {
      producer,
      blocks: BLOCKS,
      intervalMs: INTERVAL_MS,
      blockBytes: 1024,
      delivered: propagation.delivered,
      expected: propagation.expected,
      all: propagation.all,
      latencyMs: roundSpread(propagation.latencyMs),
      blockToAllMs: roundSpread(propagation.blockToAllMs),
      duplicatesPerNodePerBlock: roundSpread(spread(duplicates), 2),
      bytesSentPerNodePerBlock: roundSpread(spread(bytes), 0),
      idleBytesSentPerNodePerSecond: roundSpread(spread(idleBytesPerS), 0),
      meshPeersPerNode: relay === 'gossip' ? roundSpread(spread(after.map(r => r.meshPeers))) : undefined,
      simulation: SIM ? starvation(cpuAtPhase, loopDelay, phaseMs / 1000) : undefined,
      phaseSeconds: round(phaseMs / 1000),
      load: loadavg().map(l => round(l, 2))
    }
    log(`${relay}: ${propagation.delivered}/${propagation.expected} deliveries; latency ${fmt(propagation.latencyMs, ' ms')}; duplicates/node/block ${fmt(spread(duplicates))}; bytes/node/block p50 ${round(spread(bytes).p50, 0)}`)
    await saveFigures(true)
  }
  load.end = loadavg().map(l => round(l, 2))
  result.load = load
  result.peakRssMiB = round(process.resourceUsage().maxRSS / 1024, 0)
} catch (err: any) {
  result.error = `${err.name}: ${err.message}`
  process.exitCode = 1
  console.error(err)
} finally {
  await Promise.allSettled(groups.map(async g => g.call('stop')))
  await rm(root, { recursive: true, force: true })
}

await saveFigures(false)
printSummary(result)
console.info(`figures written to ${OUT}`)
process.exit()

/**
 * Writes the figures so far to `--out`, after the convergence and after each
 * relay, marked `partial` until the end: a long run (1,000 simulated nodes
 * take hours) that is stopped keeps what it measured
 */
async function saveFigures (partial: boolean): Promise<void> {
  await mkdir(dirname(OUT), { recursive: true })
  await writeFile(OUT, JSON.stringify({ ...result, ...(partial ? { partial: true } : {}) }, null, 2) + '\n')
}

/** this process's memory (the simulation's nodes), in MiB */
function memoryMiB (): Record<string, number> {
  const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage()
  return { rss: round(rss / 2 ** 20, 0), heapUsed: round(heapUsed / 2 ** 20, 0), external: round(external / 2 ** 20, 0), arrayBuffers: round(arrayBuffers / 2 ** 20, 0) }
}

/** the wall clock, which the simulation's clock leaves alone */
function wallMs (): number {
  return Number(process.hrtime.bigint()) / 1e6
}

/**
 * Whether the simulation's nodes were starved: the CPU each node had per
 * simulated second (its share of this process's), how busy the process was,
 * the event loop's delay in simulated ms (what a node's timer was late by
 * while the loop worked) and the simulated time skipped while it was idle.
 * Resets the histogram.
 */
function starvation (since: { cpu: NodeJS.CpuUsage, wall: number, skipped: number }, loopDelay: ReturnType<typeof monitorEventLoopDelay>, simSeconds: number): Record<string, number> {
  const cpu = process.cpuUsage(since.cpu)
  const cpuMs = (cpu.user + cpu.system) / 1000
  const figures = {
    cpuMsPerNodePerSimulatedSecond: round(cpuMs / N / simSeconds, 2),
    wallSeconds: round((wallMs() - since.wall) / 1000),
    processCoresBusy: round(cpuMs / (wallMs() - since.wall), 2),
    idleSkippedSimulatedSeconds: round((skippedMs() - since.skipped) / 1000, 2),
    loopDelayP50SimulatedMs: round(loopDelay.percentile(50) / 1e6 / DILATION, 2),
    loopDelayP99SimulatedMs: round(loopDelay.percentile(99) / 1e6 / DILATION, 2),
    loopDelayMaxSimulatedMs: round(loopDelay.max / 1e6 / DILATION, 2)
  }
  loopDelay.reset()
  return figures
}

function printSummary (r: any): void {
  console.info(`\nscale lab, ${r.mode}: ${r.nodes} nodes, ${r.limits}; ${r.date}, ${r.machine.cores} cores, load ${JSON.stringify(r.load)}`)
  if (r.convergence != null) {
    const c = r.convergence
    console.info(`convergence: ${c.all ? `${c.seconds} s` : `only ${c.reached}/${r.nodes}`} (bar ≤ 30 s); sessions/node ${fmt(c.sessionsPerNode)}; dials/node ${fmt(c.dialsPerNode)}; connections opened/node ${fmt(c.connectionsOpenedPerNode)}, accepted/node ${fmt(c.connectionsAcceptedPerNode)}; address book ${fmt(c.addressBookPerNode)}`)
    console.info(`failed dials by reason: ${JSON.stringify(c.failedDialReasons)}; by error: ${JSON.stringify(c.failedDialErrors)}`)
    if (c.simulation != null) {
      console.info(`simulation (time dilated ${r.dilation}×): ${JSON.stringify(c.simulation)}`)
    }
  }
  for (const [relay, f] of Object.entries<any>(r.relays ?? {})) {
    console.info(`${relay}: ${f.delivered}/${f.expected} delivered; latency ${fmt(f.latencyMs, ' ms')}; duplicates/node/block ${fmt(f.duplicatesPerNodePerBlock)}; bytes/node/block ${fmt(f.bytesSentPerNodePerBlock)}${f.simulation == null ? '' : `; simulation ${JSON.stringify(f.simulation)}`}`)
  }
}
