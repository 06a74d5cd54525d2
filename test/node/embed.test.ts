import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { LevelDatastore } from 'datastore-level'
import { createLibp2p } from 'libp2p'
import { addressBook, dialManager, dhtProtocol, handleRequests, handshake, loadOrCreateDidSigner, notifications, request, sessions } from '../../src/index.js'
import { resolveChain } from '../../src/node/index.js'
import { TestNetwork, until } from '../utils/nodes.js'
import type { Session } from '../../src/index.js'

const net = new TestNetwork()
after(async () => { await net.cleanup() })

test('the services run inside someone else\'s createLibp2p', async () => {
  const datastore = new LevelDatastore(join(await net.dir(), 'datastore'))
  await datastore.open()
  const chain = await resolveChain({ chainId: 'test-chain' })
  const embedded = await createLibp2p({
    datastore,
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: { inboundConnectionThreshold: Infinity },
    services: {
      // the order README.md gives: the handshake ahead of identify
      sessions: sessions({ maxOutboundSessions: 2 }),
      handshake: handshake({ chain, signer: await loadOrCreateDidSigner(datastore) }),
      identify: identify(),
      ping: ping(),
      dht: kadDHT({ protocol: dhtProtocol(chain.chainId), clientMode: false, peerInfoMapper: passthroughMapper }),
      addressBook: addressBook(),
      dial: dialManager({ tickMs: 100 })
    }
  })
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
