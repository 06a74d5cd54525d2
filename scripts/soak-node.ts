/**
 * The observed node of `npm run soak`, in its own process as a real node is:
 * a peergate node on a LevelDB data dir with gossip on, status rounds every
 * `statusInterval` ms, subscribed to the soak topic. Prints
 * `{"event":"ready","multiaddr":…}` once, then on every line of its stdin a
 * sample: `{"event":"sample","at":…,"heapMB":…,"rssMB":…,"arrayBuffersMB":…,"timers":…,
 * "sessions":…,"handshakes":…,"connections":…,"listeners":…,"received":…,
 * "codeMB":…,"bookAddrs":…,"storeAddrs":…}`
 * (after a GC when node runs with --expose-gc), and on `sample FILE` writes
 * a heap snapshot to FILE as well; stops on the end of stdin.
 *
 * node soak-node.js <statusIntervalMs>
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8'
import { createPeerNode } from '../src/index.js'

const SOAK_TOPIC = 'soak'
const statusInterval = Number(process.argv[2] ?? 5_000)
const dataDir = await mkdtemp(join(tmpdir(), 'peergate-soak-'))
const node = await createPeerNode({
  dataDir,
  listen: ['/ip4/127.0.0.1/tcp/0'],
  chain: { chainId: 'soak-chain' },
  pubsub: true,
  handshake: { statusInterval },
  // the churning peers all dial from 127.0.0.1
  limits: { ipLimitExempt: ['127.0.0.0/8'] },
  connectionManager: { inboundConnectionThreshold: Infinity }
})
let received = 0
node.pubsub.addEventListener('message', () => { received++ })
node.pubsub.subscribe(SOAK_TOPIC)

const SESSION_EVENTS = ['handshake:start', 'session:open', 'session:close', 'session:reject', 'session:status']
const sessions = node.libp2p.services.sessions as unknown as { listenerCount(type: string): number }

/**
 * the addresses the node keeps for the peers it has met: in its address book
 * and in libp2p's peer store (which drops an address an hour after it was
 * last seen). A peer that comes back on a new port brings a new one.
 */
async function addresses (): Promise<{ bookAddrs: number, storeAddrs: number }> {
  let bookAddrs = 0
  node.libp2p.services.addressBook.forEach(contact => { bookAddrs += contact.multiaddrs.length })
  let storeAddrs = 0
  for (const peer of await node.libp2p.peerStore.all()) {
    storeAddrs += peer.addresses.length
  }
  return { bookAddrs, storeAddrs }
}

async function sample (): Promise<Record<string, unknown>> {
  const counted = await addresses()
  const gc = (globalThis as { gc?: () => void }).gc
  gc?.()
  const memory = process.memoryUsage()
  return {
    event: 'sample',
    at: Date.now(),
    heapMB: memory.heapUsed / 2 ** 20,
    // of which V8's compiled code and bytecode (its code and trusted spaces): it
    // grows as more of the program gets hot and is optimized, not with what the node holds
    codeMB: getHeapSpaceStatistics()
      .filter(space => /code|trusted/.test(space.space_name))
      .reduce((sum, space) => sum + space.space_used_size, 0) / 2 ** 20,
    rssMB: memory.rss / 2 ** 20,
    // ArrayBuffers live outside the heap: a small view kept for long holds its whole buffer here
    arrayBuffersMB: memory.arrayBuffers / 2 ** 20,
    timers: process.getActiveResourcesInfo().filter(r => r === 'Timeout').length,
    sessions: node.sessions().length,
    handshakes: node.libp2p.services.sessions.handshakes().length,
    connections: node.libp2p.getConnections().length,
    listeners: SESSION_EVENTS.reduce((n, type) => n + sessions.listenerCount(type), 0),
    received,
    ...counted
  }
}

process.stdout.write(`${JSON.stringify({ event: 'ready', multiaddr: node.getMultiaddrs()[0].toString() })}\n`)
const lines = createInterface({ input: process.stdin })
lines.on('line', (line) => {
  const [, snapshot] = line.split(' ')
  void sample().then(s => {
    if (snapshot != null) {
      // after the sample's GC
      writeHeapSnapshot(snapshot)
    }
    process.stdout.write(`${JSON.stringify(s)}\n`)
  })
})
lines.on('close', () => {
  void (async () => {
    await node.stop()
    await rm(dataDir, { recursive: true, force: true })
    process.exit(0)
  })()
})
