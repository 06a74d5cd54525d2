import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { gossipsub } from '@libp2p/gossipsub'
import { InvalidParametersError, UnsupportedOperationError } from '@libp2p/interface'
import { fromString as uint8ArrayFromString } from 'uint8arrays/from-string'
import { toString as uint8ArrayToString } from 'uint8arrays/to-string'
import { NoSessionError, gated } from '../../src/index.js'
import { TestNetwork, eventually, until } from '../utils/nodes.js'
import type { PeerNode } from '../../src/index.js'
import type { GossipSub, GossipsubOpts } from '@libp2p/gossipsub'
import type { Connection, Libp2p, PeerId, Startable, Stream } from '@libp2p/interface'
import type { ConnectionManager, Registrar } from '@libp2p/interface-internal'

const PROTOCOL = '/test-chain/tally/1.0.0'
const net = new TestNetwork()
after(async () => { await net.cleanup() })

interface TallyComponents {
  registrar: Registrar
  connectionManager: ConnectionManager
}

/**
 * A tiny libp2p service that knows nothing of sessions: it counts the
 * streams its handler serves, records what its topology hears, and opens
 * streams over the connections it was given or through the connection manager
 */
class Tally implements Startable {
  handled = 0
  readonly connects: Array<{ peer: PeerId, connection: Connection }> = []
  readonly disconnects: PeerId[] = []
  private readonly components: TallyComponents
  private topologyId?: string

  constructor (components: TallyComponents) {
    this.components = components
  }

  async start (): Promise<void> {
    await this.components.registrar.handle(PROTOCOL, async (stream) => {
      this.handled++
      for await (const chunk of stream) {
        stream.send(chunk)
        break
      }
      await stream.close()
    })
    this.topologyId = await this.components.registrar.register(PROTOCOL, {
      onConnect: (peer, connection) => { this.connects.push({ peer, connection }) },
      onDisconnect: (peer) => { this.disconnects.push(peer) }
    })
  }

  async stop (): Promise<void> {
    await this.components.registrar.unhandle(PROTOCOL)
    if (this.topologyId != null) {
      this.components.registrar.unregister(this.topologyId)
    }
  }

  /** The connection the topology was given for `peer` */
  connectionTo (peer: PeerId): Connection | undefined {
    return this.connects.findLast(entry => entry.peer.equals(peer))?.connection
  }

  async openStream (peer: PeerId): Promise<Stream> {
    return this.components.connectionManager.openStream(peer, PROTOCOL)
  }

  get registrar (): Registrar {
    return this.components.registrar
  }
}

function tally (): (components: TallyComponents) => Tally {
  return (components) => new Tally(components)
}

async function echo (stream: Stream, text: string): Promise<string> {
  stream.send(uint8ArrayFromString(text))
  let out = ''
  for await (const chunk of stream) {
    out = uint8ArrayToString(chunk.subarray())
    break
  }
  await stream.close()
  return out
}

async function tallyNode (): Promise<PeerNode<{ tally: Tally }>> {
  return net.node({ services: { tally: gated(tally()) } })
}

/** Resolves once `node`'s peer store lists `protocol` for `peer` (identify has run) */
async function identified (node: Libp2p, peer: PeerId, protocol: string): Promise<void> {
  await eventually(async () => (await node.peerStore.get(peer).catch(() => undefined))?.protocols.includes(protocol) === true, `identify of ${protocol}`)
}

const FAST_GOSSIP: Partial<GossipsubOpts> = { heartbeatInterval: 100 }

/** gossipsub's router as its class has it: the interface its factory returns leaves out the mesh */
type Router = GossipSub & { getMeshPeers(topic: string): string[] }

function gs (node: PeerNode<{ gs: GossipSub }>): Router {
  return node.libp2p.services.gs as Router
}

/** A plain libp2p node running gossipsub as it comes: no session, no handshake */
async function gossipAttacker (): Promise<Libp2p<{ pubsub: GossipSub }>> {
  return net.plain({ pubsub: gossipsub({ ...FAST_GOSSIP, allowPublishToZeroTopicPeers: true }) })
}

describe('a gated libp2p service', () => {
  it('never runs its handler for a plain libp2p node speaking its protocol', async () => {
    const node = await tallyNode()
    const plain = await net.plain()
    const refused: string[] = []
    node.addEventListener('stream:refuse', (evt) => { refused.push(evt.detail.protocol) })

    for (let i = 0; i < 3; i++) {
      const stream = await plain.dialProtocol(node.getMultiaddrs()[0], PROTOCOL)
      const reply = await echo(stream, 'let me in').catch((err: Error) => err)
      assert.ok(reply instanceof Error || reply === '', `no echo expected, got ${String(reply)}`)
    }
    assert.equal(node.libp2p.services.tally.handled, 0)
    assert.deepEqual(refused, [PROTOCOL, PROTOCOL, PROTOCOL])
    assert.equal(node.libp2p.services.tally.connects.length, 0)
  })

  it('hears of a peer when its session opens, with the session\'s connection, and of its end at once; never of an auxiliary connection', async () => {
    const a = await tallyNode()
    const b = await tallyNode()

    // an auxiliary connection, identified: libp2p's own registrar would tell the topology now
    await b.libp2p.dial(a.getMultiaddrs()[0])
    await identified(a.libp2p, b.peerId, PROTOCOL)
    await identified(b.libp2p, a.peerId, PROTOCOL)
    await new Promise(resolve => setTimeout(resolve, 100))
    assert.equal(a.libp2p.services.tally.connects.length, 0)
    assert.equal(b.libp2p.services.tally.connects.length, 0)
    await assert.rejects(b.libp2p.services.tally.openStream(a.peerId), (err: Error) => err.name === NoSessionError.name)
    assert.equal(a.libp2p.services.tally.handled, 0)

    const session = await b.connect(a.getMultiaddrs()[0])
    await until(() => a.libp2p.services.tally.connects.length === 1 && b.libp2p.services.tally.connects.length === 1, 5_000, 'both topologies told')
    assert.equal(b.libp2p.services.tally.connects[0].connection.id, session.connection.id)
    assert.equal(a.libp2p.services.tally.connects[0].connection.id, a.session(b.peerId)?.connection.id)

    // streams over the given connection, and through the connection manager
    const given = b.libp2p.services.tally.connectionTo(a.peerId)
    assert.ok(given != null)
    assert.equal(await echo(await given.newStream(PROTOCOL), 'one'), 'one')
    assert.equal(await echo(await b.libp2p.services.tally.openStream(a.peerId), 'two'), 'two')
    assert.equal(a.libp2p.services.tally.handled, 2)

    // the session ends: the topology hears it before anyone else listening after it
    let toldAtClose: number | undefined
    a.addEventListener('session:close', () => { toldAtClose = a.libp2p.services.tally.disconnects.length }, { once: true })
    await a.disconnect(b.peerId)
    assert.equal(toldAtClose, 1)
    assert.ok(a.libp2p.services.tally.disconnects[0].equals(b.peerId))
    await until(() => b.libp2p.services.tally.disconnects.length === 1, 5_000, 'b told of the end')

    // the connection it was given opens nothing any more
    const kept = a.libp2p.services.tally.connectionTo(b.peerId)
    assert.ok(kept != null)
    await assert.rejects(kept.newStream(PROTOCOL), (err: Error) => err.name === NoSessionError.name)
    assert.equal(a.libp2p.services.tally.handled, 2)
  })

  it('refuses stream middleware (it would run before the gate), and a node without the session manager', async () => {
    const node = await tallyNode()
    assert.throws(() => { node.libp2p.services.tally.registrar.use(PROTOCOL, []) }, (err: Error) => err.name === UnsupportedOperationError.name)
    // components without a service named sessions
    assert.throws(() => gated(tally())({ logger: node.logger } as any), (err: Error) => err.name === InvalidParametersError.name && err.message.includes('"sessions"'))
  })

  it('puts gossipsub, unchanged, on sessions: a plain libp2p gossipsub node subscribed to the topic gets nothing and reaches no one', async () => {
    const TOPIC = 'blocks'
    const services = { gs: gated(gossipsub(FAST_GOSSIP)) }
    const a = await net.node({ services })
    const b = await net.node({ services })
    const received: string[] = []
    gs(a).addEventListener('message', (evt) => { received.push(uint8ArrayToString(evt.detail.data)) })
    gs(a).subscribe(TOPIC)
    gs(b).subscribe(TOPIC)

    const attacker = await gossipAttacker()
    const attackerRouter = attacker.services.pubsub as Router
    const stolen: string[] = []
    attackerRouter.addEventListener('message', (evt) => { stolen.push(uint8ArrayToString(evt.detail.data)) })
    attackerRouter.subscribe(TOPIC)
    await attacker.dial(a.getMultiaddrs()[0])
    await attacker.dial(b.getMultiaddrs()[0])
    await identified(attacker, a.peerId, '/meshsub/1.2.0')

    await b.connect(a.getMultiaddrs()[0])
    await until(() => gs(a).getMeshPeers(TOPIC).length === 1 && gs(b).getMeshPeers(TOPIC).length === 1, 5_000, 'a mesh of a and b')
    assert.deepEqual(gs(a).getMeshPeers(TOPIC), [b.peerId.toString()])

    await gs(b).publish(TOPIC, uint8ArrayFromString('from b'))
    await attackerRouter.publish(TOPIC, uint8ArrayFromString('from the attacker'))
    await until(() => received.length > 0, 5_000, 'b\'s message at a')
    // a few heartbeats for anything that would leak to arrive
    await new Promise(resolve => setTimeout(resolve, 500))

    assert.deepEqual(received, ['from b'])
    assert.deepEqual(stolen, [])
    for (const [node, other] of [[a, b], [b, a]]) {
      assert.ok(!gs(node).getPeers().some(peer => peer.equals(attacker.peerId)), 'the attacker is no gossipsub peer')
      assert.deepEqual(gs(node).getSubscribers(TOPIC).map(peer => peer.toString()), [other.peerId.toString()])
    }
    assert.deepEqual(attackerRouter.getMeshPeers(TOPIC), [])
  })
})
