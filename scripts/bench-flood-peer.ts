/**
 * The peers of `npm run bench:flood`, each in its own process as a user meets
 * them. `node bench-flood-peer.js ROLE ...`:
 *
 * - `target [FLOODER]`: a peergate node on a LevelDB data dir serving BENCH_PROTOCOL
 *   with the default rate limit. Prints `{"event":"ready","multiaddr":…}`;
 *   on the end of its stdin, what it saw: `{"event":"target",…}` (rate-limit
 *   reports per peer, sessions ended per peer with their reasons); every
 *   250 ms the CPU time it has used, `{"event":"cpu","at":…,"ms":…}`.
 * - `honest ADDR HOST INTERVAL_MS`: dials ADDR from HOST (a loopback address
 *   of its own) and makes one request every INTERVAL_MS until its stdin
 *   ends; prints `{"event":"ready","peerId":…}` once its session is open,
 *   then `{"event":"sample","at":<epoch ms>,"ms":…,"ok":…}` per request.
 * - `flooder ADDR HOST RATE SECONDS [KEY]` (KEY: its private key, hex protobuf, for --sustained): dials ADDR from HOST and sends RATE
 *   requests a second for SECONDS (at most DEFAULT_MAX_IN_FLIGHT_PER_PEER in
 *   flight, the responder's own limit, so that every refusal it gets is the
 *   rate limit's); when its session ends it dials again once a second, as an
 *   attacker would, and floods on over each new session; prints `{"event":"flooding","at":…,"peerId":…}` when it
 *   starts and `{"event":"flooder",…}` with its counts when done.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { privateKeyFromProtobuf } from '@libp2p/crypto/keys'
import { fromString as uint8ArrayFromString } from 'uint8arrays/from-string'
import { tcp, type TCPSocketOptions } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { MemoryDatastore } from 'datastore-core'
import { RATE_LIMIT_REASON_PREFIX, ResultCode, createPeerNode } from '../src/index.js'
import { MAX_SESSIONS_LIMIT } from '../src/node/constants.js'
import { DEFAULT_MAX_IN_FLIGHT_PER_PEER } from '../src/protocols/index.js'
import type { PeerNode } from '../src/index.js'
import type { PeerId, PrivateKey } from '@libp2p/interface'

/** The protocol the bench requests: an echo, so that the handler's cost is the framework's */
export const BENCH_PROTOCOL = '/bench-flood/echo/1.0.0'
const CHAIN = { chainId: 'bench-chain' }
/** how often the target prints the CPU time it has used */
const CPU_SAMPLE_MS = 250
/** a request that failed this long before its session's end was cut short by it (its stream ended first) */
const SESSION_END_LAG_MS = 1_000
/** a flooder that lost its session dials the target again this often */
const RECONNECT_INTERVAL_MS = 1_000
const now = (): number => performance.timeOrigin + performance.now()
const say = (msg: object): void => { process.stdout.write(`${JSON.stringify(msg)}\n`) }
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

/** Resolves when this process's stdin ends (the orchestrator is done with it) */
const stdinEnded = new Promise<void>(resolve => {
  process.stdin.on('end', resolve)
  process.stdin.resume()
})

/** A dialing peer on its own loopback address, its session with `addr` open */
async function dialer (addr: string, host: string, privateKey?: PrivateKey): Promise<{ node: PeerNode, peer: PeerId }> {
  const node = await createPeerNode({
    privateKey,
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

async function target (reservedFlooder: string | undefined): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'peergate-bench-flood-'))
  const node = await createPeerNode({
    dataDir,
    listen: ['/ip4/127.0.0.1/tcp/0'],
    chain: CHAIN,
    dial: { autoDial: false },
    discovery: false,
    limits: { maxInboundSessions: MAX_SESSIONS_LIMIT },
    // --sustained: the flooder's peer id, at an address where nothing listens (the target never needs to dial it)
    reserved: reservedFlooder == null ? undefined : [`/ip4/127.0.0.10/tcp/9/p2p/${reservedFlooder}`],
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

async function flooder (addr: string, host: string, rate: number, seconds: number, privateKey?: PrivateKey): Promise<void> {
  const { node, peer } = await dialer(addr, host, privateKey)
  let sessionEnd: { reason: string, side: string, at: number } | undefined
  /** every end of its sessions, and every attempt to come back, in order: an attacker that is cut off dials again */
  const history: Array<{ at: number, event: 'ended' | 'back' | 'refused', reason?: string }> = []
  node.addEventListener('session:close', (evt) => {
    sessionEnd ??= { reason: evt.detail.reason, side: evt.detail.side, at: now() }
    history.push({ at: now(), event: 'ended', reason: evt.detail.reason })
  })
  let comingBack: Promise<void> | undefined
  let lastAttempt = 0
  const comeBack = (): void => {
    if (comingBack != null || now() - lastAttempt < RECONNECT_INTERVAL_MS) {
      return
    }
    lastAttempt = now()
    comingBack = node.connect(multiaddr(addr)).then(() => {
      history.push({ at: now(), event: 'back' })
    }, (err: any) => {
      history.push({ at: now(), event: 'refused', reason: err.reason ?? err.name })
    }).finally(() => { comingBack = undefined })
  }
  const counts = { sent: 0, served: 0, rateLimited: 0, inFlightRefused: 0, notSent: 0, cutBySessionEnd: 0, failed: 0, otherErrors: {} as Record<string, number> }
  const failures: Array<{ at: number, name: string }> = []
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
    if (node.session(peer) == null) {
      // cut off: not sent, and it dials again (once a second)
      counts.notSent++
      comeBack()
      continue
    }
    if (inFlight.size >= DEFAULT_MAX_IN_FLIGHT_PER_PEER) {
      // over the responder's in-flight limit: not sent
      counts.notSent++
      continue
    }
    counts.sent++
    const carrier = node.session(peer)
    const one = node.request(peer, BENCH_PROTOCOL, Uint8Array.of(1)).then(() => { counts.served++ }, (err: any) => {
      if (err.code === ResultCode.RESOURCE_UNAVAILABLE && /^rate limited/.test(err.remoteMessage ?? '')) {
        counts.rateLimited++
      } else if (err.code === ResultCode.RESOURCE_UNAVAILABLE) {
        counts.inFlightRefused++
      } else if (carrier?.signal.aborted === true) {
        // in flight when the session that carried it ended (the peer score disconnected the flooder)
        counts.cutBySessionEnd++
      } else {
        // the stream may end before this side has heard that the session did: settled below
        failures.push({ at: now(), name: err.name })
      }
    })
    const tracked = one.finally(() => { inFlight.delete(tracked) })
    inFlight.add(tracked)
  }
  await Promise.allSettled([...inFlight, comingBack])
  for (const failure of failures) {
    if (history.some(entry => entry.event === 'ended' && entry.at >= failure.at && entry.at - failure.at <= SESSION_END_LAG_MS)) {
      counts.cutBySessionEnd++
    } else {
      counts.failed++
      counts.otherErrors[failure.name] = (counts.otherErrors[failure.name] ?? 0) + 1
    }
  }
  say({ event: 'flooder', start, end: now(), ...counts, sessionEnd, history })
  await stdinEnded
  await node.stop()
}

const [role, ...args] = process.argv.slice(2)
if (role === 'target') {
  await target(args[0] == null || args[0] === '-' ? undefined : args[0])
} else if (role === 'honest') {
  await honest(args[0], args[1], Number(args[2]))
} else if (role === 'flooder') {
  await flooder(args[0], args[1], Number(args[2]), Number(args[3]), args[4] == null || args[4] === '-' ? undefined : privateKeyFromProtobuf(uint8ArrayFromString(args[4], 'base16')))
} else {
  throw new Error(`usage: bench-flood-peer target | honest ADDR HOST INTERVAL_MS | flooder ADDR HOST RATE SECONDS (got ${String(role)})`)
}
process.exit(0)
