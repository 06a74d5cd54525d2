import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { after, describe, it } from 'node:test'
import { TestNetwork, until } from '../utils/nodes.js'
import type { PeerNode } from '../../src/index.js'

/** More than libp2p's default of 10 inbound connections upgrading at once, fewer than the 64 handshakes in flight */
const UPGRADING = 20

const net = new TestNetwork()
const sockets: Socket[] = []
after(async () => {
  sockets.forEach(socket => socket.destroy())
  await net.cleanup()
})

/** libp2p's count of the inbound connections it is upgrading (not public: no event tells when a socket was counted) */
function upgrading (node: PeerNode): number {
  return (node.libp2p as unknown as { components: { connectionManager: { incomingPendingConnections: number } } }).components.connectionManager.incomingPendingConnections
}

describe('inbound connections upgrading at once', () => {
  it(`${UPGRADING} connections that never finish their upgrade leave room for a newcomer's session`, async () => {
    const victim = await net.node()
    const honest = await net.node()
    const port = Number(victim.getMultiaddrs()[0].getComponents().find(c => c.name === 'tcp')?.value)

    // TCP connections that say nothing: each holds one of libp2p's upgrade places until its 10 s upgrade timeout
    let refused = 0
    for (let i = 0; i < UPGRADING; i++) {
      const socket = connect(port, '127.0.0.1')
      socket.on('error', () => {})
      socket.on('close', () => { refused++ })
      sockets.push(socket)
    }
    await until(() => upgrading(victim) + refused === UPGRADING, 5_000, 'the victim to take or refuse every silent connection')
    assert.equal(refused, 0, `the victim upgrades ${upgrading(victim)} connections at once and refused ${refused}`)

    const session = await honest.connect(victim.getMultiaddrs()[0])
    assert.ok(session.peerId.equals(victim.peerId))
  })
})
