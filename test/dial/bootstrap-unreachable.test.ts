/**
 * A bootstrap peer nobody answers at: the node says so as `bootstrap:unreachable`
 * during its start, before anyone can listen, so it also keeps it for whoever
 * asks later (`unreachableBootstrapPeers()`, what the CLI's warning reads).
 * Real nodes on 127.0.0.1.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { TestNetwork, closedPort, until } from '../utils/nodes.js'

const net = new TestNetwork()
after(async () => { await net.cleanup() })

describe('an unreachable bootstrap peer', () => {
  it('is kept with its error for a listener that came after the node started, and dropped once a connection to it is open', async () => {
    const stranger = await net.node()
    const port = await closedPort()
    const address = `/ip4/127.0.0.1/tcp/${port}/p2p/${stranger.peerId.toString()}`
    const node = await net.node({ bootstrap: [address] })
    await until(() => node.unreachableBootstrapPeers().length === 1, 5_000, 'the failed bootstrap dial')
    const [detail] = node.unreachableBootstrapPeers()
    assert.ok(detail.peerId.equals(stranger.peerId))
    assert.deepEqual(detail.multiaddrs.map(ma => ma.toString()), [`/ip4/127.0.0.1/tcp/${port}`])
    assert.match(detail.error.message, /ECONNREFUSED|connect/i)

    // reached at last (here on its real address): no longer listed
    await node.libp2p.dial(stranger.getMultiaddrs()[0])
    assert.deepEqual(node.unreachableBootstrapPeers(), [])
  })
})
