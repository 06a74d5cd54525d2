import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { InvalidParametersError } from '@libp2p/interface'
import { Key } from 'interface-datastore'
import { TestNetwork } from '../utils/nodes.js'
import type { Sessions } from '../../src/index.js'
import type { PeerId } from '@libp2p/interface'

const net = new TestNetwork()
after(async () => { await net.cleanup() })

/** A service of the chain's own: it finds peergate's services among its components */
class Greeter {
  readonly sessions: Sessions
  private readonly peerId: PeerId
  constructor (components: { peerId: PeerId, sessions: Sessions }) {
    this.sessions = components.sessions
    this.peerId = components.peerId
  }

  greet (): string {
    return `hello from ${this.peerId.toString()}`
  }
}

function greeter (): (components: { peerId: PeerId, sessions: Sessions }) => Greeter {
  return (components) => new Greeter(components)
}

describe('createPeerNode with your own services', () => {
  it('adds them after peergate\'s, typed, with peergate\'s services among their components', async () => {
    const node = await net.node({ services: { greeter: greeter() } })
    // typed: no cast needed
    const service: Greeter = node.libp2p.services.greeter
    assert.equal(service.greet(), `hello from ${node.peerId.toString()}`)
    assert.equal(service.sessions, node.libp2p.services.sessions)
    assert.deepEqual(Object.keys(node.libp2p.services), ['sessions', 'handshake', 'identify', 'ping', 'keepAlive', 'dht', 'addressBook', 'score', 'dial', 'greeter'])
  })

  it('puts gossip (the pubsub option) after peergate\'s other services and before yours', async () => {
    const node = await net.node({ pubsub: true, services: { greeter: greeter() } })
    assert.deepEqual(Object.keys(node.libp2p.services), ['sessions', 'handshake', 'identify', 'ping', 'keepAlive', 'dht', 'addressBook', 'score', 'dial', 'pubsub', 'greeter'])
    assert.equal(node.pubsub, node.libp2p.services.pubsub)
  })

  for (const name of ['sessions', 'handshake', 'identify', 'ping', 'keepAlive', 'dht', 'addressBook', 'score', 'dial', 'pubsub']) {
    it(`refuses a service named ${name}`, async () => {
      // as any: a computed name widens the services' type to an index signature
      await assert.rejects(net.node({ services: { [name]: greeter() } as any }), (err: Error) => {
        return err.name === InvalidParametersError.name && err.message.includes(`services.${name}`)
      })
    })
  }
})

describe('node.datastore', () => {
  it('keeps the chain\'s own records in the node\'s LevelDB across restarts', async () => {
    const dataDir = await net.dir()
    const key = new Key('/test-chain/blocks/0xabc')
    const first = await net.node({ dataDir })
    await first.datastore.put(key, Uint8Array.of(1, 2, 3))
    await first.stop()
    const second = await net.node({ dataDir })
    assert.deepEqual([...await second.datastore.get(key)], [1, 2, 3])
    assert.equal(second.peerId.toString(), first.peerId.toString(), 'the same data dir, the same node')
  })
})
