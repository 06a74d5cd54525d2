/**
 * The peers of `npm run bench:flood`, each in its own process as a user meets
 * them. `node bench-flood-peer.js ROLE ...`:
 *
 * - `target`: a peergate node on a LevelDB data dir serving BENCH_PROTOCOL
 *   with the default rate limit. Prints `{"event":"ready","multiaddr":…}`;
 *   on the end of its stdin, what it saw: `{"event":"target",…}` (rate-limit
 *   reports per peer, sessions ended per peer with their reasons); every
 *   250 ms the CPU time it has used, `{"event":"cpu","at":…,"ms":…}`.
 * - `honest ADDR HOST INTERVAL_MS`: dials ADDR from HOST (a loopback address
 *   of its own) and makes one request every INTERVAL_MS until its stdin
 *   ends; prints `{"event":"ready","peerId":…}` once its session is open,
 *   then `{"event":"sample","at":<epoch ms>,"ms":…,"ok":…}` per request.
 * - `flooder ADDR HOST RATE SECONDS`: dials ADDR from HOST and sends RATE
 *   requests a second for SECONDS (at most DEFAULT_MAX_IN_FLIGHT_PER_PEER in
 *   flight, the responder's own limit, so that every refusal it gets is the
 *   rate limit's); prints `{"event":"flooding","at":…,"peerId":…}` when it
 *   starts and `{"event":"flooder",…}` with its counts when done.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { tcp, type TCPSocketOptions } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { MemoryDatastore } from 'datastore-core'
import { RATE_LIMIT_REASON_PREFIX, ResultCode, createPeerNode } from '../src/index.js'
import { MAX_SESSIONS_LIMIT } from '../src/node/constants.js'
import { DEFAULT_MAX_IN_FLIGHT_PER_PEER } from '../src/protocols/index.js'
import type { PeerNode } from '../src/index.js'
import type { PeerId } from '@libp2p/interface'

/** The protocol the bench requests: an echo, so that the handler's cost is the framework's */
export const BENCH_PROTOCOL = '/bench-flood/echo/1.0.0'
const CHAIN = { chainId: 'bench-chain' }
/** how often the target prints the CPU time it has used */
const CPU_SAMPLE_MS = 250
const now = (): number => performance.timeOrigin + performance.now()
const say = (msg: object): void => { process.stdout.write(`${JSON.stringify(msg)}\n`) }
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

/** Resolves when this process's stdin ends (the orchestrator is done with it) */
const stdinEnded = new Promise<void>(resolve => {
  process.stdin.on('end', resolve)
  process.stdin.resume()
})

/** A dialing peer on its own loopback address, its session with `addr` open */
async function dialer (addr: string, host: string): Promise<{ node: PeerNode, peer: PeerId }> {
  const node = await createPeerNode({
    datastore: new MemoryDatastore(),
    listen: [],
    chain: CHAIN,
    dial: { autoDial: false },
    discovery: false,
    // @libp2p/tcp hands dialOpts to net.connect, whose localAddress its type leaves out
    transports: [tcp({ dialOpts: { localAddress: host } as TCPSocketOptions })]
  })
  const session = await node.connect(multiaddr(addr))
  return { node, peer: session.peerId }
}

async function target (): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'peergate-bench-flood-'))
  const node = await createPeerNode({
    dataDir,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    chain: CHAIN,
    dial: { autoDial: false },
    discovery: false,
    limits: { maxInboundSessions: MAX_SESSIONS_LIMIT },
    connectionManager: { inboundConnectionThreshold: Infinity }
  })
  // the default rate limit: what the bench measures
  await node.handleRequests(BENCH_PROTOCOL, (request) => request)
  const limited = new Map<string, number>()
  const ended: Array<{ peerId: string, reason: string, side: string, at: number }> = []
  node.addEventListener('peer:report', (evt) => {
    if (evt.detail.reason.startsWith(RATE_LIMIT_REASON_PREFIX)) {
      const peer = evt.detail.peerId.toString()
      limited.set(peer, (limited.get(peer) ?? 0) + 1)
    }
  })
  node.addEventListener('session:close', (evt) => {
    ended.push({ peerId: evt.detail.session.peerId.toString(), reason: evt.detail.reason, side: evt.detail.side, at: now() })
  })
  const bans = (): string[] => [...node.bans().keys()]
  say({ event: 'ready', multiaddr: node.getMultiaddrs()[0].toString() })
  // the CPU this process has used, so that the bench can say what the flood cost the node itself
  const cpu = setInterval(() => {
    const used = process.cpuUsage()
    say({ event: 'cpu', at: now(), ms: (used.user + used.system) / 1000 })
  }, CPU_SAMPLE_MS)
  await stdinEnded
  clearInterval(cpu)
  say({ event: 'target', limited: Object.fromEntries(limited), ended, bans: bans() })
  await node.stop()
  await rm(dataDir, { recursive: true, force: true })
}

async function honest (addr: string, host: string, intervalMs: number): Promise<void> {
  const { node, peer } = await dialer(addr, host)
  say({ event: 'ready', peerId: node.peerId.toString() })
  let done = false
  void stdinEnded.then(() => { done = true })
  const payload = new Uint8Array(32)
  while (!done) {
    const started = now()
    let ok = true
    let code: string | undefined
    try {
      await node.request(peer, BENCH_PROTOCOL, payload)
    } catch (err: any) {
      ok = false
      code = err.code ?? err.name
    }
    const ended = now()
    say({ event: 'sample', at: started, ms: ended - started, ok, code })
    await sleep(Math.max(0, intervalMs - (ended - started)))
  }
  await node.stop()
}

async function flooder (addr: string, host: string, rate: number, seconds: number): Promise<void> {
  const { node, peer } = await dialer(addr, host)
  let sessionEnd: { reason: string, side: string, at: number } | undefined
  node.addEventListener('session:close', (evt) => {
    sessionEnd ??= { reason: evt.detail.reason, side: evt.detail.side, at: now() }
  })
  const counts = { sent: 0, served: 0, rateLimited: 0, inFlightRefused: 0, notSent: 0, cutBySessionEnd: 0, failed: 0, otherErrors: {} as Record<string, number> }
  const start = now()
  say({ event: 'flooding', at: start, peerId: node.peerId.toString() })
  const gapMs = 1000 / rate
  const inFlight = new Set<Promise<void>>()
  for (let i = 0; now() - start < seconds * 1000; i++) {
    // paced: request i goes at start + i × gap, whatever the last ones took
    const wait = start + i * gapMs - now()
    if (wait > 0) {
      await sleep(wait)
    }
    if (inFlight.size >= DEFAULT_MAX_IN_FLIGHT_PER_PEER || node.session(peer) == null) {
      // over the responder's in-flight limit, or no session: not sent
      counts.notSent++
      continue
    }
    counts.sent++
    const one = node.request(peer, BENCH_PROTOCOL, Uint8Array.of(1)).then(() => { counts.served++ }, (err: any) => {
      if (err.code === ResultCode.RESOURCE_UNAVAILABLE && /^rate limited/.test(err.remoteMessage ?? '')) {
        counts.rateLimited++
      } else if (err.code === ResultCode.RESOURCE_UNAVAILABLE) {
        counts.inFlightRefused++
      } else if (node.session(peer) == null) {
        // in flight when the session ended (the peer score disconnected the flooder)
        counts.cutBySessionEnd++
      } else {
        counts.failed++
        counts.otherErrors[err.name] = (counts.otherErrors[err.name] ?? 0) + 1
      }
    })
    const tracked = one.finally(() => { inFlight.delete(tracked) })
    inFlight.add(tracked)
  }
  await Promise.allSettled([...inFlight])
  say({ event: 'flooder', start, end: now(), ...counts, sessionEnd })
  await stdinEnded
  await node.stop()
}

const [role, ...args] = process.argv.slice(2)
if (role === 'target') {
  await target()
} else if (role === 'honest') {
  await honest(args[0], args[1], Number(args[2]))
} else if (role === 'flooder') {
  await flooder(args[0], args[1], Number(args[2]), Number(args[3]))
} else {
  throw new Error(`usage: bench-flood-peer target | honest ADDR HOST INTERVAL_MS | flooder ADDR HOST RATE SECONDS (got ${String(role)})`)
}
process.exit(0)
