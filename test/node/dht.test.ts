import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { KEEP_ALIVE } from '@libp2p/interface'
import { NoSessionError, dhtProtocol } from '../../src/index.js'
import { TestNetwork, eventually, until } from '../utils/nodes.js'
import type { PeerNode } from '../../src/index.js'
import type { PeerId } from '@libp2p/interface'

const PROTOCOL = '/test-chain/blocks/1.0.0'
const net = new TestNetwork()
after(async () => { await net.cleanup() })

/** kad-dht's tag on its closest peers: a rank for libp2p's connection pruner */
const KAD_CLOSE_TAG = 'kad-close'

async function tagsOf (node: PeerNode, peer: PeerNode): Promise<string[]> {
  return [...(await node.libp2p.peerStore.get(peer.peerId)).tags.keys()]
}

/** Runs DHT queries from `from` until one reaches `target` as a final peer */
async function findThroughDht (from: PeerNode, target: PeerId): Promise<void> {
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline) {
    for await (const event of from.libp2p.services.dht.getClosestPeers(target.toMultihash().bytes, { signal: AbortSignal.timeout(2_000) })) {
      if (event.name === 'FINAL_PEER' && event.peer.id.equals(target)) {
        return
      }
    }
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  throw new Error('the DHT never found the target')
}

describe('Kad-DHT traffic stays auxiliary', () => {
  it('runs on the chain-scoped protocol', async () => {
    const node = await net.node()
    assert.ok(node.libp2p.getProtocols().includes(dhtProtocol('test-chain')))
    assert.equal(dhtProtocol('test-chain'), '/peergate/test-chain/kad/1.0.0')
    assert.equal(node.libp2p.services.dht.getMode(), 'server')
  })

  it('a DHT query between nodes that never selected each other creates no session', async () => {
    const gated: string[] = []
    const boot = await net.node()
    const bootAddr = boot.getMultiaddrs()[0]
    const a = await net.node({ bootstrap: [bootAddr] })
    const c = await net.node({ bootstrap: [bootAddr] })
    for (const node of [boot, a, c]) {
      await node.handle(PROTOCOL, (_stream, connection) => { gated.push(connection.remotePeer.toString()) })
    }

    await until(() => boot.libp2p.getConnections(a.peerId).length > 0 && boot.libp2p.getConnections(c.peerId).length > 0, 5_000, 'bootstrap connections')
    await findThroughDht(a, c.peerId)
    await until(() => a.libp2p.getConnections(c.peerId).length > 0, 5_000, 'a DHT query connection from a to c')

    for (const node of [boot, a, c]) {
      assert.equal(node.sessions().length, 0, 'no sessions anywhere')
      assert.ok(node.connections().length > 0)
      assert.ok(node.connections().every(info => info.role === 'auxiliary'), 'every connection is auxiliary')
    }

    // gated protocols stay closed over auxiliary connections, both ways of asking
    await assert.rejects(a.openStream(c.peerId, PROTOCOL), (err: Error) => err.name === NoSessionError.name)
    const raw = await a.libp2p.dialProtocol(c.peerId, PROTOCOL)
    const outcome = await (async () => {
      raw.send(new Uint8Array([1, 2, 3]))
      for await (const chunk of raw) {
        return chunk
      }
    })().catch((err: Error) => err)
    assert.ok(outcome == null || outcome instanceof Error, 'the stream was refused')
    assert.deepEqual(gated, [])

    // selecting the peer promotes the existing DHT connection to a session
    const existing = a.libp2p.getConnections(c.peerId).map(conn => conn.id)
    const session = await a.connect(c.peerId)
    assert.ok(existing.includes(session.connection.id), 'the auxiliary connection was reused')
    assert.equal(a.connections().find(info => info.id === session.connection.id)?.role, 'outbound-session')
  })

  it('a node of another chain does not enter the routing table', async () => {
    const boot = await net.node()
    const stranger = await net.node({ chain: { chainId: 'other-chain' }, bootstrap: [boot.getMultiaddrs()[0]] })
    await until(() => boot.libp2p.getConnections(stranger.peerId).length > 0, 5_000, 'bootstrap connection')
    const strangerProtocols = async (): Promise<string[]> => (await boot.libp2p.peerStore.get(stranger.peerId)).protocols
    await eventually(async () => (await strangerProtocols()).includes(dhtProtocol('other-chain')), 'identify of the stranger')
    assert.equal((await strangerProtocols()).includes(dhtProtocol('test-chain')), false)

    // so a query from the bootstrap node has nobody to ask
    const found: string[] = []
    try {
      for await (const event of boot.libp2p.services.dht.getClosestPeers(stranger.peerId.toMultihash().bytes, { signal: AbortSignal.timeout(1_000) })) {
        if (event.name === 'FINAL_PEER' || event.name === 'PEER_RESPONSE') {
          found.push(event.from.toString())
        }
      }
    } catch (err: any) {
      assert.equal(err.name, 'TimeoutError')
    }
    assert.deepEqual(found, [])
    assert.equal(boot.sessions().length + stranger.sessions().length, 0)
  })

  it('peers whose session ended stay apart: the DHT ranks its closest peers but has libp2p redial neither', async () => {
    const a = await net.node()
    const b = await net.node()
    await a.connect(b.getMultiaddrs()[0])
    // kad-dht tags its closest peers every 5 s; its rank tag shows it has run
    // (it wrote its keep-alive tag, which libp2p's reconnect queue redials, in the same call)
    await eventually(async () => (await tagsOf(a, b)).includes(KAD_CLOSE_TAG) && (await tagsOf(b, a)).includes(KAD_CLOSE_TAG), 'the DHTs to rank each other', 10_000)
    assert.deepEqual((await tagsOf(a, b)).filter(tag => tag.startsWith(KEEP_ALIVE)), [])
    assert.deepEqual((await tagsOf(b, a)).filter(tag => tag.startsWith(KEEP_ALIVE)), [])

    const opened: string[] = []
    for (const node of [a, b]) {
      node.libp2p.addEventListener('connection:open', (evt) => { opened.push(`${node === a ? 'a' : 'b'} ${evt.detail.direction}`) })
    }
    await a.disconnect(b.peerId)
    await until(() => a.libp2p.getConnections().length + b.libp2p.getConnections().length === 0, 5_000, 'the session\'s connection to close')
    // a reconnect queue redials within milliseconds of the last connection closing
    await new Promise(resolve => setTimeout(resolve, 1_000))
    assert.deepEqual(opened, [], 'nobody redialed the peer that said Goodbye')
  })
})
