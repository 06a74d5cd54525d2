/**
 * The listening peer of `npm run bench:handshake`, in its own process as a
 * real peer is. Prints `{"event":"ready","multiaddr":…}` once, then one line
 * per session it opens: `{"event":"session","peerId":…,"at":<epoch ms, µs precision>}`.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createPeerNode } from '../src/index.js'

const dataDir = await mkdtemp(join(tmpdir(), 'peergate-bench-listener-'))
const node = await createPeerNode({
  dataDir,
  listen: ['/ip4/127.0.0.1/tcp/0'],
  chain: { chainId: 'bench-chain' },
  limits: { maxInboundSessions: 100_000 },
  connectionManager: { inboundConnectionThreshold: Infinity, maxConnections: 10_000, maxIncomingPendingConnections: 1_000 }
})

const now = (): number => performance.timeOrigin + performance.now()
node.addEventListener('session:open', (evt) => {
  process.stdout.write(`${JSON.stringify({ event: 'session', peerId: evt.detail.peerId.toString(), at: now() })}\n`)
})
process.stdout.write(`${JSON.stringify({ event: 'ready', multiaddr: node.getMultiaddrs()[0].toString() })}\n`)

const stop = async (): Promise<void> => {
  await node.stop()
  await rm(dataDir, { recursive: true, force: true })
  process.exit(0)
}
process.on('SIGTERM', () => { void stop() })
process.on('SIGINT', () => { void stop() })
process.stdin.on('end', () => { void stop() })
process.stdin.resume()
