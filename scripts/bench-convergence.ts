/**
 * npm run bench:convergence [-- N]
 *
 * N peergate nodes (default 50), each its own libp2p node with its own
 * LevelDB data dir, on 127.0.0.1, in one process; the first is the bootstrap
 * node and the others know only its address. The default dial loop (1 s tick,
 * 10 dials per tick) and random walks, and `maxPeers` 25 (8 outbound, 17
 * inbound): with the default of 50 peers a 50-node network is one full mesh,
 * where a node whose every peer already dialed in has nobody left to dial.
 * Prints how long until every node has its outbound target (target ≤ 30 s),
 * counted from the first node's start, when each quarter of the nodes got
 * there, and the sessions and connections at the end.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createPeerNode, type PeerNode } from '../src/index.js'
import { percentile } from './stats.js'

const N = Number(process.argv[2] ?? process.env.BENCH_N ?? 50)
const MAX_PEERS = Number(process.env.BENCH_MAX_PEERS ?? 25)
const TIMEOUT_MS = 120_000
const root = await mkdtemp(join(tmpdir(), 'peergate-bench-convergence-'))

async function start (i: number, bootstrap?: string): Promise<PeerNode> {
  return createPeerNode({
    dataDir: join(root, `node-${i}`),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    chain: { chainId: 'bench-chain' },
    bootstrap: bootstrap == null ? [] : [bootstrap],
    limits: { maxPeers: MAX_PEERS, ipLimitExempt: ['127.0.0.0/8'] },
    // fifty hosts simulated on 127.0.0.1: the limit of inbound sessions per
    // IP (loopback exempt), the per-IP handshake cap and
    // inboundConnectionThreshold (raised below) are per-host limits; and fifty nodes share
    // one event loop, where a hello can wait behind other nodes' work longer
    // than the 2 s first-message deadline (a node in its own process does
    // not), so the deadline gets the handshake's whole 5 s
    handshake: { maxInboundHandshakesPerIp: 1_000, firstMessageTimeout: 5_000 },
    connectionManager: { inboundConnectionThreshold: Infinity, maxIncomingPendingConnections: 1_000 }
  })
}

const nodes: PeerNode[] = []
try {
  const t0 = performance.now()
  const boot = await start(0)
  nodes.push(boot)
  const bootstrap = boot.getMultiaddrs()[0].toString()
  nodes.push(...await Promise.all(Array.from({ length: N - 1 }, async (_, i) => start(i + 1, bootstrap))))
  const started = performance.now() - t0
  const target = nodes[0].status().sessions.targetOutbound

  const reached = new Map<PeerNode, number>()
  const deadline = t0 + TIMEOUT_MS
  while (reached.size < nodes.length && performance.now() < deadline) {
    for (const node of nodes) {
      if (!reached.has(node) && node.status().sessions.outbound >= target) {
        reached.set(node, performance.now() - t0)
      }
    }
    await new Promise(resolve => setTimeout(resolve, 50))
  }

  const times = [...reached.values()].sort((a, b) => a - b)
  const all = reached.size === nodes.length ? times[times.length - 1] : Number.NaN
  const s = (ms: number): string => (ms / 1000).toFixed(1)
  console.info(`bench-convergence: ${N} nodes from one bootstrap address, maxPeers ${MAX_PEERS}, outbound target ${target} each (all started after ${s(started)} s)`)
  console.info(`every node at its outbound target after ${reached.size === nodes.length ? `${s(all)} s` : `- (only ${reached.size}/${N} within ${s(TIMEOUT_MS)} s)`} (target ≤ 30 s)`)
  console.info(`  p25 ${s(percentile(times, 25))} s, p50 ${s(percentile(times, 50))} s, p75 ${s(percentile(times, 75))} s, last ${s(times[times.length - 1])} s`)
  let sessions = 0
  let auxiliary = 0
  for (const node of nodes) {
    const status = node.status()
    sessions += status.sessions.inbound + status.sessions.outbound
    auxiliary += status.connections.auxiliary
  }
  console.info(`  at the end: ${sessions / 2} sessions, ${auxiliary} auxiliary (DHT) connection ends, peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`)
} finally {
  await Promise.allSettled(nodes.map(async node => node.stop()))
  await rm(root, { recursive: true, force: true })
}
