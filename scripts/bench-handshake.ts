/**
 * npm run bench:handshake [-- N]
 *
 * In one run, alternates N bare libp2p connections (TCP+Noise+Yamux, dial until
 * `peer:identify`) with N peergate connections (dial until `session:open` on
 * both sides) against the same listening peergate node, which runs in its own
 * process. Each dial comes from a fresh node (new peer id, new DID key) whose
 * set-up is not timed. Prints p50/p90 of both and the ratio session/bare.
 */
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { MemoryDatastore } from 'datastore-core'
import { createLibp2p } from 'libp2p'
import { createPeerNode } from '../src/index.js'
import { summarize, type Summary } from './stats.js'

const N = Number(process.argv[2] ?? process.env.BENCH_N ?? 200)
const WARMUP = Math.min(20, Math.ceil(N / 10))
const now = (): number => performance.timeOrigin + performance.now()

const listener = spawn(process.execPath, [fileURLToPath(new URL('./bench-listener.js', import.meta.url))], {
  stdio: ['pipe', 'pipe', 'inherit']
})
const lines = createInterface({ input: listener.stdout })
const sessionSeen = new Map<string, (at: number) => void>()
const ready = new Promise<string>((resolve, reject) => {
  listener.once('exit', (code) => { reject(new Error(`listener exited with ${code}`)) })
  lines.on('line', (line) => {
    const msg = JSON.parse(line)
    if (msg.event === 'ready') {
      resolve(msg.multiaddr)
    } else if (msg.event === 'session') {
      sessionSeen.get(msg.peerId)?.(msg.at)
    }
  })
})
const target = multiaddr(await ready)

async function bare (): Promise<number> {
  const node = await createLibp2p({
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() }
  })
  try {
    const identified = new Promise<number>(resolve => {
      node.addEventListener('peer:identify', () => { resolve(now()) }, { once: true })
    })
    const start = now()
    await node.dial(target)
    return (await identified) - start
  } finally {
    await node.stop()
  }
}

async function session (): Promise<number> {
  const node = await createPeerNode({ datastore: new MemoryDatastore(), listen: [], chain: { chainId: 'bench-chain' } })
  try {
    const atListener = new Promise<number>(resolve => { sessionSeen.set(node.peerId.toString(), resolve) })
    const start = now()
    await node.connect(target)
    const atDialer = now()
    const end = Math.max(atDialer, await atListener)
    sessionSeen.delete(node.peerId.toString())
    return end - start
  } finally {
    await node.stop()
  }
}

const bareMs: number[] = []
const sessionMs: number[] = []
for (let i = 0; i < WARMUP + N; i++) {
  const b = await bare()
  const s = await session()
  if (i >= WARMUP) {
    bareMs.push(b)
    sessionMs.push(s)
  }
}

listener.stdin.end()
await new Promise(resolve => listener.once('exit', resolve))

const fmt = (s: Summary): string => `p50 ${s.p50.toFixed(2)} ms  p90 ${s.p90.toFixed(2)} ms  mean ${s.mean.toFixed(2)} ms`
const b = summarize(bareMs)
const s = summarize(sessionMs)
console.info(`bench-handshake: ${N} bare and ${N} peergate connections, alternating, listener in its own process`)
console.info(`bare libp2p (dial → peer:identify):          ${fmt(b)}`)
console.info(`peergate (dial → session:open on both sides): ${fmt(s)}`)
console.info(`ratio session/bare: p50 ${(s.p50 / b.p50).toFixed(3)} (target ≤ 1.10)  p90 ${(s.p90 / b.p90).toFixed(3)} (target ≤ 1.25)`)
