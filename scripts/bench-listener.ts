/**
 * The listening peer of `npm run bench:session`, in its own process as a real
 * peer is, on a LevelDB data dir. `node bench-listener.js [DIST]` runs the
 * peergate of another checkout's `dist/` (default: this one). Prints
 * `{"event":"ready","multiaddr":…}` once, then one line per session it opens:
 * `{"event":"session","peerId":…,"at":<epoch ms, µs precision>,"cpu":<CPU ms
 * this process spent from the connection's opening to the session>,"mainCpu":<the
 * same, µs, of its main thread alone>,"window":[<µs on the monotonic clock of the
 * connection's opening and of the session>]}`; on
 * the end of its stdin, the CPU time it used since ready: `{"event":"cpu","ms":…}`.
 * With `PEERGATE_PROFILE=FILE` (`npm run profile:session`) it samples its CPU
 * from before ready and writes the profile to FILE, and the result of a clock
 * check (see cpu-profile.ts) in the `cpu` line, before it exits.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MAX_SESSIONS_LIMIT } from '../src/node/constants.js'
import { loadPeergate } from './bench-dist.js'
import { clockCheck, clockCheckSpin, moment, startProfiler, type Moment } from './cpu-profile.js'

const profileFile = process.env.PEERGATE_PROFILE
const stopProfiler = profileFile == null ? undefined : await startProfiler(Number(process.env.PEERGATE_PROFILE_INTERVAL ?? 500))
const spin = profileFile == null ? undefined : clockCheckSpin(100)

const { createPeerNode } = await loadPeergate(process.argv[2])
const dataDir = await mkdtemp(join(tmpdir(), 'peergate-bench-listener-'))
const node = await createPeerNode({
  dataDir,
  listen: ['/ip4/127.0.0.1/tcp/0'],
  chain: { chainId: 'bench-chain' },
  // every dial of the bench comes from 127.0.0.1, several a second (an
  // older peergate, the bench's baseline, ignores ipLimitExempt)
  limits: { maxInboundSessions: MAX_SESSIONS_LIMIT, ipLimitExempt: ['127.0.0.0/8'] },
  connectionManager: { inboundConnectionThreshold: Infinity, maxConnections: 10_000, maxIncomingPendingConnections: 1_000 }
})

const now = (): number => performance.timeOrigin + performance.now()
/** the moment of each connection's opening (monotonic µs, CPU µs), by remote peer */
const atOpen = new Map<string, Moment>()
node.libp2p.addEventListener('connection:open', (evt) => {
  atOpen.set(evt.detail.remotePeer.toString(), moment())
})
node.libp2p.addEventListener('connection:close', (evt) => {
  atOpen.delete(evt.detail.remotePeer.toString())
})
node.addEventListener('session:open', (evt) => {
  const peerId = evt.detail.peerId.toString()
  const since = atOpen.get(peerId)
  const end = moment()
  const cpu = since == null ? undefined : (end.cpu - since.cpu) / 1000
  const window = [since?.at, end.at]
  const mainCpu = since == null ? undefined : end.main - since.main
  process.stdout.write(`${JSON.stringify({ event: 'session', peerId, at: now(), cpu, mainCpu, window })}\n`)
})
process.stdout.write(`${JSON.stringify({ event: 'ready', multiaddr: node.getMultiaddrs()[0].toString() })}\n`)

const cpu = process.cpuUsage()
const stop = async (): Promise<void> => {
  const used = process.cpuUsage(cpu)
  let clock: string | undefined
  if (stopProfiler != null && profileFile != null && spin != null) {
    const profile = await stopProfiler()
    await writeFile(profileFile, JSON.stringify(profile))
    clock = clockCheck(profile, spin)
  }
  process.stdout.write(`${JSON.stringify({ event: 'cpu', ms: (used.user + used.system) / 1000, clock })}\n`)
  await node.stop()
  await rm(dataDir, { recursive: true, force: true })
  process.exit(0)
}
process.on('SIGTERM', () => { void stop() })
process.on('SIGINT', () => { void stop() })
process.stdin.on('end', () => { void stop() })
process.stdin.resume()
