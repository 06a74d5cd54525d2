/**
 * The scale lab's nodes: a group of K peergate nodes in one process, each its
 * own libp2p node with default limits, that spread lab blocks by gossip
 * (`node.pubsub`, topic `lab-blocks`) or by the flood relay (a notification
 * channel: every node sends a new block to all its session peers except the
 * one it came from, once). The group records when each node reached its
 * outbound target, the dials it attempted, the bytes it sent (counted below
 * the encryption, on every connection) and when and how often each block
 * reached it. `lab-worker.ts` runs a group in a child process for the real
 * lab (TCP); `lab.ts` runs groups in its own process for the simulation
 * (`@libp2p/memory`).
 */
import { join } from 'node:path'
import { memory } from '@libp2p/memory'
import { tcp, type TCPSocketOptions } from '@libp2p/tcp'
import { MemoryDatastore } from 'datastore-core'
import { createPeerNode, isHandshakeError, type NotificationChannel, type PeerNode } from '../src/index.js'
import { InvalidParametersError, type Transport } from '@libp2p/interface'

/** the lab's gossip topic */
export const LAB_TOPIC = 'lab-blocks'
/** the flood relay's notification protocol */
export const LAB_FLOOD_PROTOCOL = '/peergate-lab/blocks/1.0.0'
/** a lab block: its number (uint32) then filler, the size of a small chain block */
export const LAB_BLOCK_BYTES = 1024
/** how often each node's outbound count is looked at, ms */
const POLL_MS = 100

export type LabTransport = 'tcp' | 'memory'
export type LabRelay = 'gossip' | 'flood'

export interface LabGroupInit {
  /** the lab-wide indexes of this group's nodes */
  indexes: number[]
  /** where the nodes' data dirs go (tcp); memory nodes keep everything in memory */
  dataRoot: string
  transport: LabTransport
  /** the bootstrap address; absent for the group that starts node 0, the bootstrap node */
  bootstrap?: string
  chainId: string
  /** run gossip (`node.pubsub`); without it only the flood relay spreads blocks */
  pubsub: boolean
  /**
   * libp2p's `maxIncomingPendingConnections` (its default: 10), raised only
   * when the lab is told to (`--max-pending`), to show what the bootstrap
   * node's limit costs when every node starts at once
   */
  maxIncomingPendingConnections?: number
}

/** One node's figures, as the group reports them */
export interface LabNodeReport {
  index: number
  peerId: string
  targetOutbound: number
  outbound: number
  inbound: number
  /** when it first held its outbound target, ms since the epoch */
  reachedAt?: number
  /** dials its dial loop finished (opened or failed) */
  dials: number
  dialsFailed: number
  failReasons: Record<string, number>
  /** failed dials by reason and error (`REASON side name: message`, addresses and ids left out) */
  failErrors: Record<string, number>
  contacts: number
  /** bytes it sent on all its connections so far */
  sentBytes: number
  /** connections the node opened, and that others opened to it, since it started */
  connectionsOut: number
  connectionsIn: number
  /** gossip copies received and duplicates, from its topic stats */
  gossipReceived: number
  gossipDuplicate: number
  /** by block number: the first receipt, ms since the epoch, and the copies received, per relay */
  receipts: Record<LabRelay, Record<number, { at: number, copies: number }>>
  meshPeers: number
}

/** ms since the epoch, sub-ms; comparable across the lab's processes on one host */
export function now (): number {
  return performance.timeOrigin + performance.now()
}

/** The loopback address node `index` dials from and listens on: one host per node */
export function labHost (index: number): string {
  return `127.1.${Math.floor(index / 200)}.${(index % 200) + 10}`
}

interface Counted {
  sent: number
  /** connections this node opened (its dial manager's and the DHT's alike) */
  connectionsOut: number
  /** connections other nodes opened to it */
  connectionsIn: number
}

/**
 * `factory`'s transport, counting the bytes every connection it makes or
 * accepts sends (what the wire carries: Noise and Yamux framing included)
 */
function counting (factory: (components: any) => Transport, counter: Counted): (components: any) => Transport {
  return (components) => {
    const transport = factory(components)
    const wrap = (upgrader: any): any => {
      const wrapped = Object.create(upgrader)
      const track = (maConn: any): void => {
        const send = maConn.send.bind(maConn)
        maConn.send = (buf: Uint8Array | { byteLength: number }) => {
          counter.sent += buf.byteLength
          return send(buf)
        }
      }
      wrapped.upgradeOutbound = async (maConn: any, opts: any) => { track(maConn); counter.connectionsOut++; return upgrader.upgradeOutbound(maConn, opts) }
      wrapped.upgradeInbound = async (maConn: any, opts: any) => { track(maConn); counter.connectionsIn++; return upgrader.upgradeInbound(maConn, opts) }
      return wrapped
    }
    const dial = transport.dial.bind(transport)
    const createListener = transport.createListener.bind(transport)
    transport.dial = async (ma, options) => dial(ma, { ...options, upgrader: wrap(options.upgrader) })
    transport.createListener = (options) => createListener({ ...options, upgrader: wrap(options.upgrader) })
    return transport
  }
}

class LabNode {
  readonly index: number
  readonly node: PeerNode
  readonly counter: Counted
  reachedAt?: number
  dials = 0
  dialsFailed = 0
  /** failed dials by reason (the handshake's reason code, or DIAL_FAILED) */
  readonly failReasons: Record<string, number> = {}
  readonly failErrors: Record<string, number> = {}
  flood?: NotificationChannel
  readonly receipts: Record<LabRelay, Map<number, { at: number, copies: number }>> = { gossip: new Map(), flood: new Map() }

  readonly pubsub: boolean

  constructor (index: number, node: PeerNode, counter: Counted, pubsub: boolean) {
    this.pubsub = pubsub
    this.index = index
    this.node = node
    this.counter = counter
    node.addEventListener('dial:end', (evt) => {
      this.dials++
      if (evt.detail.result === 'failed') {
        this.dialsFailed++
        const reason = String(evt.detail.reason ?? 'unknown')
        this.failReasons[reason] = (this.failReasons[reason] ?? 0) + 1
        const error = `${reason} ${errorKind(evt.detail.error)}`
        this.failErrors[error] = (this.failErrors[error] ?? 0) + 1
      }
    })
  }

  /** a block arrived by `relay`: true the first time */
  receive (relay: LabRelay, bytes: Uint8Array): boolean {
    const block = blockNumber(bytes)
    const seen = this.receipts[relay].get(block)
    if (seen != null) {
      seen.copies++
      return false
    }
    this.receipts[relay].set(block, { at: now(), copies: 1 })
    return true
  }
}

export function labBlock (n: number): Uint8Array {
  const bytes = new Uint8Array(LAB_BLOCK_BYTES)
  new DataView(bytes.buffer).setUint32(0, n)
  bytes.fill(n % 251, 4)
  return bytes
}

function blockNumber (bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0)
}

/** K lab nodes in this process */
export class LabGroup {
  private readonly nodes: LabNode[] = []
  private poller?: ReturnType<typeof setInterval>

  /** starts the nodes, the bootstrap node (if here) first; resolves with the bootstrap address when this group has it */
  async start (init: LabGroupInit): Promise<string | undefined> {
    let bootstrap = init.bootstrap
    let ownBootstrap: string | undefined
    const startOne = async (index: number): Promise<LabNode> => {
      const counter: Counted = { sent: 0, connectionsOut: 0, connectionsIn: 0 }
      const host = labHost(index)
      const node = await createPeerNode({
        ...(init.transport === 'tcp'
          ? {
              dataDir: join(init.dataRoot, `node-${index}`),
              listen: [`/ip4/${host}/tcp/0`],
              // one source address per node, as on a network of hosts (docs/SCALE.md);
              // @libp2p/tcp hands dialOpts to net.connect, whose localAddress its type leaves out
              transports: [counting(tcp({ dialOpts: { localAddress: host } as TCPSocketOptions }), counter)]
            }
          : {
              datastore: new MemoryDatastore(),
              listen: [`/memory/lab-${index}`],
              transports: [counting(memory(), counter)]
            }),
        chain: { chainId: init.chainId },
        bootstrap: bootstrap == null ? [] : [bootstrap],
        pubsub: init.pubsub,
        connectionManager: init.maxIncomingPendingConnections == null ? undefined : { maxIncomingPendingConnections: init.maxIncomingPendingConnections }
      })
      const lab = new LabNode(index, node, counter, init.pubsub)
      if (init.pubsub) {
        node.pubsub.topicValidators.set(LAB_TOPIC, (message) => {
          lab.receive('gossip', message.data)
          return 'accept'
        })
        node.pubsub.subscribe(LAB_TOPIC)
      }
      lab.flood = await node.notifications(LAB_FLOOD_PROTOCOL, {
        maxMessageBytes: LAB_BLOCK_BYTES,
        onMessage: (bytes, session) => {
          if (lab.receive('flood', bytes)) {
            lab.flood?.broadcast(bytes, { except: session.peerId }).catch(() => {})
          }
        }
      })
      return lab
    }
    const indexes = [...init.indexes]
    if (bootstrap == null) {
      const first = await startOne(indexes.shift() as number)
      this.nodes.push(first)
      ownBootstrap = first.node.getMultiaddrs()[0].toString()
      bootstrap = ownBootstrap
    }
    this.nodes.push(...await Promise.all(indexes.map(startOne)))
    this.poller = setInterval(() => { this.poll() }, POLL_MS)
    this.poll()
    return ownBootstrap
  }

  private poll (): void {
    for (const lab of this.nodes) {
      if (lab.reachedAt == null) {
        const status = lab.node.status()
        if (status.sessions.outbound >= status.sessions.targetOutbound) {
          lab.reachedAt = now()
        }
      }
    }
  }

  /** node `index` sends block `n` by `relay`; resolves with when it was sent */
  async publish (index: number, relay: LabRelay, n: number): Promise<number> {
    const lab = this.nodes.find(l => l.index === index)
    if (lab == null) {
      throw new InvalidParametersError(`node ${index} is not in this group`)
    }
    const bytes = labBlock(n)
    const at = now()
    lab.receipts[relay].set(n, { at, copies: 0 })
    if (relay === 'gossip') {
      await lab.node.pubsub.publish(LAB_TOPIC, bytes)
    } else {
      await lab.flood?.broadcast(bytes)
    }
    return at
  }

  report (): LabNodeReport[] {
    return this.nodes.map(lab => {
      const status = lab.node.status()
      const topic = lab.pubsub ? lab.node.pubsub.topicStats().find(t => t.topic === LAB_TOPIC) : undefined
      return {
        index: lab.index,
        peerId: lab.node.peerId.toString(),
        targetOutbound: status.sessions.targetOutbound,
        outbound: status.sessions.outbound,
        inbound: status.sessions.inbound,
        reachedAt: lab.reachedAt,
        dials: lab.dials,
        dialsFailed: lab.dialsFailed,
        failReasons: lab.failReasons,
        failErrors: lab.failErrors,
        contacts: status.contacts,
        sentBytes: lab.counter.sent,
        connectionsOut: lab.counter.connectionsOut,
        connectionsIn: lab.counter.connectionsIn,
        gossipReceived: topic?.received ?? 0,
        gossipDuplicate: topic?.duplicate ?? 0,
        receipts: {
          gossip: Object.fromEntries(lab.receipts.gossip),
          flood: Object.fromEntries(lab.receipts.flood)
        },
        meshPeers: topic?.meshPeers.length ?? 0
      }
    })
  }

  /** the session peers of each node, by peer id, for the topology check */
  sessions (): Array<{ index: number, peers: string[] }> {
    return this.nodes.map(lab => ({ index: lab.index, peers: lab.node.sessions().map(s => s.peerId.toString()) }))
  }

  async stop (): Promise<void> {
    clearInterval(this.poller)
    await Promise.allSettled(this.nodes.map(async lab => {
      await lab.flood?.close()
      await lab.node.stop()
    }))
  }
}

/** An error's name and message without what differs from dial to dial (addresses, peer ids, numbers), to count like errors together */
function errorKind (error: Error | undefined): string {
  if (error == null) {
    return 'unknown'
  }
  const message = error.message
    .replace(/\/[a-z0-9]+\/[^\s,)]+/gi, '<multiaddr>')
    .replace(/\b(12D3Koo|Qm)[1-9A-HJ-NP-Za-km-z]+/g, '<peer>')
    .replace(/\d+(\.\d+)*/g, 'N')
    .slice(0, 120)
  const cause = (error as { cause?: unknown }).cause
  // a handshake's error says which side ended it: this node ('local') or the peer ('remote')
  const side = isHandshakeError(error) ? `${error.side} ` : ''
  return `${side}${error.name}: ${message}${cause instanceof Error ? ` (cause ${cause.name})` : ''}`
}
