import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { REVERSAL_DETAIL } from '../../src/dial/constants.js'
import { createPeerNode } from '../../src/index.js'
import { LOOPBACK_RANGE, TestNetwork, until } from '../utils/nodes.js'
import type { PeerNode, PeerNodeOptions, SessionCloseDetail } from '../../src/index.js'

const OUTBOUND_TARGET = 3
const NODES = 12
const net = new TestNetwork()

/** small limits and a fast loop, so that a 12-node network settles in seconds */
const options: PeerNodeOptions = {
  limits: { maxOutboundSessions: OUTBOUND_TARGET, maxInboundSessions: 8, inboundBurst: 0 },
  dial: { tickMs: 200, autoDial: true },
  discovery: { intervalBelowTargetMs: 300, intervalAtTargetMs: 5_000 }
}

let boot: PeerNode
let stranger: PeerNode
const nodes: PeerNode[] = []
const dataDirs = new Map<PeerNode, string>()

function outbound (node: PeerNode): number {
  return node.sessions().filter(s => s.direction === 'outbound').length
}

let startedAt = 0
/** session ends: where, with whom, why */
const closed: Array<{ at: string, self: string, peer: string, line: string }> = []
function onClose (at: string, node: PeerNode): (evt: CustomEvent<SessionCloseDetail>) => void {
  return (evt) => {
    const { session, reason, side, message } = evt.detail
    closed.push({ at, self: node.peerId.toString(), peer: session.peerId.toString(), line: `${reason} at ${at} (${side}${message == null ? '' : `: ${message}`})` })
  }
}

before(async () => {
  startedAt = Date.now()
  boot = await net.node(options)
  boot.addEventListener('session:close', onClose('boot', boot))
  const bootstrap = [boot.getMultiaddrs()[0]]
  // a node of another chain that knows the same bootstrap node
  stranger = await net.node({ ...options, chain: { chainId: 'other-chain' }, bootstrap })
  for (let i = 1; i < NODES; i++) {
    const dataDir = await net.dir()
    const node = await net.node({ ...options, dataDir, bootstrap })
    dataDirs.set(node, dataDir)
    node.addEventListener('session:close', onClose(`node ${i}`, node))
    nodes.push(node)
  }
})
after(async () => { await net.cleanup() })

describe('a network that only knows one bootstrap node', () => {
  it('every node reaches its outbound target through DHT discovery', async () => {
    await until(() => nodes.every(node => outbound(node) >= OUTBOUND_TARGET), 30_000, 'every node at its outbound target')
    for (const node of nodes) {
      // each knew one contact, the bootstrap node: the others came through the DHT
      // (or dialed in first, and were then selected back)
      assert.ok(node.contacts().filter(c => c.source === 'dht').length >= OUTBOUND_TARGET - 1, 'contacts discovered through the DHT')
      for (const session of node.sessions().filter(s => s.direction === 'outbound')) {
        const contact = node.contacts().find(c => c.peerId.equals(session.peerId))
        assert.ok(contact != null && contact.source !== 'manual', 'outbound sessions are contacts the dial manager selected')
      }
      assert.ok(node.sessions().length <= OUTBOUND_TARGET + 8)
    }
  })

  it('no node counts a DHT connection as a session, and auxiliary connections are visible as such', async () => {
    let auxiliary = 0
    for (const node of [boot, ...nodes]) {
      const infos = node.connections()
      const sessionConnections = infos.filter(i => i.role === 'outbound-session' || i.role === 'inbound-session')
      assert.equal(sessionConnections.length, node.sessions().length, 'one connection per session')
      for (const session of node.sessions()) {
        assert.equal(infos.find(i => i.id === session.connection.id)?.role, session.direction === 'outbound' ? 'outbound-session' : 'inbound-session')
      }
      auxiliary += infos.filter(i => i.role === 'auxiliary').length
      const status = node.status()
      assert.equal(status.sessions.outbound + status.sessions.inbound, node.sessions().length)
      assert.equal(status.connections.auxiliary, infos.filter(i => i.role === 'auxiliary').length)
    }
    assert.ok(auxiliary > 0, 'DHT queries left auxiliary connections that are not sessions')
  })

  it('sessions outlive the keep-alive\'s round (every 10 s)', async () => {
    await until(() => Date.now() - startedAt > 11_000, 15_000, 'a heartbeat to pass')
    // but for sessions turned around by design (README, "Turning a session
    // around"): the bootstrap node takes 8 nodes inbound first and may know
    // no other peer to dial for a while. Both ends of such a session are left
    // out, whether the peer read the Goodbye or only saw the connection close.
    const pair = (a: string, b: string): string => [a, b].sort().join(' ')
    const reversed = new Set(closed.filter(c => c.line.includes(REVERSAL_DETAIL)).map(c => pair(c.self, c.peer)))
    assert.deepEqual(closed.filter(c => !reversed.has(pair(c.self, c.peer))).map(c => c.line), [], 'no session ended')
    assert.ok(nodes.every(node => outbound(node) >= OUTBOUND_TARGET))
  })

  it('never dials a node of another chain that it could only have met through the DHT', async () => {
    for (const node of [boot, ...nodes]) {
      assert.equal(node.contacts().some(c => c.peerId.equals(stranger.peerId)), false)
      assert.equal(node.sessions().some(s => s.peerId.equals(stranger.peerId)), false)
    }
    assert.equal(stranger.sessions().length, 0)
  })

  it('a node restarted on the same data dir reconnects from its address book, without the bootstrap node', async () => {
    const node = nodes[0]
    const dataDir = dataDirs.get(node)
    assert.ok(dataDir != null)
    const peerId = node.peerId.toString()
    const known = node.contacts().length
    assert.ok(known >= OUTBOUND_TARGET)
    closed.length = 0
    await node.stop()
    await boot.stop()

    const restarted = await createPeerNode({
      ...options,
      // as TestNetwork.node gives its nodes: every peer dials from 127.0.0.1
      limits: { ...options.limits, ipLimitExempt: [LOOPBACK_RANGE] },
      dataDir,
      listen: ['/ip4/127.0.0.1/tcp/0'],
      chain: { chainId: 'test-chain' },
      connectionManager: { inboundConnectionThreshold: Infinity }
    })
    try {
      assert.equal(restarted.peerId.toString(), peerId)
      assert.ok(restarted.contacts().length >= known - 1, 'the book came back from disk')
      await until(() => outbound(restarted) >= OUTBOUND_TARGET, 20_000, 'restarted node back at its outbound target')
      assert.equal(restarted.sessions().some(s => s.peerId.equals(boot.peerId)), false)
    } finally {
      await restarted.stop()
    }
  })
})
