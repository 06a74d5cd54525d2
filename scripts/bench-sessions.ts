/**
 * npm run bench:sessions [-- --sessions 1000] [--processes 8] [--rounds 2] [--in-flight 64] [--idle-s 30] [--status-s 300] [--settle-s 12] [--out FILE.json] [--profile DIR]
 *
 * 1,000 sessions on one node (issue 22 item 3), measured from outside. The
 * node under test runs in its own process (bench-sessions-server.ts, with
 * --expose-gc), a peergate node in turn with a bare libp2p node (TCP + Noise
 * + Yamux + identify, nothing else), both on LevelDB, both with their
 * connection limits raised to hold `--sessions` (configuration for the
 * bench) and their per-host limits at their defaults. The clients run in
 * `--processes` processes (bench-sessions-clients.ts), each client its own
 * node dialing from and listening on its own address in 127.0.0.0/8, so that
 * per-host limits see one client per host, as on a real network.
 *
 * A third kind, the floor (bench-sessions-floor.ts), is the bare node on
 * peergate's stack (its DHT, coalesced writes, its peer store written behind,
 * no connection monitor) with a stand-in for the handshake (its messages'
 * sizes, nothing else): what libp2p and kad-dht charge for a session's
 * streams and a newcomer's DHT traffic, the best peergate could do on them.
 *
 * Each round runs the bare node, the floor and the peergate node one after
 * the other (each kind first in turn from round to round), each with a fresh
 * server process and fresh client processes:
 *
 * 1. the server's heap and RSS after two GCs, before any client;
 * 2. the first half of the clients dial (as in 3), and `--settle-s` later the
 *    heap and RSS after two GCs: the server's code is warm, its pools are
 *    allocated, and these figures are the base of the memory per session;
 * 3. accept rate: the second half dial the server as fast as they can
 *    (`--in-flight` dials in flight over all processes, each next one as soon
 *    as one is done), and the server records the time of each event the user
 *    waits for: peergate's `session:open`, the bare node's `peer:identify` of
 *    an inbound connection. The rate is taken between the 10th and the 90th
 *    percentile of those times (the steady state), and over the whole second
 *    half (from its first inbound `connection:open` to its last event), with
 *    the server's CPU time per event;
 * 4. memory per session: the heap and RSS after two GCs, `--settle-s` after
 *    the last one opened, less those of step 2, divided by the sessions the
 *    second half added (and, beside it, less those of step 1 divided by all
 *    the sessions held, which counts the warm-up as well); every sample is
 *    taken between two rounds of libp2p's connection monitor, which pings
 *    every connection at once every 10 s (bench-sessions-server.ts);
 * 5. CPU at idle: the server's CPU time over `--idle-s` with every session
 *    held, status rounds every `--status-s` on both sides (by default
 *    peergate's own, 5 minutes: with 1,000 sessions about 3 rounds a second
 *    each way, some 100 in the window; sped up to 10 s, 200 status streams a
 *    second, a load no deployment runs, the server lost 356 of 1,000
 *    sessions during the fill, their connections closed under both ends,
 *    and that run was invalid) and a round trip on every connection every
 *    10 s from both ends (bare: libp2p's connection monitor, a ping stream
 *    each; peergate: its keep-alive, a yamux ping frame each);
 * 6. the clients stop (peergate's with their Goodbye), and `--settle-s` later
 *    the heap after two GCs, against step 1's: what stays when they are gone.
 *
 * With `--profile DIR`, the server samples its CPU (every 1 ms) over step 3
 * and over step 5 and writes `DIR/<kind>-<round>-fill.cpuprofile` and
 * `…-idle.cpuprofile`, and client process 0 its own over step 3
 * (`…-fill-client0.cpuprofile`); the profiler's cost is in that run's
 * figures.
 *
 * A run in which the server held fewer than 95 % of the sessions (sessions
 * that closed while held: the client processes print their event loop's
 * delay, since a round trip not answered within 5 s aborts the connection)
 * is printed as invalid and left out.
 *
 * Prints, per kind, the median over the valid rounds and the ratios peergate/bare
 * (goals of issue 22: memory per session ≤ 1.2×, accept rate ≥ 0.85×), the
 * floor's accept rate and CPU against bare's and peergate's against the floor's, with
 * the command, the machine, the commit, the date and the load average; writes
 * every figure to `--out` (JSON) and the summary beside it (.txt).
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { writeFile } from 'node:fs/promises'
import { cpus, loadavg, release, totalmem, type as osType } from 'node:os'
import { createInterface } from 'node:readline'
import type { Readable, Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { buildInfo } from '../src/node/build-info.js'
import type { BenchKind } from './bench-sessions-setup.js'

/** run in each round, each kind first in turn */
const KINDS: BenchKind[] = ['bare', 'floor', 'peergate']
/** the bars of issue 22 item 3 */
const MAX_MEMORY_RATIO = 1.2
const MIN_ACCEPT_RATIO = 0.85
/** files the server keeps open beside one socket per session: LevelDB's, the listener, handshakes in flight */
const OPEN_FILES_MARGIN = 512
/** a run whose server held fewer of the sessions says nothing about them */
const VALID_HELD = 0.95

const { values } = parseArgs({
  options: {
    sessions: { type: 'string', default: '1000' },
    processes: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '2' },
    'in-flight': { type: 'string', default: '64' },
    'idle-s': { type: 'string', default: '30' },
    'status-s': { type: 'string', default: '300' },
    // past a ping handler's 10 s timeout: @libp2p/ping's responder keeps a
    // stream until then when libp2p 3.3.11 loses a close-write that came
    // before the handler read (peergate's own responder does not)
    'settle-s': { type: 'string', default: '12' },
    out: { type: 'string', default: 'bench-sessions.json' },
    // where the server's CPU profiles of the second half of the fill and of the idle window go
    profile: { type: 'string' }
  }
})
const SESSIONS = Number(values.sessions)
const PROCESSES = Number(values.processes)
const ROUNDS = Number(values.rounds)
const IN_FLIGHT = Number(values['in-flight'])
const IDLE_MS = Number(values['idle-s']) * 1000
const STATUS_MS = Number(values['status-s']) * 1000
const SETTLE_MS = Number(values['settle-s']) * 1000
const OUT = values.out
for (const [name, value] of Object.entries({ sessions: SESSIONS, processes: PROCESSES, rounds: ROUNDS, 'in-flight': IN_FLIGHT, 'idle-s': IDLE_MS, 'status-s': STATUS_MS, 'settle-s': SETTLE_MS })) {
  if (!Number.isInteger(value) || value <= 0) {
    throw new Error(`--${name} must be a whole number > 0`)
  }
}
if (PROCESSES > SESSIONS) {
  throw new Error('--processes must be at most --sessions')
}
checkOpenFiles()

/** how long the fill may take before the run gives up on the missing sessions */
const FILL_TIMEOUT_MS = Math.max(60_000, SESSIONS * 200)
/** how long after the clients' last event the server's last one is awaited */
const SERVER_LAG_MS = 500

/**
 * The server holds a socket per session beside its LevelDB files, and a
 * process past its open-file limit fails its accepts (EMFILE): refused up
 * front where Linux says the limit (children inherit it)
 */
function checkOpenFiles (): void {
  let limits: string
  try {
    limits = readFileSync('/proc/self/limits', 'utf8')
  } catch {
    return
  }
  const soft = Number(/^Max open files\s+(\d+)/m.exec(limits)?.[1])
  const needed = SESSIONS + OPEN_FILES_MARGIN
  if (Number.isFinite(soft) && soft < needed) {
    throw new Error(`the open-file limit is ${soft}, the server needs about ${needed} for ${SESSIONS} sessions: raise it (ulimit -n ${needed}) and run again`)
  }
}

const SERVER = fileURLToPath(new URL('./bench-sessions-server.js', import.meta.url))
const CLIENTS = fileURLToPath(new URL('./bench-sessions-clients.js', import.meta.url))
const delay = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

/** A child process speaking JSON lines: `next(event)` is its next line of that event */
class Child {
  private readonly child: ChildProcessByStdio<Writable, Readable, null>
  private readonly queued = new Map<string, any[]>()
  private readonly waiting = new Map<string, Array<(msg: any) => void>>()
  private readonly exited: Promise<number | null>

  constructor (name: string, args: string[]) {
    this.child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] })
    this.exited = new Promise(resolve => { this.child.once('exit', resolve) })
    void this.exited.then(code => {
      for (const waiters of this.waiting.values()) {
        for (const waiter of waiters) {
          waiter(new Error(`${name} exited with ${code}`))
        }
      }
      this.waiting.clear()
    })
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      const msg = JSON.parse(line)
      const waiter = this.waiting.get(msg.event)?.shift()
      if (waiter != null) {
        waiter(msg)
      } else {
        this.queued.set(msg.event, [...(this.queued.get(msg.event) ?? []), msg])
      }
    })
  }

  async next (event: string, timeoutMs = 60_000): Promise<any> {
    const queued = this.queued.get(event)?.shift()
    if (queued != null) {
      return queued
    }
    const msg = await new Promise<any>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`no ${event} within ${timeoutMs} ms`)) }, timeoutMs)
      this.waiting.set(event, [...(this.waiting.get(event) ?? []), (msg) => { clearTimeout(timer); resolve(msg) }])
    })
    if (msg instanceof Error) {
      throw msg
    }
    return msg
  }

  send (line: string): void {
    this.child.stdin.write(`${line}\n`)
  }

  /** ends its stdin and waits for it to exit */
  async end (): Promise<void> {
    this.child.stdin.end()
    await this.exited
  }
}

interface Sample { heap: number, rss: number, held: number, connections: number, streams: Record<string, number>, ends: Record<string, number>, cpuMs: number, waitedMs: number }
interface Idle { cpuMs: number, wallMs: number }
interface ClientLoad { busy: number, loopDelayP99Ms: number, loopDelayMaxMs: number }
interface Dialed { ok: number, failed: number, retries: number, errors: Record<string, number>, cpuMs: number }

interface KindRun {
  kind: BenchKind
  round: number
  before: Sample
  /** with the first half of the clients held */
  half: Sample
  full: Sample
  after: Sample
  idle: Idle
  clients: Dialed
  /** the clients' sessions that ended while they were held, by reason */
  clientEnds: Record<string, number>
  /** per client process, from its ready to its stop: share of one core used, event loop delay */
  clientLoad: ClientLoad[]
  /** false when fewer than VALID_HELD of the sessions were held: the figures say nothing then */
  valid: boolean
  /** events counted by the server during the second half of the fill */
  opened: number
  /** events per second between the 10th and 90th percentile of their times */
  steadyRate: number
  /** events per second from the first inbound connection:open to the last event */
  wholeRate: number
  /** ms from `go` to the last event */
  fillMs: number
  /** the server's CPU ms per event during the fill (from its sample before the clients came to the end of the fill) */
  fillCpuPerSession: number
  /** the share of one core the server used during the fill */
  fillBusy: number
  /** the client processes' CPU ms per event during the fill, all together */
  clientFillCpuPerSession: number
  /** the cores the client processes used during the fill, all together */
  clientFillBusy: number
  /** what the second half of the sessions added, per session */
  heapPerSession: number
  rssPerSession: number
  /** from the empty node to all sessions held, per session: the code and pools the first sessions warm up included */
  heapPerSessionFromEmpty: number
  rssPerSessionFromEmpty: number
  /** CPU ms per second of wall time at idle */
  idleCpuMsPerS: number
}

/** the clients' share of `SESSIONS`: process `p` holds clients [first, first + count) */
function shares (): Array<{ first: number, count: number, inFlight: number }> {
  return Array.from({ length: PROCESSES }, (_, p) => {
    const first = Math.floor(p * SESSIONS / PROCESSES)
    const next = Math.floor((p + 1) * SESSIONS / PROCESSES)
    const inFlight = Math.floor((p + 1) * IN_FLIGHT / PROCESSES) - Math.floor(p * IN_FLIGHT / PROCESSES)
    return { first, count: next - first, inFlight: Math.max(1, inFlight) }
  })
}

function rates (times: number[], firstConnection: number): { steady: number, whole: number } {
  const sorted = [...times].sort((a, b) => a - b)
  const n = sorted.length
  const lo = Math.floor(n * 0.1)
  const hi = Math.max(lo, Math.ceil(n * 0.9) - 1)
  return {
    steady: hi > lo ? (hi - lo) / (sorted[hi] - sorted[lo]) * 1000 : Number.NaN,
    whole: n > 0 ? n / (sorted[n - 1] - firstConnection) * 1000 : Number.NaN
  }
}

interface Opens { firstConnection: number, at: number[], cpuMs: number }

/** each client process dials its next `counts[p]` clients; resolves with their results and the server's events */
async function fill (server: Child, clients: Child[], counts: number[], profileFile?: string): Promise<{ dialed: Dialed[], opens: Opens }> {
  for (const [p, c] of clients.entries()) {
    c.send(`go ${counts[p]}${p === 0 && profileFile != null ? ` ${profileFile}` : ''}`)
  }
  const dialed: Dialed[] = await Promise.all(clients.map(async c => c.next('dialed', FILL_TIMEOUT_MS)))
  // the server's last event may come a moment after its client's
  await delay(SERVER_LAG_MS)
  server.send('opens')
  return { dialed, opens: await server.next('opens') }
}

async function runKind (kind: BenchKind, round: number): Promise<KindRun> {
  const server = new Child(`${kind} server`, ['--expose-gc', SERVER, kind, String(SESSIONS), String(STATUS_MS)])
  const clients: Child[] = []
  try {
    const { multiaddr } = await server.next('ready')
    await delay(1_000)
    server.send('sample')
    const before: Sample = await server.next('sample')

    for (const [p, share] of shares().entries()) {
      clients.push(new Child(`${kind} clients ${p}`, [CLIENTS, kind, multiaddr, String(share.first), String(share.count), String(share.inFlight), String(STATUS_MS)]))
    }
    await Promise.all(clients.map(async c => c.next('ready', 10 * 60_000)))

    // the first half: the server's code warms up, and its heap then is the
    // base of the memory per session (what the second half adds)
    const firstHalf = await fill(server, clients, shares().map(share => Math.floor(share.count / 2)))
    await delay(SETTLE_MS)
    server.send('sample')
    const half: Sample = await server.next('sample')
    const profile = async (name: string): Promise<void> => {
      if (values.profile != null) {
        server.send(`profile-stop ${join(values.profile, `${kind}-${round + 1}-${name}.cpuprofile`)}`)
        await server.next('profile')
      }
    }
    if (values.profile != null) {
      server.send('profile-start')
    }
    const go = performance.timeOrigin + performance.now()
    const secondHalf = await fill(server, clients, shares().map(share => share.count - Math.floor(share.count / 2)),
      values.profile == null ? undefined : join(values.profile, `${kind}-${round + 1}-fill-client0.cpuprofile`))
    const { at, firstConnection, cpuMs } = secondHalf.opens
    const { steady, whole } = rates(at, firstConnection)
    const dialed = [...firstHalf.dialed, ...secondHalf.dialed]
    await profile('fill')

    await delay(SETTLE_MS)
    server.send('sample')
    const full: Sample = await server.next('sample')
    if (values.profile != null) {
      server.send('profile-start')
    }
    server.send(`idle ${IDLE_MS}`)
    const idle: Idle = await server.next('idle', IDLE_MS + 60_000)
    await profile('idle')

    await Promise.all(clients.map(async c => { await c.end() }))
    const clientEnds: Record<string, number> = {}
    const clientLoad: ClientLoad[] = []
    for (const c of clients) {
      const { ends, busy, loopDelayP99Ms, loopDelayMaxMs } = await c.next('ends', 1_000)
      clientLoad.push({ busy, loopDelayP99Ms, loopDelayMaxMs })
      for (const [reason, count] of Object.entries(ends as Record<string, number>)) {
        clientEnds[reason] = (clientEnds[reason] ?? 0) + count
      }
    }
    clients.length = 0
    await delay(SETTLE_MS)
    server.send('sample')
    const after: Sample = await server.next('sample')

    const held = Math.max(1, full.held)
    const added = Math.max(1, full.held - half.held)
    return {
      kind,
      round,
      before,
      half,
      full,
      after,
      idle,
      clients: {
        ok: dialed.reduce((n, d) => n + d.ok, 0),
        failed: dialed.reduce((n, d) => n + d.failed, 0),
        retries: dialed.reduce((n, d) => n + d.retries, 0),
        errors: dialed.reduce<Record<string, number>>((all, d) => {
          for (const [name, count] of Object.entries(d.errors)) {
            all[name] = (all[name] ?? 0) + count
          }
          return all
        }, {}),
        cpuMs: dialed.reduce((n, d) => n + d.cpuMs, 0)
      },
      clientEnds,
      clientLoad,
      valid: full.held >= VALID_HELD * SESSIONS,
      opened: at.length,
      steadyRate: steady,
      wholeRate: whole,
      fillMs: Math.max(...at) - go,
      fillCpuPerSession: (cpuMs - half.cpuMs) / Math.max(1, at.length),
      fillBusy: (cpuMs - half.cpuMs) / (Math.max(...at) - firstConnection),
      clientFillCpuPerSession: secondHalf.dialed.reduce((sum, d) => sum + d.cpuMs, 0) / Math.max(1, at.length),
      clientFillBusy: secondHalf.dialed.reduce((sum, d) => sum + d.cpuMs, 0) / (Math.max(...at) - go),
      heapPerSession: (full.heap - half.heap) / added,
      rssPerSession: (full.rss - half.rss) / added,
      heapPerSessionFromEmpty: (full.heap - before.heap) / held,
      rssPerSessionFromEmpty: (full.rss - before.rss) / held,
      idleCpuMsPerS: idle.cpuMs / idle.wallMs * 1000
    }
  } finally {
    await Promise.all(clients.map(async c => { await c.end() }))
    await server.end()
  }
}

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}
const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`
const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`

const command = `npm run bench:sessions -- ${process.argv.slice(2).join(' ')}`.trim()
const started = new Date()
const loadBefore = loadavg()
const lines: string[] = []
const say = (line: string): void => {
  lines.push(line)
  console.info(line)
}
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${osType()} ${release()}, Node ${process.versions.node}`
const build = buildInfo()

say(`bench-sessions: ${SESSIONS} sessions on one node against ${SESSIONS} bare connections (TCP + Noise + Yamux + identify) and the floor's, ${ROUNDS} round(s), each kind first in turn`)
say(`command: ${command}`)
say(`machine: ${machine}`)
say(`peergate ${build.version} (${build.commit ?? 'no commit recorded'}), libp2p ${build.libp2p}`)
say(`date: ${started.toISOString()}; load average before: ${loadBefore.map(l => l.toFixed(2)).join(' ')}`)
say(`clients: ${PROCESSES} processes, one node and one 127.0.0.0/8 address per client, ${IN_FLIGHT} dials in flight in all; status rounds every ${STATUS_MS / 1000} s on both sides (peergate's default: 300 s); idle window ${IDLE_MS / 1000} s`)

const runs: KindRun[] = []
for (let round = 0; round < ROUNDS; round++) {
  // each kind first, second and last in turn
  const order: BenchKind[] = KINDS.map((_, i) => KINDS[(i + round) % KINDS.length])
  for (const kind of order) {
    const run = await runKind(kind, round)
    runs.push(run)
    say(`  round ${round + 1} ${kind.padEnd(8)} held ${run.full.held}/${SESSIONS} (clients ok ${run.clients.ok}, failed ${run.clients.failed}, retries ${run.clients.retries}${Object.keys(run.clients.errors).length > 0 ? ` ${JSON.stringify(run.clients.errors)}` : ''}); ` +
      `accept ${run.steadyRate.toFixed(1)}/s steady, ${run.wholeRate.toFixed(1)}/s whole, fill ${(run.fillMs / 1000).toFixed(1)} s, the server ${(run.fillBusy * 100).toFixed(0)} % busy, ${run.fillCpuPerSession.toFixed(2)} ms CPU/session, the clients ${run.clientFillBusy.toFixed(2)} cores, ${run.clientFillCpuPerSession.toFixed(2)} ms CPU/session; ` +
      `heap ${mib(run.before.heap)} → ${mib(run.half.heap)} (${run.half.held} held) → ${mib(run.full.heap)} (${run.full.held}) → ${mib(run.after.heap)} after they left, ${kib(run.heapPerSession)}/session (${kib(run.heapPerSessionFromEmpty)} from empty); ` +
      `RSS ${mib(run.before.rss)} → ${mib(run.half.rss)} → ${mib(run.full.rss)}, ${kib(run.rssPerSession)}/session (${kib(run.rssPerSessionFromEmpty)} from empty); ` +
      `idle CPU ${run.idleCpuMsPerS.toFixed(1)} ms/s`)
    if (Object.keys(run.full.ends).length > 0) {
      say(`    the server's sessions closed and handshakes rejected by the time all were held: ${JSON.stringify(run.full.ends)}`)
    }
    say(`    streams open on the server's connections when all were held (sampled ${run.full.waitedMs} ms after asked, between the connection monitor's rounds): ${JSON.stringify(run.full.streams)}`)
    say(`    client processes: ${run.clientLoad.map(l => `${(l.busy * 100).toFixed(0)} % busy, loop delay p99 ${l.loopDelayP99Ms.toFixed(0)} ms max ${l.loopDelayMaxMs.toFixed(0)} ms`).join('; ')}`)
    if (!run.valid) {
      say(`    INVALID: the server held ${run.full.held} of ${SESSIONS} sessions (fewer than ${VALID_HELD * 100} %); this run is left out of the medians`)
    }
    if (Object.keys(run.clientEnds).length > 0) {
      say(`    the clients' sessions that ended while held: ${JSON.stringify(run.clientEnds)}`)
    }
  }
}

interface KindSummary { heapPerSession: number, rssPerSession: number, idleCpuMsPerS: number, steadyRate: number, wholeRate: number, fillCpuPerSession: number, clientFillCpuPerSession: number, heapLeft: number }
function summary (kind: BenchKind): KindSummary {
  const of = runs.filter(r => r.kind === kind && r.valid)
  return {
    heapPerSession: median(of.map(r => r.heapPerSession)),
    rssPerSession: median(of.map(r => r.rssPerSession)),
    idleCpuMsPerS: median(of.map(r => r.idleCpuMsPerS)),
    steadyRate: median(of.map(r => r.steadyRate)),
    wholeRate: median(of.map(r => r.wholeRate)),
    fillCpuPerSession: median(of.map(r => r.fillCpuPerSession)),
    clientFillCpuPerSession: median(of.map(r => r.clientFillCpuPerSession)),
    heapLeft: median(of.map(r => r.after.heap - r.before.heap))
  }
}
const bare = summary('bare')
const floor = summary('floor')
const peergate = summary('peergate')
/** the floor against bare: what libp2p and kad-dht charge for a session's streams and a newcomer's DHT traffic */
const floorRatios = {
  steadyRate: floor.steadyRate / bare.steadyRate,
  wholeRate: floor.wholeRate / bare.wholeRate,
  fillCpuPerSession: floor.fillCpuPerSession / bare.fillCpuPerSession,
  clientFillCpuPerSession: floor.clientFillCpuPerSession / bare.clientFillCpuPerSession
}
const ratios = {
  heapPerSession: peergate.heapPerSession / bare.heapPerSession,
  rssPerSession: peergate.rssPerSession / bare.rssPerSession,
  idleCpu: peergate.idleCpuMsPerS / bare.idleCpuMsPerS,
  steadyRate: peergate.steadyRate / bare.steadyRate,
  wholeRate: peergate.wholeRate / bare.wholeRate,
  fillCpuPerSession: peergate.fillCpuPerSession / bare.fillCpuPerSession,
  clientFillCpuPerSession: peergate.clientFillCpuPerSession / bare.clientFillCpuPerSession
}
const loadAfter = loadavg()
const verdict = (ok: boolean): string => Number.isNaN(ratios.heapPerSession) || Number.isNaN(ratios.steadyRate) ? 'not measured (no valid run)' : ok ? 'met' : 'NOT met'

say(`\nmedians over ${ROUNDS} round(s)      bare            peergate        peergate/bare`)
say(`  heap per session            ${kib(bare.heapPerSession).padEnd(15)} ${kib(peergate.heapPerSession).padEnd(15)} ${ratios.heapPerSession.toFixed(2)}  (goal ≤ ${MAX_MEMORY_RATIO}: ${verdict(ratios.heapPerSession <= MAX_MEMORY_RATIO)})`)
say(`  RSS per session             ${kib(bare.rssPerSession).padEnd(15)} ${kib(peergate.rssPerSession).padEnd(15)} ${ratios.rssPerSession.toFixed(2)}  (goal ≤ ${MAX_MEMORY_RATIO}: ${verdict(ratios.rssPerSession <= MAX_MEMORY_RATIO)})`)
say(`  CPU at idle (ms per s)      ${bare.idleCpuMsPerS.toFixed(1).padEnd(15)} ${peergate.idleCpuMsPerS.toFixed(1).padEnd(15)} ${ratios.idleCpu.toFixed(2)}  (${(peergate.idleCpuMsPerS / 10).toFixed(1)} % of one core for peergate)`)
say(`  accept rate, steady (/s)    ${bare.steadyRate.toFixed(1).padEnd(15)} ${peergate.steadyRate.toFixed(1).padEnd(15)} ${ratios.steadyRate.toFixed(2)}  (goal ≥ ${MIN_ACCEPT_RATIO}: ${verdict(ratios.steadyRate >= MIN_ACCEPT_RATIO)})`)
say(`  accept rate, whole (/s)     ${bare.wholeRate.toFixed(1).padEnd(15)} ${peergate.wholeRate.toFixed(1).padEnd(15)} ${ratios.wholeRate.toFixed(2)}`)
say(`  server CPU per accept (ms)  ${bare.fillCpuPerSession.toFixed(2).padEnd(15)} ${peergate.fillCpuPerSession.toFixed(2).padEnd(15)} ${ratios.fillCpuPerSession.toFixed(2)}`)
say(`  clients' CPU per accept (ms) ${bare.clientFillCpuPerSession.toFixed(2).padEnd(15)} ${peergate.clientFillCpuPerSession.toFixed(2).padEnd(15)} ${ratios.clientFillCpuPerSession.toFixed(2)}`)
say(`  heap left after all left    ${mib(bare.heapLeft).padEnd(15)} ${mib(peergate.heapLeft).padEnd(15)}`)
say(`\nthe floor: bare on peergate's stack (its DHT, coalesced writes, peer store written behind) with a stand-in for the handshake, its messages' sizes and nothing else (bench-sessions-floor.ts)`)
say(`                              bare            floor           floor/bare      peergate/floor`)
say(`  accept rate, steady (/s)    ${bare.steadyRate.toFixed(1).padEnd(15)} ${floor.steadyRate.toFixed(1).padEnd(15)} ${floorRatios.steadyRate.toFixed(2).padEnd(15)} ${(peergate.steadyRate / floor.steadyRate).toFixed(2)}`)
say(`  accept rate, whole (/s)     ${bare.wholeRate.toFixed(1).padEnd(15)} ${floor.wholeRate.toFixed(1).padEnd(15)} ${floorRatios.wholeRate.toFixed(2).padEnd(15)} ${(peergate.wholeRate / floor.wholeRate).toFixed(2)}`)
say(`  server CPU per accept (ms)  ${bare.fillCpuPerSession.toFixed(2).padEnd(15)} ${floor.fillCpuPerSession.toFixed(2).padEnd(15)} ${floorRatios.fillCpuPerSession.toFixed(2).padEnd(15)} ${(peergate.fillCpuPerSession / floor.fillCpuPerSession).toFixed(2)}`)
say(`  clients' CPU per accept (ms) ${bare.clientFillCpuPerSession.toFixed(2).padEnd(15)} ${floor.clientFillCpuPerSession.toFixed(2).padEnd(15)} ${floorRatios.clientFillCpuPerSession.toFixed(2).padEnd(15)} ${(peergate.clientFillCpuPerSession / floor.clientFillCpuPerSession).toFixed(2)}`)
say(`load average after: ${loadAfter.map(l => l.toFixed(2)).join(' ')}; ended ${new Date().toISOString()}`)

const txt = OUT.endsWith('.json') ? `${OUT.slice(0, -'.json'.length)}.txt` : `${OUT}.txt`
await writeFile(OUT, JSON.stringify({
  command,
  machine,
  build,
  started: started.toISOString(),
  ended: new Date().toISOString(),
  loadBefore,
  loadAfter,
  settings: { sessions: SESSIONS, processes: PROCESSES, rounds: ROUNDS, inFlight: IN_FLIGHT, idleMs: IDLE_MS, statusMs: STATUS_MS, settleMs: SETTLE_MS },
  runs,
  medians: { bare, floor, peergate },
  ratios,
  floorRatios,
  goals: { maxMemoryRatio: MAX_MEMORY_RATIO, minAcceptRatio: MIN_ACCEPT_RATIO }
}, null, 1))
await writeFile(txt, `${lines.join('\n')}\n`)
console.info(`\nwrote ${OUT} and ${txt}`)
process.exit(0)
