/**
 * npm run soak [-- --minutes 30] [--peers 19] [--churn-ms 3000] [--publish-ms 500] [--status-ms 5000] [--sample-s 10] [--identities K] [--out FILE.json] [--snapshots DIR]
 *
 * A soak of one node (issue 22 item 3): the observed peergate node runs in
 * its own process (scripts/soak-node.ts: LevelDB data dir, gossip on, status
 * rounds sped up to `--status-ms`); this process runs `--peers` peergate
 * nodes that connect to it and to each other (they bootstrap from it), and
 * churns them: every `--churn-ms` one peer stops (with its Goodbye) and a new
 * one, with a new identity, joins; with `--identities K` the joiners are K
 * nodes that come and go (each keeps its data, and so its peer id and DID,
 * between its visits), so that what the observed node holds per identity it
 * ever met stays put and any growth left is a leak. One peer publishes a gossip message every
 * `--publish-ms`. Every `--sample-s` the observed node reports its heap (after
 * a GC), RSS, timers, sessions, handshakes, connections and session-event
 * listeners.
 *
 * At the end every peer stops, and once the observed node is idle its counts
 * are compared with the baseline it had before any peer came. The report:
 * heap and RSS slopes after the warm-up (the first fifth), in MB per hour by
 * least squares, with the residuals' spread as the noise they are judged
 * against; the heap's split into V8's compiled code and bytecode (which grow
 * as more of the program is optimized) and the rest, what the node's objects
 * hold; the addresses it keeps for peers (a joiner listens on a new port at
 * each visit); and the end counts against the baseline. `--out` writes every
 * sample as JSON. `--snapshots DIR` has the observed node write a heap
 * snapshot with its sample at the end of the warm-up and with its last
 * sample (`soak-warm.heapsnapshot`, `soak-end.heapsnapshot`), to see what grew.
 */
import { spawn } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { MemoryDatastore } from 'datastore-core'
import { createPeerNode, type PeerNode } from '../src/index.js'
import { linearFit } from './stats.js'

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    peers: { type: 'string', default: '19' },
    'churn-ms': { type: 'string', default: '3000' },
    'publish-ms': { type: 'string', default: '500' },
    'status-ms': { type: 'string', default: '5000' },
    'sample-s': { type: 'string', default: '10' },
    // heap snapshots of the observed node at the end of the warm-up and at the end of the run
    snapshots: { type: 'string' },
    identities: { type: 'string', default: '0' },
    out: { type: 'string' }
  }
})
const MINUTES = Number(values.minutes)
const PEERS = Number(values.peers)
const CHURN_MS = Number(values['churn-ms'])
const PUBLISH_MS = Number(values['publish-ms'])
const STATUS_MS = Number(values['status-ms'])
const SAMPLE_MS = Number(values['sample-s']) * 1000
const IDENTITIES = Number(values.identities)
if (!Number.isInteger(IDENTITIES) || IDENTITIES < 0 || (IDENTITIES > 0 && IDENTITIES < PEERS + 2)) {
  throw new Error(`--identities must be 0 (a new identity per join) or at least --peers + 2 (${PEERS + 2}): a joiner starts before the peer it replaces stops`)
}
for (const [name, value] of Object.entries({ minutes: MINUTES, peers: PEERS, 'churn-ms': CHURN_MS, 'publish-ms': PUBLISH_MS, 'status-ms': STATUS_MS, 'sample-s': SAMPLE_MS })) {
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`--${name} must be a positive number`)
  }
}
/** how long the observed node gets to settle after the last peer stopped */
const SETTLE_MS = 15_000
const SOAK_TOPIC = 'soak'

interface Sample {
  at: number
  heapMB: number
  codeMB: number
  rssMB: number
  arrayBuffersMB: number
  timers: number
  sessions: number
  handshakes: number
  connections: number
  listeners: number
  received: number
  bookAddrs: number
  storeAddrs: number
}

const child = spawn(process.execPath, ['--expose-gc', fileURLToPath(new URL('./soak-node.js', import.meta.url)), String(STATUS_MS)], { stdio: ['pipe', 'pipe', 'inherit'] })
const lines = createInterface({ input: child.stdout })
let onSample: ((sample: Sample) => void) | undefined
const addr = await new Promise<string>((resolve, reject) => {
  child.once('exit', (code) => { reject(new Error(`the observed node exited with ${code}`)) })
  lines.on('line', (line) => {
    const msg = JSON.parse(line)
    if (msg.event === 'ready') {
      resolve(msg.multiaddr)
    } else if (msg.event === 'sample') {
      onSample?.(msg)
    }
  })
})

async function sample (snapshot?: string): Promise<Sample> {
  return new Promise(resolve => {
    onSample = resolve
    child.stdin.write(snapshot == null ? 'sample\n' : `sample ${snapshot}\n`)
  })
}

async function delay (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

let joined = 0
/** --identities: the joiners' data, by identity, and which are in the network now */
const pool = Array.from({ length: IDENTITIES }, () => new MemoryDatastore())
const inUse = new Set<MemoryDatastore>()
function identity (): MemoryDatastore {
  if (pool.length === 0) {
    return new MemoryDatastore()
  }
  const free = pool.filter(store => !inUse.has(store))
  const store = free[Math.floor(Math.random() * free.length)]
  inUse.add(store)
  return store
}
const storeOf = new Map<PeerNode, MemoryDatastore>()
async function peer (): Promise<PeerNode> {
  joined++
  const datastore = identity()
  const node = await createPeerNode({
    datastore,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    bootstrap: [addr],
    chain: { chainId: 'soak-chain' },
    pubsub: true,
    handshake: { statusInterval: STATUS_MS },
    // the peers all dial each other from 127.0.0.1
    limits: { ipLimitExempt: ['127.0.0.0/8'] },
    connectionManager: { inboundConnectionThreshold: Infinity }
  })
  node.pubsub.subscribe(SOAK_TOPIC)
  storeOf.set(node, datastore)
  return node
}

/** stops a peer; its identity may join again */
async function leave (node: PeerNode): Promise<void> {
  await node.stop()
  const store = storeOf.get(node)
  storeOf.delete(node)
  if (store != null) {
    inUse.delete(store)
  }
}

await delay(2_000)
const baseline = await sample()
console.info(`soak: ${MINUTES} min, ${PEERS} peers churned every ${CHURN_MS} ms, a gossip message every ${PUBLISH_MS} ms, status rounds every ${STATUS_MS} ms; ${IDENTITIES === 0 ? 'a new identity per join' : `joiners from ${IDENTITIES} identities that come and go`}; baseline ${JSON.stringify(baseline)}`)

const peers: PeerNode[] = []
for (let i = 0; i < PEERS; i++) {
  peers.push(await peer())
}
const samples: Sample[] = []
const start = Date.now()
const end = start + MINUTES * 60_000
let published = 0
const publisher = setInterval(() => {
  const from = peers[Math.floor(Math.random() * peers.length)]
  from?.pubsub.publish(SOAK_TOPIC, new TextEncoder().encode(`soak message ${published++} at ${Date.now()}`)).catch(() => {})
}, PUBLISH_MS)
/** churn steps under way: the end waits for them, so that a joiner they start is stopped with the rest */
const churning = new Set<Promise<void>>()
const churn = setInterval(() => {
  if (pool.length > 0 && pool.every(store => inUse.has(store))) {
    // every identity is in the network or still joining: this round skips
    return
  }
  const k = Math.floor(Math.random() * peers.length)
  const leaving = peers[k]
  const step = (async () => {
    const next = await peer()
    peers[k] = next
    await leave(leaving)
  })().catch(err => { console.error('churn failed:', err) })
  churning.add(step)
  void step.finally(() => churning.delete(step))
}, CHURN_MS)

let nextSample = start + SAMPLE_MS
let warmSnapshot = values.snapshots == null ? undefined : join(values.snapshots, 'soak-warm.heapsnapshot')
while (Date.now() < end) {
  await delay(Math.max(0, nextSample - Date.now()))
  nextSample += SAMPLE_MS
  const last = nextSample >= end
  const snapshot = last && values.snapshots != null ? join(values.snapshots, 'soak-end.heapsnapshot') : Date.now() >= start + (end - start) / 5 ? warmSnapshot : undefined
  if (snapshot === warmSnapshot) {
    warmSnapshot = undefined
  }
  const s = await sample(snapshot)
  samples.push(s)
  const minute = ((s.at - start) / 60_000).toFixed(1)
  console.info(`  ${minute.padStart(5)} min  heap ${s.heapMB.toFixed(1)} MB (code ${s.codeMB.toFixed(1)})  rss ${s.rssMB.toFixed(1)} MB  array buffers ${s.arrayBuffersMB.toFixed(1)} MB  sessions ${s.sessions}  connections ${s.connections}  handshakes ${s.handshakes}  timers ${s.timers}  listeners ${s.listeners}  received ${s.received}  addresses: book ${s.bookAddrs} peer store ${s.storeAddrs}`)
}
clearInterval(publisher)
clearInterval(churn)
await Promise.allSettled([...churning])
await Promise.all(peers.map(async p => { await p.stop() }))
await delay(SETTLE_MS)
const final = await sample()
child.stdin.end()

const warm = samples.filter(s => s.at >= start + (end - start) / 5)
const hours = (s: Sample): number => (s.at - start) / 3_600_000
const heap = linearFit(warm.map(s => [hours(s), s.heapMB]))
const code = linearFit(warm.map(s => [hours(s), s.codeMB]))
const data = linearFit(warm.map(s => [hours(s), s.heapMB - s.codeMB]))
const rss = linearFit(warm.map(s => [hours(s), s.rssMB]))
const arrayBuffers = linearFit(warm.map(s => [hours(s), s.arrayBuffersMB]))
console.info(`\nafter the warm-up (${warm.length} samples, the first fifth dropped), least squares:`)
console.info(`  heap: ${heap.slope.toFixed(2)} MB/hour (residuals' spread ${heap.residualSd.toFixed(2)} MB; over the run ${(heap.slope * MINUTES / 60).toFixed(2)} MB)`)
console.info(`    of which compiled code and bytecode: ${code.slope.toFixed(2)} MB/hour (residuals' spread ${code.residualSd.toFixed(2)} MB; over the run ${(code.slope * MINUTES / 60).toFixed(2)} MB)`)
console.info(`    the rest (what the node's objects hold): ${data.slope.toFixed(2)} MB/hour (residuals' spread ${data.residualSd.toFixed(2)} MB; over the run ${(data.slope * MINUTES / 60).toFixed(2)} MB)`)
console.info(`  RSS:  ${rss.slope.toFixed(2)} MB/hour (residuals' spread ${rss.residualSd.toFixed(2)} MB; over the run ${(rss.slope * MINUTES / 60).toFixed(2)} MB)`)
console.info(`  array buffers (outside the heap): ${arrayBuffers.slope.toFixed(2)} MB/hour (residuals' spread ${arrayBuffers.residualSd.toFixed(2)} MB; over the run ${(arrayBuffers.slope * MINUTES / 60).toFixed(2)} MB)`)
console.info(`peers joined ${joined}, messages published ${published}, received by the observed node ${final.received}`)
console.info(`at the end, ${SETTLE_MS / 1000} s after the last peer stopped, against the baseline before any peer:`)
for (const key of ['sessions', 'handshakes', 'connections', 'timers', 'listeners'] as const) {
  console.info(`  ${key.padEnd(12)} ${String(final[key]).padStart(4)} (baseline ${baseline[key]})${final[key] > baseline[key] ? '  ← above the baseline' : ''}`)
}
if (values.out != null) {
  await writeFile(values.out, JSON.stringify({ minutes: MINUTES, peers: PEERS, identities: IDENTITIES, churnMs: CHURN_MS, publishMs: PUBLISH_MS, statusMs: STATUS_MS, baseline, final, samples, heap, code, data, rss, arrayBuffers }, null, 1))
}
process.exit(0)
