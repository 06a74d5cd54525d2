import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { gossipsub } from '@libp2p/gossipsub'
import { RPC } from '@libp2p/gossipsub/message'
import { concat as uint8ArrayConcat } from 'uint8arrays/concat'
import { fromString as uint8ArrayFromString } from 'uint8arrays/from-string'
import { toString as uint8ArrayToString } from 'uint8arrays/to-string'
import { GossipDisabledError } from '../../src/index.js'
import { encodeFrame } from '../../src/wire/index.js'
import { TestNetwork, eventually, until } from '../utils/nodes.js'
import type { GossipMessage, GossipRejectDetail, PeerNode, PeerNodeOptions } from '../../src/index.js'
import type { GossipSub } from '@libp2p/gossipsub'
import type { Libp2p, PeerId, PrivateKey } from '@libp2p/interface'

const TOPIC = 'blocks'
const SCOPED = '/peergate/test-chain/blocks'
const MESHSUB = '/meshsub/1.2.0'
/** a heartbeat every 100 ms: a mesh repairs in a tenth of gossipsub's default second */
const FAST: PeerNodeOptions = { pubsub: { gossipsub: { heartbeatInterval: 100 } } }

const net = new TestNetwork()
after(async () => { await net.cleanup() })

async function gossipNode (options: PeerNodeOptions = {}): Promise<PeerNode> {
  return net.node({ ...FAST, ...options })
}

/** Every message `node`'s application gets, as text */
function inbox (node: PeerNode): GossipMessage[] {
  const messages: GossipMessage[] = []
  node.pubsub.addEventListener('message', (evt) => { messages.push(evt.detail) })
  return messages
}

const text = (message: GossipMessage): string => uint8ArrayToString(message.data)

/** Resolves once `node`'s mesh of TOPIC holds exactly `peers` */
async function meshOf (node: PeerNode, peers: PeerNode[]): Promise<void> {
  const want = peers.map(peer => peer.peerId.toString()).sort()
  await until(() => JSON.stringify(node.pubsub.getMeshPeers(TOPIC).map(peer => peer.toString()).sort()) === JSON.stringify(want), 5_000, `the mesh of ${node.peerId.toString()}`)
}

/** Time for what would leak to arrive: a few heartbeats */
async function settle (): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, 500))
}

/** Resolves once `node`'s peer store lists `protocol` for `peer` (identify has run) */
async function identified (node: Libp2p, peer: PeerId, protocol: string): Promise<void> {
  await eventually(async () => (await node.peerStore.get(peer).catch(() => undefined))?.protocols.includes(protocol) === true, `identify of ${protocol}`)
}

/** A gossip message signed as gossipsub signs them (StrictSign): over "libp2p-pubsub:" and the message without signature and key */
async function signedMessage (key: PrivateKey, from: PeerId, topic: string, data: string, seqno: number): Promise<RPC.Message> {
  const message: RPC.Message = {
    from: from.toMultihash().bytes,
    data: uint8ArrayFromString(data),
    seqno: new Uint8Array(new BigUint64Array([BigInt(seqno)]).buffer).reverse(),
    topic
  }
  const signature = await key.sign(uint8ArrayConcat([uint8ArrayFromString('libp2p-pubsub:'), RPC.Message.encode(message)]))
  return { ...message, signature }
}

describe('gossip on sessions', () => {
  it('is off unless asked for', async () => {
    const node = await net.node()
    assert.throws(() => node.pubsub, (err: Error) => err.name === GossipDisabledError.name)
    assert.equal(node.libp2p.services.pubsub, undefined)
    assert.deepEqual(node.gossipTopics(), [])
  })

  it('delivers a session peer\'s messages, signed by its libp2p key, with its session and DID; topics are scoped by chain', async () => {
    const a = await gossipNode()
    const b = await gossipNode()
    const got = inbox(a)
    a.pubsub.subscribe(TOPIC)
    b.pubsub.subscribe(TOPIC)
    assert.equal(a.pubsub.chainTopic(TOPIC), SCOPED)
    assert.deepEqual(a.pubsub.getTopics(), [TOPIC])

    await a.connect(b.getMultiaddrs()[0])
    await meshOf(a, [b])
    await meshOf(b, [a])
    const { recipients } = await b.pubsub.publish(TOPIC, uint8ArrayFromString('block 1'))
    assert.deepEqual(recipients.map(peer => peer.toString()), [a.peerId.toString()])
    await until(() => got.length === 1, 5_000, 'the message at a')

    const [message] = got
    assert.equal(message.topic, TOPIC)
    assert.equal(text(message), 'block 1')
    assert.ok(message.from.equals(b.peerId), 'signed by b\'s libp2p key')
    assert.equal(message.receivedFrom, a.session(b.peerId))
    assert.equal(message.receivedFrom.did, b.did)
    assert.equal(message.publisher?.did, b.did)
    assert.deepEqual(a.pubsub.getSubscribers(TOPIC).map(peer => peer.toString()), [b.peerId.toString()])
  })

  it('a plain libp2p gossipsub node with no handshake, subscribed to the chain\'s topic, gets nothing, and its publishes reach no one\'s application', async () => {
    const a = await gossipNode()
    const b = await gossipNode()
    const gotA = inbox(a)
    const gotB = inbox(b)
    a.pubsub.subscribe(TOPIC)
    b.pubsub.subscribe(TOPIC)
    const refused: string[] = []
    a.addEventListener('stream:refuse', (evt) => {
      if (evt.detail.direction === 'inbound') {
        refused.push(evt.detail.protocol)
      }
    })

    const attacker = await net.plain({ pubsub: gossipsub({ heartbeatInterval: 100, allowPublishToZeroTopicPeers: true, floodPublish: true }) })
    const router = attacker.services.pubsub as GossipSub & { getMeshPeers(topic: string): string[] }
    const stolen: string[] = []
    router.addEventListener('message', (evt) => { stolen.push(uint8ArrayToString(evt.detail.data)) })
    router.subscribe(SCOPED)
    await attacker.dial(a.getMultiaddrs()[0])
    await attacker.dial(b.getMultiaddrs()[0])
    await identified(attacker, a.peerId, MESHSUB)
    // the attacker's gossipsub opened its stream to a, and the gate refused it
    await until(() => refused.includes(MESHSUB), 5_000, 'the attacker\'s gossipsub stream refused')

    await a.connect(b.getMultiaddrs()[0])
    await meshOf(a, [b])
    await meshOf(b, [a])
    const { recipients } = await b.pubsub.publish(TOPIC, uint8ArrayFromString('from b'))
    assert.deepEqual(recipients.map(peer => peer.toString()), [a.peerId.toString()], 'b sent its message to a, and to no one else')
    await router.publish(SCOPED, uint8ArrayFromString('from the attacker'))
    // whatever else arrives fails the exact comparison below, with what it was
    await until(() => gotA.length >= 1, 5_000, 'b\'s message at a')
    await settle()

    assert.deepEqual(gotA.map(text), ['from b'])
    assert.deepEqual(gotB.map(text), [])
    assert.deepEqual(stolen, [])
    for (const node of [a, b]) {
      assert.ok(!node.pubsub.getPeers().some(peer => peer.equals(attacker.peerId)), 'the attacker is no gossip peer')
      assert.ok(!node.pubsub.getSubscribers(TOPIC).some(peer => peer.equals(attacker.peerId)))
    }
    assert.deepEqual(router.getMeshPeers(SCOPED), [])
  })

  it('a session that ends leaves the mesh at once', async () => {
    const a = await gossipNode()
    const b = await gossipNode()
    a.pubsub.subscribe(TOPIC)
    b.pubsub.subscribe(TOPIC)
    await a.connect(b.getMultiaddrs()[0])
    await meshOf(a, [b])
    await meshOf(b, [a])

    // as session:close is dispatched (to a listener added after gossip's), b is gone
    let atClose: { mesh: number, peers: number } | undefined
    a.addEventListener('session:close', () => {
      atClose = { mesh: a.pubsub.getMeshPeers(TOPIC).length, peers: a.pubsub.getPeers().length }
    }, { once: true })
    await a.disconnect(b.peerId)
    assert.deepEqual(atClose, { mesh: 0, peers: 0 })
    // and b, told by a's Goodbye, lets a go as its session ends
    await until(() => b.session(a.peerId) == null, 5_000, 'the session\'s end at b')
    assert.deepEqual(b.pubsub.getMeshPeers(TOPIC), [])
    assert.deepEqual(b.pubsub.getPeers(), [])
  })

  it('a DHT-only (auxiliary) connection never joins the mesh', async () => {
    const a = await gossipNode()
    const d = await gossipNode()
    a.pubsub.subscribe(TOPIC)
    d.pubsub.subscribe(TOPIC)
    // a DHT query over a connection with no handshake
    await d.libp2p.dial(a.getMultiaddrs()[0])
    for await (const event of d.libp2p.services.dht.getClosestPeers(a.peerId.toMultihash().bytes, { signal: AbortSignal.timeout(5_000) })) {
      assert.ok(event != null)
    }
    await identified(a.libp2p, d.peerId, MESHSUB)
    await identified(d.libp2p, a.peerId, MESHSUB)
    await settle()

    assert.deepEqual(a.connections().map(info => info.role), ['auxiliary'])
    for (const node of [a, d]) {
      assert.deepEqual(node.pubsub.getPeers(), [])
      assert.deepEqual(node.pubsub.getMeshPeers(TOPIC), [])
      assert.deepEqual(node.pubsub.getSubscribers(TOPIC), [])
    }
  })

  it('asks the application\'s validator (async): accept delivers and forwards, ignore drops, reject drops and counts against the sender', async () => {
    // a line: a – b – c; c publishes, b validates and forwards to a
    const [a, b, c] = [await gossipNode(), await gossipNode(), await gossipNode()]
    const gotA = inbox(a)
    const gotB = inbox(b)
    const seen: GossipMessage[] = []
    b.pubsub.topicValidators.set(TOPIC, async (message) => {
      seen.push(message)
      await new Promise(resolve => setTimeout(resolve, 5))
      const body = text(message)
      return body.startsWith('bad') ? 'reject' : body.startsWith('meh') ? 'ignore' : 'accept'
    })
    const rejects: GossipRejectDetail[] = []
    b.pubsub.addEventListener('message:reject', (evt) => { rejects.push(evt.detail) })
    for (const node of [a, b, c]) {
      node.pubsub.subscribe(TOPIC)
    }
    // c is reserved at b: its two rejections take its peer score to -20,
    // which would end its session (test/score/ covers that), not this test's concern
    await b.addReserved(c.getMultiaddrs()[0])
    await b.connect(a.getMultiaddrs()[0])
    await c.connect(b.getMultiaddrs()[0])
    await meshOf(b, [a, c])
    await meshOf(a, [b])

    for (const body of ['good 1', 'meh 1', 'bad 1', 'good 2', 'bad 2']) {
      await c.pubsub.publish(TOPIC, uint8ArrayFromString(body))
    }
    await until(() => gotA.length === 2, 5_000, 'the good messages at a')
    await settle()

    assert.deepEqual(gotB.map(text), ['good 1', 'good 2'])
    assert.deepEqual(gotA.map(text), ['good 1', 'good 2'], 'ignored and rejected messages are not forwarded')
    // at b, c published and sent them: its session gives its DID
    assert.equal(seen.length, 5)
    assert.ok(seen.every(message => message.receivedFrom.did === c.did && message.publisher?.did === c.did))
    // at a, b forwarded c's message: a has no session with the publisher
    assert.ok(gotA.every(message => message.from.equals(c.peerId) && message.receivedFrom.did === b.did && message.publisher == null))

    assert.deepEqual(rejects.map(detail => [text(detail.message), detail.rejections.rejected]), [['bad 1', 1], ['bad 2', 2]])
    const record = b.pubsub.rejectionsOf(c.peerId)
    assert.ok(record != null)
    assert.deepEqual({ did: record.did, rejected: record.rejected, lastTopic: record.lastTopic }, { did: c.did, rejected: 2, lastTopic: TOPIC })
    assert.deepEqual(b.pubsub.rejections().map(entry => entry.peerId.toString()), [c.peerId.toString()])
    assert.equal(a.pubsub.rejectionsOf(b.peerId), undefined)

    const [stats] = b.gossipTopics()
    assert.deepEqual({ topic: stats.topic, published: stats.published, received: stats.received, rejected: stats.rejected }, { topic: TOPIC, published: 0, received: 5, rejected: 2 })
    assert.deepEqual(stats.meshPeers.map(peer => peer.toString()).sort(), [a.peerId, c.peerId].map(peer => peer.toString()).sort())
    assert.equal(c.gossipTopics()[0].published, 5)
  })

  it('drops a session peer\'s message that its libp2p key did not sign, before any validator', async () => {
    const a = await gossipNode()
    const got = inbox(a)
    let validated = 0
    a.pubsub.topicValidators.set(TOPIC, () => { validated++; return 'accept' })
    a.pubsub.subscribe(TOPIC)
    // b speaks gossipsub by hand over its session
    const key = await generateKeyPair('Ed25519')
    const b = await net.node({ privateKey: key })
    await b.connect(a.getMultiaddrs()[0])
    const stream = await b.openStream(a.peerId, MESHSUB)

    const good = await signedMessage(key, b.peerId, SCOPED, 'signed', 1)
    const tampered = { ...await signedMessage(key, b.peerId, SCOPED, 'signed', 2), data: uint8ArrayFromString('tampered') }
    const unsigned = { ...await signedMessage(key, b.peerId, SCOPED, 'unsigned', 3), signature: undefined }
    const stranger = await generateKeyPair('Ed25519')
    const otherKey = await signedMessage(stranger, b.peerId, SCOPED, 'signed by another key', 4)
    for (const message of [tampered, unsigned, otherKey, good]) {
      stream.send(encodeFrame(RPC.encode({ subscriptions: [{ subscribe: true, topic: SCOPED }], messages: [message] })))
    }
    await until(() => got.length === 1, 5_000, 'the signed message')
    await settle()
    assert.deepEqual(got.map(text), ['signed'])
    assert.equal(validated, 1)
    assert.equal(a.gossipTopics()[0].received, 4)
    await stream.close()
  })

  it('counts duplicates: a full mesh of three gets each message more than once', async () => {
    const nodes = [await gossipNode(), await gossipNode(), await gossipNode()]
    const [a, b, c] = nodes
    for (const node of nodes) {
      node.pubsub.subscribe(TOPIC)
    }
    await a.connect(b.getMultiaddrs()[0])
    await a.connect(c.getMultiaddrs()[0])
    await b.connect(c.getMultiaddrs()[0])
    await meshOf(a, [b, c])
    await meshOf(b, [a, c])
    await meshOf(c, [a, b])

    const MESSAGES = 5
    for (let i = 0; i < MESSAGES; i++) {
      await c.pubsub.publish(TOPIC, uint8ArrayFromString(`block ${i}`))
    }
    await until(() => a.gossipTopics()[0].received + b.gossipTopics()[0].received >= 2 * MESSAGES, 5_000, 'every message at a and b')
    await settle()
    const stats = [a, b].map(node => node.gossipTopics()[0])
    const received = stats.reduce((sum, s) => sum + s.received, 0)
    const duplicate = stats.reduce((sum, s) => sum + s.duplicate, 0)
    assert.ok(duplicate > 0, 'some copies came twice')
    assert.equal(received - duplicate, 2 * MESSAGES, 'every message once at each of a and b, the rest copies')
  })

  it('a dozen session peers on one address: the hub knows every subscription, meshes with them and every publish reaches every node; a session that ends and re-opens is back in gossip', async () => {
    // gossipsub's default IP colocation score would push all twelve below 0 (no mesh, no IHAVE), 15 or more below the graylist
    const hub = await gossipNode()
    const peers = await Promise.all(Array.from({ length: 12 }, async () => gossipNode()))
    const nodes = [hub, ...peers]
    const inboxes = new Map(nodes.map(node => [node, inbox(node)]))
    for (const node of nodes) {
      node.pubsub.subscribe(TOPIC)
    }
    // one at a time: the hub holds few handshakes in flight
    for (const peer of peers) {
      await peer.connect(hub.getMultiaddrs()[0])
    }
    const ids = (list: PeerId[]): string[] => list.map(peer => peer.toString()).sort()
    const all = ids(peers.map(peer => peer.peerId))
    await until(() => JSON.stringify(ids(hub.pubsub.getSubscribers(TOPIC))) === JSON.stringify(all), 10_000, 'every subscription at the hub')
    await until(() => peers.every(peer => peer.pubsub.getSubscribers(TOPIC).some(id => id.equals(hub.peerId))), 10_000, 'the hub\'s subscription at every peer')
    // each peer grafts its one peer, the hub; twelve is the hub's Dhi, so it keeps them all
    // (a message forwarded while a peer joins the mesh may miss it: gossipsub gives no IHAVE to a new mesh peer)
    await meshOf(hub, peers)
    await Promise.all(peers.map(async peer => meshOf(peer, [hub])))

    /** Every node but `from` gets `data` */
    const spreads = async (from: PeerNode, data: string): Promise<void> => {
      await from.pubsub.publish(TOPIC, uint8ArrayFromString(data))
      for (const node of nodes.filter(node => node !== from)) {
        await until(() => inboxes.get(node)?.some(message => text(message) === data) === true, 5_000, `${data} at ${node.peerId.toString()}`)
      }
    }
    await Promise.all(peers.map(async (peer, i) => spreads(peer, `from peer ${i}`)))
    await spreads(hub, 'from the hub')

    // one session ends and a new one opens with the same peer
    const [back] = peers
    await hub.disconnect(back.peerId)
    await until(() => back.libp2p.getConnections(hub.peerId).length === 0 && hub.libp2p.getConnections(back.peerId).length === 0, 5_000, 'hung up')
    assert.ok(!hub.pubsub.getPeers().some(peer => peer.equals(back.peerId)), 'out of gossip as its session ends')
    await back.connect(hub.getMultiaddrs()[0])
    await until(() => hub.pubsub.getSubscribers(TOPIC).some(peer => peer.equals(back.peerId)), 5_000, 'its subscription at the hub again')
    await until(() => back.pubsub.getSubscribers(TOPIC).some(peer => peer.equals(hub.peerId)), 5_000, 'the hub\'s subscription at the peer again')
    await meshOf(hub, peers)
    await meshOf(back, [hub])
    await spreads(back, 'from the peer again')
    await spreads(hub, 'from the hub again')
  })
})
