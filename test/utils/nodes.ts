import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify, type Identify } from '@libp2p/identify'
import { tcp } from '@libp2p/tcp'
import { createLibp2p, type Libp2p, type ServiceFactoryMap } from 'libp2p'
import type { ServiceMap } from '@libp2p/interface'
import { createPeerNode, type PeerNode, type PeerNodeOptions } from '../../src/index.js'

/**
 * The whole loopback block, where every test node lives: test nodes put it
 * in `limits.ipLimitExempt`, as the testnet does, since all their peers
 * connect from 127.0.0.1 (or another loopback address), while a real node's
 * peers would come from as many addresses. A test of the limit per IP sets
 * its own `ipLimitExempt`.
 */
export const LOOPBACK_RANGE = '127.0.0.0/8'

/** Nodes and directories made by one test file; `cleanup()` in `after` */
export class TestNetwork {
  private readonly nodes: Array<{ stop(): void | Promise<void> }> = []
  private readonly dirs: string[] = []

  async dir (): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'peergate-test-'))
    this.dirs.push(dir)
    return dir
  }

  /**
   * A peergate node on 127.0.0.1 with its own LevelDB data dir. Its dial loop
   * and DHT random walks are off unless `options` turn them on, so that a test
   * of something else sees only the sessions it makes. Loopback sources are
   * outside its limit per IP unless `options.limits.ipLimitExempt` says
   * otherwise (LOOPBACK_RANGE).
   */
  async node<S extends ServiceMap = Record<never, never>> (options: PeerNodeOptions<S> = {}): Promise<PeerNode<S>> {
    const node = await createPeerNode<S>({
      dataDir: options.dataDir ?? await this.dir(),
      listen: ['/ip4/127.0.0.1/tcp/0'],
      chain: { chainId: 'test-chain' },
      dial: { autoDial: false },
      discovery: false,
      ...options,
      limits: { ipLimitExempt: [LOOPBACK_RANGE], ...options.limits },
      connectionManager: { inboundConnectionThreshold: Infinity, ...options.connectionManager }
    })
    this.nodes.push(node)
    return node
  }

  /** A plain libp2p node without any peergate service: identify, and `services` (say an attacker's gossipsub) */
  async plain<S extends ServiceMap = Record<never, never>> (services?: ServiceFactoryMap<S>): Promise<Libp2p<S & { identify: Identify }>> {
    const node = await createLibp2p({
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionManager: { inboundConnectionThreshold: Infinity },
      services: { identify: identify(), ...services } as ServiceFactoryMap<S & { identify: Identify }>
    })
    this.nodes.push(node)
    return node
  }

  /** Stops `node` with the others in `cleanup()` (a node made outside this network) */
  track<T extends { stop(): void | Promise<void> }> (node: T): T {
    this.nodes.push(node)
    return node
  }

  async cleanup (): Promise<void> {
    await Promise.allSettled(this.nodes.map(async n => n.stop()))
    await Promise.allSettled(this.dirs.map(async d => rm(d, { recursive: true, force: true })))
  }
}

/**
 * Resolves with the detail of the first `type` event that passes `filter`;
 * rejects after `timeoutMs` so a missing event fails the test
 */
export async function nextEvent<T> (target: EventTarget, type: string, filter: (detail: T) => boolean = () => true, timeoutMs = 10_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      target.removeEventListener(type, listener)
      reject(new Error(`no ${type} event within ${timeoutMs} ms`))
    }, timeoutMs)
    const listener = (evt: Event): void => {
      const detail = (evt as CustomEvent<T>).detail
      if (filter(detail)) {
        clearTimeout(timer)
        target.removeEventListener(type, listener)
        resolve(detail)
      }
    }
    target.addEventListener(type, listener)
  })
}

/** Resolves once `predicate` holds, polling; rejects after `timeoutMs` */
export async function until (predicate: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`)
    }
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

/** Resolves once the async `predicate` holds, polling; rejects after `timeoutMs` */
export async function eventually (predicate: () => Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await predicate())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`)
    }
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

/** A port on 127.0.0.1 that nothing listens on: dials to it are refused at once */
export async function closedPort (): Promise<number> {
  const { createServer } = await import('node:net')
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise(resolve => server.close(resolve))
  return port
}

/**
 * A TCP server on 127.0.0.1 that accepts connections and never answers: a
 * dial to it hangs in the security handshake. Counts what it accepted.
 */
export async function blackHole (): Promise<{ port: number, accepted(): number, close(): Promise<void> }> {
  const { createServer } = await import('node:net')
  const sockets: Array<import('node:net').Socket> = []
  const server = createServer(socket => {
    socket.on('error', () => {})
    sockets.push(socket)
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    port,
    accepted: () => sockets.length,
    close: async () => {
      sockets.forEach(s => s.destroy())
      await new Promise(resolve => server.close(resolve))
    }
  }
}

/** A settable clock for the dial manager and the address book */
export class TestClock {
  time = 1_700_000_000_000
  readonly now = (): number => this.time
  advance (ms: number): void {
    this.time += ms
  }
}
