/**
 * npm run profile:session [-- N] [--interval µS] [--gap MS] [--out FILE.json] [--keep DIR]
 *
 * Where the CPU time of a session goes (issue 22 item 4). Rounds as in
 * `bench:session`: a peergate listener in its own process (bench-listener.js,
 * LevelDB data dir), and this process, in each of N rounds (after a warm-up),
 * dialing it from a fresh bare libp2p node (dial → `peer:identify`) and from a
 * fresh peergate node (dial → its `session:open`), `--gap` ms apart (default
 * 20), set-up not counted. Both processes sample their CPU all along with
 * node:inspector's profiler (every `--interval` µs, default 500; 0: no
 * profiler, for the CPU and wall time without one) and note the
 * monotonic µs of each window:
 *
 * - dialer, bare and peergate: dial → `connection:open` (TCP, Noise, yamux),
 *   and `connection:open` → `peer:identify` / `session:open`
 * - listener: its `connection:open` of the connection → its `session:open`
 *
 * Only the samples inside the windows are counted, by category (the rules:
 * cpu-profile.ts); a category's mean µs per session is its share of a
 * column's samples times the main thread's mean CPU (`process.threadCpuUsage`)
 * in the column's windows; the row `other threads` is the rest of the
 * process's CPU there (`process.cpuUsage`: V8's compiler and GC helpers,
 * libuv's pool, the profiler's thread), so that a column adds up to it.
 * Prints the tables (markdown, ms) and writes every label's figures as JSON;
 * `--keep DIR` keeps both profiles there (dialer.cpuprofile, listener.cpuprofile:
 * open them in Chrome DevTools) and puts each column's windows in the JSON.
 */
import { spawn } from 'node:child_process'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { MemoryDatastore } from 'datastore-core'
import { createLibp2p } from 'libp2p'
import { buildInfo } from '../src/node/build-info.js'
import { loadPeergate } from './bench-dist.js'
import { attribute, categorise, CATEGORIES, clockCheck, clockCheckSpin, moment, startProfiler, type Moment, type Profile } from './cpu-profile.js'

const { n: N, intervalUs, gapMs, out, keep } = parseArgs(process.argv.slice(2))
const WARMUP = Math.min(20, Math.ceil(N / 10))
/** an `other: …` label gets its own row from this mean (µs) in some column */
const OTHER_ROW_US = 50

function parseArgs (args: string[]): { n: number, intervalUs: number, gapMs: number, out: string, keep?: string } {
  const opts: ReturnType<typeof parseArgs> = { n: 300, intervalUs: 500, gapMs: 20, out: 'profile-session.json' }
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--interval' && /^\d+$/.test(args[i + 1] ?? '')) opts.intervalUs = Number(args[++i])
    else if (args[i] === '--gap' && /^\d+$/.test(args[i + 1] ?? '')) opts.gapMs = Number(args[++i])
    else if (args[i] === '--out' && args[i + 1] != null) opts.out = args[++i]
    else if (args[i] === '--keep' && args[i + 1] != null) opts.keep = args[++i]
    else if (/^\d+$/.test(args[i])) opts.n = Number(args[i])
    else throw new Error(`usage: profile-session [N] [--interval µS] [--gap MS] [--out FILE.json] (unknown argument ${args[i]})`)
  }
  return opts
}

/** One round of one dial: its start, its `connection:open`, its end */
interface Round { start: Moment, open: Moment, end: Moment }

// the listener, profiled in its own process
const listenerProfile = keep != null ? join(keep, 'listener.cpuprofile') : join(tmpdir(), `peergate-profile-listener-${process.pid}.cpuprofile`)
const child = spawn(process.execPath, [fileURLToPath(new URL('./bench-listener.js', import.meta.url))], {
  stdio: ['pipe', 'pipe', 'inherit'],
  env: { ...process.env, PEERGATE_PROFILE: listenerProfile, PEERGATE_PROFILE_INTERVAL: String(intervalUs) }
})
/** the listener's window and CPU µs in it, by dialer peer id */
const listenerWindows = new Map<string, { window: [number, number], cpu: number, main: number }>()
let listenerEnd: (msg: { clock: string }) => void = () => {}
const listenerDone = new Promise<{ clock: string }>(resolve => { listenerEnd = resolve })
const addr = multiaddr(await new Promise<string>((resolve, reject) => {
  child.once('exit', (code) => { reject(new Error(`listener exited with ${code}`)) })
  createInterface({ input: child.stdout }).on('line', (line) => {
    const msg = JSON.parse(line)
    if (msg.event === 'ready') resolve(msg.multiaddr)
    else if (msg.event === 'session' && msg.window?.[0] != null) listenerWindows.set(msg.peerId, { window: msg.window, cpu: msg.cpu * 1000, main: msg.mainCpu })
    else if (msg.event === 'cpu') listenerEnd(msg)
  })
}))

const stopProfiler = await startProfiler(intervalUs)
const spin = clockCheckSpin(100)
const peergate = await loadPeergate()

async function bare (): Promise<Round> {
  const node = await createLibp2p({ transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()], services: { identify: identify() } })
  try {
    let open: Moment | undefined
    node.addEventListener('connection:open', () => { open = moment() }, { once: true })
    const end = new Promise<Moment>(resolve => { node.addEventListener('peer:identify', () => { resolve(moment()) }, { once: true }) })
    const start = moment()
    await node.dial(addr)
    return { start, open: open!, end: await end }
  } finally {
    await node.stop()
  }
}

async function session (): Promise<Round & { peerId: string }> {
  const node = await peergate.createPeerNode({ datastore: new MemoryDatastore(), listen: [], chain: { chainId: 'bench-chain' } })
  try {
    let open: Moment | undefined
    node.libp2p.addEventListener('connection:open', () => { open = moment() }, { once: true })
    const end = new Promise<Moment>(resolve => { node.addEventListener('session:open', () => { resolve(moment()) }, { once: true }) })
    const start = moment()
    await node.connect(addr)
    return { start, open: open!, end: await end, peerId: node.peerId.toString() }
  } finally {
    await node.stop()
  }
}

const idle = async (): Promise<void> => { await new Promise(resolve => setTimeout(resolve, gapMs)) }
const bareRounds: Round[] = []
const sessionRounds: Array<Round & { peerId: string }> = []
for (let i = 0; i < WARMUP + N; i++) {
  await idle()
  const b = await bare()
  await idle()
  const s = await session()
  if (i >= WARMUP) {
    bareRounds.push(b)
    sessionRounds.push(s)
  }
}
const dialerProfile = await stopProfiler()
const dialerClock = clockCheck(dialerProfile, spin)
child.stdin.end()
const { clock: listenerClock } = await listenerDone
await new Promise(resolve => child.once('exit', resolve))
const listener = JSON.parse(await readFile(listenerProfile, 'utf8')) as Profile
if (keep != null) await writeFile(join(keep, 'dialer.cpuprofile'), JSON.stringify(dialerProfile))
else await rm(listenerProfile, { force: true })

/** A column: windows (µs) in one process, the process's and its main thread's CPU µs in each */
interface Column { name: string, windows: Array<[number, number]>, cpu: number[], main: number[] }
const span = (name: string, pairs: Array<[Moment, Moment]>): Column =>
  ({ name, windows: pairs.map(([a, b]) => [a.at, b.at]), cpu: pairs.map(([a, b]) => b.cpu - a.cpu), main: pairs.map(([a, b]) => b.main - a.main) })
const before = (rounds: Round[], name: string): Column => span(name, rounds.map(r => [r.start, r.open]))
const after = (rounds: Round[], name: string): Column => span(name, rounds.map(r => [r.open, r.end]))
const inListener = sessionRounds.map(r => listenerWindows.get(r.peerId)).filter(w => w != null)

interface Figures { name: string, n: number, wallUs: number, cpuUs: number, samples: number, labels: Record<string, number>, windows?: Array<[number, number]> }
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)
function figures (samples: ReturnType<typeof categorise>, column: Column): Figures {
  const counts = attribute(samples, column.windows)
  const total = [...counts.values()].reduce((a, b) => a + b, 0)
  const cpuUs = mean(column.cpu)
  const mainUs = mean(column.main)
  const labels: Record<string, number> = { 'other threads': cpuUs - mainUs }
  for (const [label, count] of counts) labels[label] = mainUs * count / total
  if (total === 0) labels['main thread (not sampled)'] = mainUs
  return { name: column.name, n: column.windows.length, wallUs: mean(column.windows.map(([a, b]) => b - a)), cpuUs, samples: total / column.windows.length, labels, windows: keep != null ? column.windows : undefined }
}
/** two columns' sum, or difference with sign -1 */
function combine (name: string, a: Figures, b: Figures, sign = 1): Figures {
  const labels: Record<string, number> = { ...a.labels }
  for (const [label, us] of Object.entries(b.labels)) labels[label] = (labels[label] ?? 0) + sign * us
  return { name, n: a.n, windows: undefined, wallUs: a.wallUs + sign * b.wallUs, cpuUs: a.cpuUs + sign * b.cpuUs, samples: a.samples + sign * b.samples, labels }
}

const dialerSamples = categorise(dialerProfile)
const listenerSamples = categorise(listener)
const bareBefore = figures(dialerSamples, before(bareRounds, 'bare: dial → conn:open'))
const bareAfter = figures(dialerSamples, after(bareRounds, 'bare: conn:open → identify'))
const bareAll = combine('bare: dial → identify', bareBefore, bareAfter)
const pgBefore = figures(dialerSamples, before(sessionRounds, 'peergate: dial → conn:open'))
const pgAfter = figures(dialerSamples, after(sessionRounds, 'peergate: conn:open → session'))
const pgAll = combine('peergate: dial → session', pgBefore, pgAfter)
const dialerTable = [bareBefore, bareAfter, bareAll, pgBefore, pgAfter, pgAll, combine('peergate − bare, whole dial', pgAll, bareAll, -1)]
const listenerTable = [figures(listenerSamples, { name: 'listener: conn:open → session', windows: inListener.map(w => w.window), cpu: inListener.map(w => w.cpu), main: inListener.map(w => w.main) })]

/** rows in category order; small `other: …` labels pooled into `other: rest` */
function rows (table: Figures[]): Array<[string, number[]]> {
  const labels = new Set(table.flatMap(f => Object.keys(f.labels)))
  const order = (label: string): number => label === 'other threads' ? CATEGORIES.length : CATEGORIES.indexOf(label.startsWith('other') ? 'other' : label.split(' ← ')[0])
  const sorted = [...labels].sort((a, b) => order(a) - order(b) || a.localeCompare(b))
  const big = sorted.filter(l => !l.startsWith('other: ') || table.some(f => Math.abs(f.labels[l] ?? 0) >= OTHER_ROW_US))
  const rest = sorted.filter(l => !big.includes(l))
  const out: Array<[string, number[]]> = big.map(l => [l, table.map(f => f.labels[l] ?? 0)])
  if (rest.length > 0) out.splice(-1, 0, ['other: rest', table.map(f => rest.reduce((sum, l) => sum + (f.labels[l] ?? 0), 0))])
  return out
}
const msCell = (us: number): string => (us / 1000).toFixed(2)
function print (title: string, table: Figures[]): void {
  console.info(`\n${title} (mean ms per session, ${table[0].n} sessions)\n`)
  console.info(`| category | ${table.map(f => f.name).join(' | ')} |`)
  console.info(`| --- |${table.map(() => ' ---: |').join('')}`)
  for (const [label, values] of rows(table)) console.info(`| ${label} | ${values.map(msCell).join(' | ')} |`)
  console.info(`| **total: process CPU in the window** | ${table.map(f => `**${msCell(f.cpuUs)}**`).join(' | ')} |`)
  console.info(`| wall time of the window | ${table.map(f => msCell(f.wallUs)).join(' | ')} |`)
  console.info(`| main-thread samples per session | ${table.map(f => f.samples.toFixed(1)).join(' | ')} |`)
  console.info(`| main-thread CPU µs per sample | ${table.map(f => ((f.cpuUs - f.labels['other threads']) / f.samples).toFixed(0)).join(' | ')} |`)
}

const build = buildInfo()
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.versions.node}`
console.info(`profile-session: ${N} rounds (after ${WARMUP} warm-up), ${gapMs} ms apart, sampling every ${intervalUs} µs; peergate ${build.version} (${build.commit ?? 'no commit recorded'}), libp2p ${build.libp2p}; ${machine}; ${new Date().toISOString()}`)
console.info(`clock check, dialer: ${dialerClock}; listener: ${listenerClock}`)
console.info(`median gap between samples: dialer ${dialerSamples.medianGapUs} µs, listener ${listenerSamples.medianGapUs} µs`)
console.info(`listener windows: ${inListener.length} of ${sessionRounds.length} sessions`)
print('Dialer process', dialerTable)
print('Listener process (LevelDB)', listenerTable)
await writeFile(out, JSON.stringify({ command: process.argv.slice(2), n: N, gapMs, intervalUs, machine, commit: build.commit, date: new Date().toISOString(), clock: { dialer: dialerClock, listener: listenerClock }, medianGapUs: { dialer: dialerSamples.medianGapUs, listener: listenerSamples.medianGapUs }, dialer: dialerTable, listener: listenerTable }, null, 1))
console.info(`\nall labels: ${out}`)
