import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { prometheusMetrics } from '@libp2p/prometheus-metrics'
import { LevelDatastore } from 'datastore-level'
import { gossipsub } from '@libp2p/gossipsub'
import { createLibp2p } from 'libp2p'
import { Registry } from 'prom-client'
import { addressBook, createApiServer, createNodeMetrics, dialManager, dhtProtocol, gossip, handleRequests, handshake, loadOrCreateDidSigner, nodeView, notifications, request, sessions } from '../../src/index.js'
import { resolveChain } from '../../src/node/chain.js'
import { call, until as poll } from '../api/helpers.js'
import { sample } from '../utils/exposition.js'
import { TestNetwork, until } from '../utils/nodes.js'
import type { NodeViewServices, Session } from '../../src/index.js'
import type { Libp2p } from '@libp2p/interface'

const net = new TestNetwork()
after(async () => { await net.cleanup() })

/**
 * A libp2p node of the application's own, as README.md's "The services also
 * work inside your own createLibp2p" builds it: peergate's services in its
 * `createLibp2p`, no PeerNode
 */
async function embeddedNode (options: { metricsRegistry?: Registry, pubsub?: (components: any) => unknown } = {}): Promise<{ libp2p: Libp2p<NodeViewServices>, datastore: LevelDatastore }> {
  const datastore = new LevelDatastore(join(await net.dir(), 'datastore'))
  await datastore.open()
  const chain = await resolveChain({ chainId: 'test-chain' })
  const libp2p = await createLibp2p({
    datastore,
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: { inboundConnectionThreshold: Infinity },
    metrics: options.metricsRegistry == null ? undefined : prometheusMetrics({ registry: options.metricsRegistry, collectDefaultMetrics: false }),
    services: {
      // the order README.md gives: the handshake ahead of identify
      sessions: sessions({ maxOutboundSessions: 2 }),
      handshake: handshake({ chain, signer: await loadOrCreateDidSigner(datastore) }),
      identify: identify(),
      ping: ping(),
      dht: kadDHT({ protocol: dhtProtocol(chain.chainId), clientMode: false, peerInfoMapper: passthroughMapper }),
      addressBook: addressBook(),
      dial: dialManager({ tickMs: 100 }),
      ...(options.pubsub == null ? {} : { pubsub: options.pubsub })
    }
  })
  return { libp2p: libp2p as unknown as Libp2p<NodeViewServices>, datastore }
}

test('the services run inside someone else\'s createLibp2p', async () => {
  const { libp2p: embedded, datastore } = await embeddedNode()
  try {
    const peer = await net.node()
    const served: string[] = []
    await embedded.services.sessions.handle('/test-chain/blocks/1.0.0', (_stream, connection) => {
      served.push(connection.remotePeer.toString())
    })

    // the embedded dial manager selects a contact and makes it a session
    await embedded.services.addressBook.add({ peerId: peer.peerId, multiaddrs: [peer.getMultiaddrs()[0].decapsulateCode(421)], source: 'manual' })
    await until(() => embedded.services.sessions.list().length === 1, 5_000, 'the dial manager made a session')
    const session: Session = embedded.services.sessions.list()[0]
    assert.ok(session.peerId.equals(peer.peerId))
    assert.equal(session.did, peer.did)
    assert.equal(session.direction, 'outbound')

    // and the gate serves the session peer
    const stream = await peer.openStream(embedded.peerId, '/test-chain/blocks/1.0.0')
    await until(() => served.length === 1, 5_000, 'gated handler ran')
    await stream.close()

    // the application protocols work on the embedded session service
    await handleRequests(embedded.services.sessions, '/test-chain/echo/1.0.0', (req) => req)
    const response = await request(peer.libp2p.services.sessions, embedded.peerId, '/test-chain/echo/1.0.0', Uint8Array.of(7))
    assert.deepEqual([...response.payload], [7])
    const received: number[] = []
    await notifications(embedded.services.sessions, '/test-chain/news/1.0.0', { onMessage: (message) => { received.push(message[0]) } })
    const news = await peer.notifications('/test-chain/news/1.0.0', { onMessage: () => {} })
    await news.send(embedded.peerId, Uint8Array.of(9))
    await until(() => received.length === 1, 5_000, 'notification at the embedded node')
    assert.deepEqual(received, [9])
  } finally {
    await embedded.stop()
    await datastore.close()
  }
})

test('a node of your own createLibp2p serves /status, /peers and /metrics through its view', async () => {
  const registry = new Registry()
  const { libp2p, datastore } = await embeddedNode({ metricsRegistry: registry })
  const view = nodeView(libp2p, { metricsRegistry: registry })
  const metrics = createNodeMetrics(view)
  const api = createApiServer(view, { port: 0, token: 'embedded-token', metrics })
  await api.start()
  try {
    const [peer, contact] = [await net.node(), await net.node()]
    // a session this node selects (connect), and one its dial manager makes from a contact
    await view.connect(peer.getMultiaddrs()[0])
    await view.addContact(contact.getMultiaddrs()[0])
    await until(() => view.sessions().length === 2, 5_000, 'the dial manager made a session with the contact')

    assert.deepEqual((await call(`${api.url}/health`, 'GET')).body, { status: 'started', sessions: 2 })
    const status = (await call(`${api.url}/status`, 'GET')).body
    assert.equal(status.peerId, libp2p.peerId.toString())
    assert.equal(status.did, libp2p.services.handshake.did)
    assert.equal(status.chain.chainId, 'test-chain')
    assert.equal(status.sessions.outbound, 2)
    assert.equal(status.contacts, 2)

    // identify's agent, from the peer store
    const peers = await poll('both peers with their agent', async () => {
      const body = (await call(`${api.url}/peers`, 'GET')).body
      return body.length === 2 && body.every((p: any) => p.agent != null) ? body : undefined
    })
    const row = peers.find((p: any) => p.peerId === peer.peerId.toString())
    assert.equal(row.role, 'outbound-session')
    assert.equal(row.did, peer.did)
    assert.match(row.agent, /libp2p/)

    const text = (await call(`${api.url}/metrics`, 'GET')).body as string
    assert.equal(sample(text, 'peergate_sessions', { direction: 'outbound' }), 2)
    assert.equal(sample(text, 'peergate_handshakes_total', { result: 'opened', direction: 'outbound' }), 2)
    assert.equal(sample(text, 'peergate_dials_total', { result: 'opened' }), 1, 'the dial manager\'s dial:end, through the view')
    assert.equal(sample(text, 'peergate_address_book_contacts'), 2)
    assert.ok(text.includes('libp2p_'), 'libp2p\'s own metrics are in the same registry')
  } finally {
    await api.stop()
    metrics.stop()
    await libp2p.stop()
    await datastore.close()
  }
})

test('gossip() runs in your own createLibp2p, and its view shows the mesh; js-libp2p\'s own gossipsub under that name shows none', async () => {
  const { libp2p, datastore } = await embeddedNode({ pubsub: gossip({ gossipsub: { heartbeatInterval: 100 } }) })
  const plain = await embeddedNode({ pubsub: gossipsub() })
  try {
    const pubsub = libp2p.services.pubsub
    assert.ok(pubsub != null)
    const view = nodeView(libp2p)
    const peer = await net.node({ pubsub: { gossipsub: { heartbeatInterval: 100 } } })
    pubsub.subscribe('blocks')
    peer.pubsub.subscribe('blocks')
    await view.connect(peer.getMultiaddrs()[0])
    await until(() => view.gossipTopics()[0]?.meshPeers.length === 1, 5_000, 'the peer in the embedded node\'s mesh')
    assert.ok(view.gossipTopics()[0].meshPeers[0].equals(peer.peerId))
    assert.equal(pubsub.chainTopic('blocks'), '/peergate/test-chain/blocks')

    assert.deepEqual(nodeView(plain.libp2p).gossipTopics(), [])
  } finally {
    await libp2p.stop()
    await datastore.close()
    await plain.libp2p.stop()
    await plain.datastore.close()
  }
})
