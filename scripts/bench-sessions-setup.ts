/**
 * What the processes of `npm run bench:sessions` agree on: the two kinds of
 * node under test, the chain, the server's connection limits and each
 * client's own loopback address.
 */
import type { ConnectionManagerInit } from 'libp2p'

/**
 * `peergate`: sessions (createPeerNode); `bare`: libp2p with TCP + Noise +
 * Yamux + identify; `floor`: libp2p on peergate's stack with a stand-in for
 * the handshake, its messages' sizes and nothing else (bench-sessions-floor.ts)
 */
export type BenchKind = 'peergate' | 'bare' | 'floor'

export const BENCH_CHAIN_ID = 'bench-sessions'

/** `--profile`'s sampling interval in the server and the clients: coarse, so that the profiler costs little beside the fill */
export const PROFILE_INTERVAL_US = 1000

/**
 * Connections the server may keep beside its `target` held ones: the
 * handshakes and upgrades in flight (peergate runs at most 64 inbound
 * handshakes at once) and a margin, so that libp2p's pruner (300
 * connections by default) never closes a held one
 */
const CONNECTION_MARGIN = 128

/** The bench's configuration of both servers: room for `target` connections; per-host limits stay at their defaults */
export function connectionLimits (target: number): ConnectionManagerInit {
  return { maxConnections: target + CONNECTION_MARGIN }
}

/** Clients per /24 of 127.0.0.0/8: host parts 1–250, away from .0 and .255 */
const HOSTS_PER_BLOCK = 250
/** The first client block, 127.2.0.0/24: the server is on 127.0.0.1 */
const FIRST_BLOCK = 2 << 8

/**
 * Client `index`'s own source address, in 127.0.0.0/8 and never 127.0.0.1,
 * so that per-host limits see one client per host, as on a real network
 */
export function clientAddress (index: number): string {
  if (!Number.isInteger(index) || index < 0) {
    throw new Error(`client index must be a whole number >= 0, got ${index}`)
  }
  const block = FIRST_BLOCK + Math.floor(index / HOSTS_PER_BLOCK)
  if (block > 0xffff) {
    throw new Error(`client index ${index} is beyond 127.0.0.0/8`)
  }
  return `127.${block >> 8}.${block & 0xff}.${(index % HOSTS_PER_BLOCK) + 1}`
}
