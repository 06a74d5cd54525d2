/**
 * One client process of `npm run bench:sessions`:
 * `node bench-sessions-clients.js <kind> <server multiaddr> <first index> <count> <in flight> <statusMs>`
 *
 * Holds `count` client nodes of `kind`, each its own node with its own peer
 * id, dialing from and listening on its own address in 127.0.0.0/8
 * (`clientAddress(first index + i)`): peergate nodes (createPeerNode on a
 * memory datastore, their dial loop and random walks off, their DHT in
 * client mode, status rounds every `statusMs`) or bare libp2p nodes
 * (TCP + Noise + Yamux + identify), or bare nodes on peergate's stack that
 * play the floor's stand-in for the handshake (bench-sessions-floor.ts).
 * Prints `{"event":"ready"}` once they are all up. On the line `go` it dials
 * the server from every node, `in flight` at a time, each as soon as the last
 * is done (`go <k> [profile file]`: the next `k` nodes that have not dialed
 * yet; with a file, this process's CPU profile of those dials goes there), until
 * each has its session (its own `session:open`), its
 * identified connection (its own `peer:identify`) or, floor, the handshake
 * stand-in's last message; a failed dial is retried
 * at once, up to MAX_ATTEMPTS. Then prints
 * `{"event":"dialed","ok":…,"failed":…,"retries":…,"errors":{name:count},"cpuMs":…}`
 * (`cpuMs`: the CPU time this process used for those dials).
 * On the end of its stdin it prints
 * `{"event":"ends","ends":{reason:count},"busy":…,"loopDelayP99Ms":…,"loopDelayMaxMs":…}`:
 * the sessions of its peergate clients that ended before then, the share of
 * one core the process used since ready and its event loop's delay (a
 * starved client answers pings late, and libp2p's connection monitor aborts
 * connections whose pings time out); then it stops every node.
 */
import { writeFile } from 'node:fs/promises'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { createInterface } from 'node:readline'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { tcp, type TCPSocketOptions } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { MemoryDatastore } from 'datastore-core'
import { createLibp2p } from 'libp2p'
import { createPeerNode } from '../src/index.js'
import { exchange, floorOptions, FLOOR_HANDSHAKE, HANDSHAKE_FRAMES, type BareOptions } from './bench-sessions-floor.js'
import { BENCH_CHAIN_ID, clientAddress, PROFILE_INTERVAL_US, type BenchKind } from './bench-sessions-setup.js'
import { startProfiler } from './cpu-profile.js'

/** attempts per client before it counts as failed */
const MAX_ATTEMPTS = 5
/** one attempt's deadline: twice the handshake's and libp2p's dial deadlines leave room for a loaded machine */
const ATTEMPT_TIMEOUT_MS = 20_000

const [kind, server, first, count, inFlight, statusMs] = process.argv.slice(2) as [BenchKind, string, string, string, string, string]
const FIRST = Number(first)
const COUNT = Number(count)
const IN_FLIGHT = Number(inFlight)
const STATUS_MS = Number(statusMs)
if ((kind !== 'peergate' && kind !== 'bare' && kind !== 'floor') || server == null || !(FIRST >= 0) || !(COUNT > 0) || !(IN_FLIGHT > 0) || !(STATUS_MS > 0)) {
  throw new Error('usage: bench-sessions-clients.js peergate|bare|floor <server multiaddr> <first index> <count> <in flight> <statusMs>')
}
const target = multiaddr(server)

/** TCP dialing from `address`: @libp2p/tcp hands dialOpts to net.connect, whose localAddress its type leaves out */
function fromAddress (address: string): ReturnType<typeof tcp> {
  return tcp({ dialOpts: { localAddress: address } as TCPSocketOptions })
}

/** the clients' sessions that ended before the clients stopped, by reason */
const ends: Record<string, number> = {}
let stopping = false

interface Client {
  /** dials the server; resolves once the client has its session or identified connection */
  dial(signal: AbortSignal): Promise<void>
  stop(): Promise<void>
}

async function peergateClient (address: string): Promise<Client> {
  const node = await createPeerNode({
    datastore: new MemoryDatastore(),
    transports: [fromAddress(address)],
    listen: [`/ip4/${address}/tcp/0`],
    chain: { chainId: BENCH_CHAIN_ID },
    dial: { autoDial: false },
    discovery: false,
    // each client is one peer of the server's, not a DHT of its own: in
    // server mode the clients learn each other from the server's routing
    // table and connect to one another: 100 clients in one process used 15×
    // the CPU of 100 bare clients, most of it in Noise handshakes with one
    // another, and the starved process slowed the server's sessions with it
    // (2.1 accepts/s, against 36/s with the clients in client mode)
    dht: { clientMode: true },
    handshake: { statusInterval: STATUS_MS }
  })
  node.addEventListener('session:close', (evt) => {
    if (!stopping) {
      const key = `${evt.detail.reason} (${evt.detail.side})${evt.detail.message == null ? '' : `: ${evt.detail.message}`}`
      ends[key] = (ends[key] ?? 0) + 1
    }
  })
  return {
    dial: async (signal) => { await node.connect(target, { signal }) },
    stop: async () => { await node.stop() }
  }
}

/** a bare node's options (TCP + Noise + Yamux + identify), dialing from and listening on `address` */
function bareOptions (address: string): BareOptions {
  return {
    addresses: { listen: [`/ip4/${address}/tcp/0`] },
    transports: [fromAddress(address)],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() }
  }
}

async function bareClient (address: string): Promise<Client> {
  const node = await createLibp2p(bareOptions(address))
  return {
    dial: async (signal) => {
      const identified = new Promise<void>((resolve, reject) => {
        const done = (): void => {
          node.removeEventListener('peer:identify', done)
          signal.removeEventListener('abort', aborted)
          resolve()
        }
        const aborted = (): void => {
          node.removeEventListener('peer:identify', done)
          reject(signal.reason)
        }
        node.addEventListener('peer:identify', done)
        signal.addEventListener('abort', aborted, { once: true })
      })
      await node.dial(target, { signal })
      await identified
    },
    stop: async () => { await node.stop() }
  }
}

async function floorClient (address: string): Promise<Client> {
  const node = await createLibp2p(floorOptions('client', bareOptions(address)))
  return {
    dial: async (signal) => {
      const connection = await node.dial(target, { signal })
      await exchange(await connection.newStream(FLOOR_HANDSHAKE, { signal }), HANDSHAKE_FRAMES, 'dialer')
    },
    stop: async () => { await node.stop() }
  }
}

const makeClient = { peergate: peergateClient, bare: bareClient, floor: floorClient }[kind]
const clients: Client[] = []
for (let i = 0; i < COUNT; i++) {
  clients.push(await makeClient(clientAddress(FIRST + i)))
}
// a client process starved of CPU answers pings late, and libp2p's
// connection monitor then aborts its connections: what it had is reported
const loopDelay = monitorEventLoopDelay({ resolution: 20 })
loopDelay.enable()
const cpuAtReady = process.cpuUsage()
const readyAt = performance.now()
process.stdout.write(`${JSON.stringify({ event: 'ready' })}\n`)

/** the next client to dial */
let next = 0

/** dials the next `k` clients, IN_FLIGHT at a time; with `profileFile`, samples this process's CPU meanwhile and writes the profile there */
async function dialNext (k: number, profileFile?: string): Promise<Record<string, unknown>> {
  const stopProfiler = profileFile == null ? undefined : await startProfiler(PROFILE_INTERVAL_US)
  const cpuAtGo = process.cpuUsage()
  const end = Math.min(clients.length, next + k)
  let ok = 0
  let failed = 0
  let retries = 0
  const errors: Record<string, number> = {}
  const worker = async (): Promise<void> => {
    while (next < end) {
      const client = clients[next++]
      for (let attempt = 1; ; attempt++) {
        try {
          await client.dial(AbortSignal.timeout(ATTEMPT_TIMEOUT_MS))
          ok++
          break
        } catch (err: any) {
          const name = `${String(err?.name ?? 'Error')}: ${String(err?.message ?? '').slice(0, 120)}`
          errors[name] = (errors[name] ?? 0) + 1
          if (attempt === MAX_ATTEMPTS) {
            failed++
            break
          }
          retries++
        }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, end - next) }, worker))
  const used = process.cpuUsage(cpuAtGo)
  if (stopProfiler != null && profileFile != null) {
    await writeFile(profileFile, JSON.stringify(await stopProfiler()))
  }
  return { event: 'dialed', ok, failed, retries, errors, cpuMs: (used.user + used.system) / 1000 }
}

const lines = createInterface({ input: process.stdin })
lines.on('line', (line) => {
  const [command, k, profileFile] = line.split(' ')
  if (command === 'go') {
    void dialNext(k == null ? clients.length : Number(k), profileFile).then(result => { process.stdout.write(`${JSON.stringify(result)}\n`) })
  }
})
lines.on('close', () => {
  stopping = true
  loopDelay.disable()
  const used = process.cpuUsage(cpuAtReady)
  process.stdout.write(`${JSON.stringify({
    event: 'ends',
    ends,
    busy: (used.user + used.system) / 1000 / (performance.now() - readyAt),
    loopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    loopDelayMaxMs: loopDelay.max / 1e6
  })}\n`)
  void (async () => {
    await Promise.allSettled(clients.map(async client => { await client.stop() }))
    process.exit(0)
  })()
})
