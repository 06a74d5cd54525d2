/**
 * Reserved peers added and removed at runtime (PeerNode.addReserved /
 * removeReserved), kept in the data dir across restarts
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { Key } from 'interface-datastore'
import { RESERVED_KEY_PREFIX } from '../../src/dial/index.js'
import { TestNetwork, nextEvent } from '../utils/nodes.js'

const net = new TestNetwork()
after(async () => { await net.cleanup() })

describe('reserved peers at runtime', () => {
  it('a peer reserved at runtime is reserved again after a restart; one removed is not, and stays a contact', async () => {
    const dataDir = await net.dir()
    const b = await net.node()
    const c = await net.node()
    const first = await net.node({ dataDir, reserved: [c.getMultiaddrs()[0]] })
    const [added] = await first.addReserved(b.getMultiaddrs()[0])
    assert.equal(added.peerId.toString(), b.peerId.toString())
    assert.equal(added.stored, true)
    assert.deepEqual(first.reserved().map(p => [p.peerId.toString(), p.stored]).sort(), [[b.peerId.toString(), true], [c.peerId.toString(), false]].sort())
    await first.stop()

    // c came from the options only: without them it is not reserved
    const second = await net.node({ dataDir })
    assert.deepEqual(second.reserved().map(p => p.peerId.toString()), [b.peerId.toString()])
    assert.equal(second.libp2p.services.sessions.isReserved(b.peerId), true)
    const opened = nextEvent(second, 'session:open')
    await second.libp2p.services.dial.tick()
    assert.equal((await opened as any).peerId.toString(), b.peerId.toString())
    assert.equal(second.status().sessions.reserved, 1)

    assert.equal((await second.removeReserved(b.peerId))?.peerId.toString(), b.peerId.toString())
    assert.equal(await second.removeReserved(b.peerId), undefined)
    assert.notEqual(second.session(b.peerId), undefined)
    assert.deepEqual(second.contacts().map(contact => contact.peerId.toString()), [b.peerId.toString()])
    await second.stop()

    const third = await net.node({ dataDir })
    assert.deepEqual(third.reserved(), [])
    await third.stop()
  })

  it('an unreadable reserved-peer record is skipped, kept, and the node starts', async () => {
    const dataDir = await net.dir()
    const b = await net.node()
    const first = await net.node({ dataDir })
    const garbage = new Key(`${RESERVED_KEY_PREFIX}/${b.peerId.toString()}`)
    await first.datastore.put(garbage, new TextEncoder().encode('{"multiaddrs":'))
    await first.datastore.put(new Key(`${RESERVED_KEY_PREFIX}/not-a-peer-id`), new TextEncoder().encode('{"multiaddrs":["/ip4/127.0.0.1/tcp/1"]}'))
    await first.stop()
    const second = await net.node({ dataDir })
    assert.deepEqual(second.reserved(), [])
    assert.equal(await second.datastore.has(garbage), true)
    await assert.rejects(second.addReserved(second.getMultiaddrs()[0]), { name: 'InvalidParametersError', message: /is this node's own peer id/ })
  })
})
