/**
 * npm run bench:session [-- N] [--dist DIR]... [--runs K] [--gap MS] [--samples FILE]
 *
 * Time to session, measured from outside. A peergate node listens in its own
 * process (LevelDB data dir, loopback); in each of N rounds this process dials
 * it from fresh nodes (new peer id, new DID key, set-up not timed), in turn:
 *
 * - bare: a plain libp2p node (TCP+Noise+Yamux+identify), dial → `peer:identify`
 * - session: a peergate node, dial → its own `session:open` (which comes after
 *   the listener's, whose time is printed too: it opens before message 4)
 *
 * and prints p50/p90 of each and the ratios to bare. Each `--dist DIR` (the
 * `dist/` of another checkout, built) adds a listener and dialers running that
 * code, alternated round by round with this checkout's, so that two versions
 * are compared side by side on one loaded machine. `--samples FILE` writes
 * every sample (ms) as JSON; `--gap MS` pauses before each dial, so that the
 * listener is done with the last connection (its close, a Goodbye) before the
 * next one is timed. `--runs K` repeats the whole run K times (new listener
 * processes each time), prints each run's ratios and then the figures of all
 * runs' samples pooled: one run's p50 ratio moves by ±0.1 from run to run on a
 * 2-core machine, more than the millisecond a change is suspected of.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import type { Readable, Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { tcp } from '@libp2p/tcp'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { MemoryDatastore } from 'datastore-core'
import { createLibp2p } from 'libp2p'
import { loadPeergate, type Peergate } from './bench-dist.js'
import { summarize, type Summary } from './stats.js'

/** the bars of issue 18: time to the dialer's session against bare, p50 */
const TARGET_P50_RATIO = 1.20

const { n: N, dists, samples, gapMs, runs } = parseArgs(process.argv.slice(2))
const WARMUP = Math.min(20, Math.ceil(N / 10))
const now = (): number => performance.timeOrigin + performance.now()

/** One build's samples (ms), round by round */
interface Samples {
  label: string
  bare: number[]
  dialer: number[]
  listener: number[]
  /** CPU ms this process spent from each dial to its end, bare and peergate */
  bareCpu: number[]
  dialerCpu: number[]
  /** CPU ms the listener spent from the connection's opening to its session:open */
  listenerCpu: number[]
}

interface Target extends Samples {
  peergate: Peergate
  /** the listening node's process */
  child: ChildProcessByStdio<Writable, Readable, null>
  addr: Multiaddr
  /** listener's session:open by dialer peer id */
  sessionSeen: Map<string, (at: number, cpu: number) => void>
  /** CPU ms the listener's process spent in the whole run */
  listenerRunCpu: Promise<number>
}

function parseArgs (args: string[]): { n: number, dists: Array<string | undefined>, samples?: string, gapMs: number, runs: number } {
  let n = Number(process.env.BENCH_N ?? 150)
  let samples: string | undefined
  let gapMs = 0
  let runs = 1
  const dists: Array<string | undefined> = [undefined]
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--dist' && args[i + 1] != null) {
      dists.push(args[++i])
    } else if (args[i] === '--samples' && args[i + 1] != null) {
      samples = args[++i]
    } else if (args[i] === '--gap' && /^\d+$/.test(args[i + 1] ?? '')) {
      gapMs = Number(args[++i])
    } else if (args[i] === '--runs' && /^[1-9]\d*$/.test(args[i + 1] ?? '')) {
      runs = Number(args[++i])
    } else if (/^\d+$/.test(args[i])) {
      n = Number(args[i])
    } else {
      throw new Error(`usage: bench-session [N] [--dist DIR]... [--samples FILE.json] [--gap MS] [--runs K] (unknown argument ${args[i]})`)
    }
  }
  return { n, dists, samples, gapMs, runs }
}

async function startTarget (dist: string | undefined): Promise<Target> {
  const listenerArgs = [fileURLToPath(new URL('./bench-listener.js', import.meta.url)), ...(dist == null ? [] : [dist])]
  const listener = spawn(process.execPath, listenerArgs, { stdio: ['pipe', 'pipe', 'inherit'] })
  const sessionSeen = new Map<string, (at: number, cpu: number) => void>()
  let resolveCpu: (ms: number) => void = () => {}
  const listenerRunCpu = new Promise<number>(resolve => { resolveCpu = resolve })
  const lines = createInterface({ input: listener.stdout })
  const ready = new Promise<string>((resolve, reject) => {
    listener.once('exit', (code) => { reject(new Error(`listener ${dist ?? 'of this checkout'} exited with ${code}`)) })
    lines.on('line', (line) => {
      const msg = JSON.parse(line)
      if (msg.event === 'ready') {
        resolve(msg.multiaddr)
      } else if (msg.event === 'session') {
        sessionSeen.get(msg.peerId)?.(msg.at, msg.cpu ?? Number.NaN)
      } else if (msg.event === 'cpu') {
        resolveCpu(msg.ms)
      }
    })
  })
  return {
    label: dist ?? 'this checkout',
    peergate: await loadPeergate(dist),
    child: listener,
    addr: multiaddr(await ready),
    sessionSeen,
    bare: [],
    dialer: [],
    listener: [],
    bareCpu: [],
    dialerCpu: [],
    listenerCpu: [],
    listenerRunCpu
  }
}

const cpuMs = (since: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(since)
  return (used.user + used.system) / 1000
}

async function bare (target: Target): Promise<{ ms: number, cpu: number }> {
  const node = await createLibp2p({
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() }
  })
  try {
    const cpu = process.cpuUsage()
    const identified = new Promise<{ at: number, cpu: number }>(resolve => {
      node.addEventListener('peer:identify', () => { resolve({ at: now(), cpu: cpuMs(cpu) }) }, { once: true })
    })
    const start = now()
    await node.dial(target.addr)
    const end = await identified
    return { ms: end.at - start, cpu: end.cpu }
  } finally {
    await node.stop()
  }
}

async function session (target: Target): Promise<{ dialer: number, listener: number, cpu: number, listenerCpu: number }> {
  const node = await target.peergate.createPeerNode({ datastore: new MemoryDatastore(), listen: [], chain: { chainId: 'bench-chain' } })
  const peer = node.peerId.toString()
  try {
    const atListener = new Promise<{ at: number, cpu: number }>(resolve => {
      target.sessionSeen.set(peer, (at, cpu) => { resolve({ at, cpu }) })
    })
    const cpu = process.cpuUsage()
    const atDialer = new Promise<{ at: number, cpu: number }>(resolve => {
      node.addEventListener('session:open', () => { resolve({ at: now(), cpu: cpuMs(cpu) }) }, { once: true })
    })
    const start = now()
    await node.connect(target.addr)
    const end = await atDialer
    const listener = await atListener
    return { dialer: end.at - start, listener: listener.at - start, cpu: end.cpu, listenerCpu: listener.cpu }
  } finally {
    target.sessionSeen.delete(peer)
    await node.stop()
  }
}

/** the `--gap` pause before each dial, in which the listener finishes with the last one */
async function idle (): Promise<void> {
  if (gapMs > 0) {
    await new Promise(resolve => setTimeout(resolve, gapMs))
  }
}

interface RunResult extends Samples {
  /** the listener's CPU per round, over the whole run */
  listenerRoundCpu: number
}

/** One run: a listener per build, N rounds alternated between them after the warm-up */
async function run (): Promise<RunResult[]> {
  const targets: Target[] = []
  for (const dist of dists) {
    targets.push(await startTarget(dist))
  }
  try {
    for (let i = 0; i < WARMUP + N; i++) {
      // each target goes first in turn
      for (let k = 0; k < targets.length; k++) {
        const target = targets[(i + k) % targets.length]
        await idle()
        const b = await bare(target)
        await idle()
        const s = await session(target)
        if (i >= WARMUP) {
          target.bare.push(b.ms)
          target.bareCpu.push(b.cpu)
          target.dialer.push(s.dialer)
          target.dialerCpu.push(s.cpu)
          target.listener.push(s.listener)
          target.listenerCpu.push(s.listenerCpu)
        }
      }
    }
  } finally {
    for (const target of targets) {
      target.child.stdin.end()
    }
    await Promise.all(targets.map(async target => new Promise(resolve => target.child.once('exit', resolve))))
  }
  const results: RunResult[] = []
  for (const { label, bare, dialer, listener, bareCpu, dialerCpu, listenerCpu, listenerRunCpu } of targets) {
    results.push({ label, bare, dialer, listener, bareCpu, dialerCpu, listenerCpu, listenerRoundCpu: (await listenerRunCpu) / (WARMUP + N) })
  }
  return results
}

const ms = (s: Summary): string => `p50 ${s.p50.toFixed(2).padStart(6)} ms  p90 ${s.p90.toFixed(2).padStart(6)} ms`
const ratio = (a: Summary, b: Summary): string => `p50 ${(a.p50 / b.p50).toFixed(3)}  p90 ${(a.p90 / b.p90).toFixed(3)}`

const runResults: RunResult[][] = []
for (let r = 0; r < runs; r++) {
  const results = await run()
  runResults.push(results)
  if (runs > 1) {
    console.info(`run ${r + 1}/${runs}: p50 ratio session/bare ${results.map(t => `${t.label} ${(summarize(t.dialer).p50 / summarize(t.bare).p50).toFixed(3)}`).join(', ')}`)
  }
}

// every run's samples of a build pooled: the run-to-run spread of one run's
// p50 ratio (±0.1 on a 2-core machine) is larger than a millisecond's change
const pooled: RunResult[] = runResults[0].map((first, k) => {
  const all = runResults.map(results => results[k])
  return {
    label: first.label,
    bare: all.flatMap(t => t.bare),
    dialer: all.flatMap(t => t.dialer),
    listener: all.flatMap(t => t.listener),
    bareCpu: all.flatMap(t => t.bareCpu),
    dialerCpu: all.flatMap(t => t.dialerCpu),
    listenerCpu: all.flatMap(t => t.listenerCpu),
    listenerRoundCpu: all.reduce((sum, t) => sum + t.listenerRoundCpu, 0) / all.length
  }
})

if (samples != null) {
  await writeFile(samples, JSON.stringify(pooled))
}

console.info(`bench-session: ${runs > 1 ? `${runs} runs × ` : ''}${N} rounds (after ${WARMUP} warm-up) of a bare libp2p dial and a peergate dial per listener, alternating${gapMs > 0 ? `, ${gapMs} ms apart` : ''}; listeners in their own processes${runs > 1 ? '; samples of all runs pooled' : ''}`)
for (const target of pooled) {
  const b = summarize(target.bare)
  const d = summarize(target.dialer)
  const l = summarize(target.listener)
  console.info(`\n${target.label}`)
  console.info(`  bare libp2p (dial → peer:identify)          ${ms(b)}`)
  console.info(`  peergate (dial → listener's session:open)   ${ms(l)}`)
  console.info(`  peergate (dial → dialer's session:open)     ${ms(d)}`)
  console.info(`  ratio session/bare (dialer's session:open)  ${ratio(d, b)}  (target p50 ≤ ${TARGET_P50_RATIO.toFixed(2)})`)
  console.info(`  CPU p50: dialer to its session ${summarize(target.dialerCpu).p50.toFixed(2)} ms (bare ${summarize(target.bareCpu).p50.toFixed(2)} ms), listener from connection to session ${summarize(target.listenerCpu).p50.toFixed(2)} ms; listener in all ${target.listenerRoundCpu.toFixed(2)} ms per round`)
}
