/*
 * The limit of inbound sessions per source IP address (docs/PROTOCOL.md §8.1
 * check 6) on real nodes: each simulated host dials from a loopback address
 * of its own, so the target sees the sources a real network would show it.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { tcp, type TCPSocketOptions } from '@libp2p/tcp'
import { MemoryDatastore } from 'datastore-core'
import { ReasonCode, createNodeMetrics } from '../../src/index.js'
import { sample } from '../utils/exposition.js'
import { TestNetwork, until } from '../utils/nodes.js'
import type { NodeMetrics, PeerNode, PeerNodeOptions, SessionRejectDetail } from '../../src/index.js'

const net = new TestNetwork()
const metrics: NodeMetrics[] = []
after(async () => {
  metrics.forEach(m => { m.stop() })
  await net.cleanup()
})

/** A node whose connections come from `ip` (every address of 127.0.0.0/8 is loopback) */
async function nodeFrom (ip: string, options: PeerNodeOptions = {}): Promise<PeerNode> {
  return net.node({
    ...options,
    datastore: new MemoryDatastore(),
    // @libp2p/tcp hands dialOpts to net.connect, whose localAddress its type leaves out
    transports: [tcp({ dialOpts: { localAddress: ip } as TCPSocketOptions })]
  })
}

/** What `connect` gave: a session, or the reject the initiator heard on the wire (its `session:reject`) */
async function connectOutcome (initiator: PeerNode, target: PeerNode): Promise<{ opened: true } | { opened: false, reject: SessionRejectDetail }> {
  const heard: SessionRejectDetail[] = []
  const onReject = (evt: CustomEvent<SessionRejectDetail>): void => { heard.push(evt.detail) }
  initiator.addEventListener('session:reject', onReject)
  try {
    await initiator.connect(target.getMultiaddrs()[0])
    return { opened: true }
  } catch (err) {
    // connect rejects after its handshake reported the failure
    assert.equal(heard.length, 1, `one reject for ${String(err)}`)
    return { opened: false, reject: heard[0] }
  } finally {
    initiator.removeEventListener('session:reject', onReject)
  }
}

describe('inbound sessions per source IP', () => {
  it('20 peers from one IP, limit 4: 4 sessions, 16 TOO_MANY_FROM_IP rejects on the wire; a peer from another IP still gets in', async () => {
    const target = await net.node({ limits: { maxInboundSessionsPerIp: 4, ipLimitExempt: [] }, metrics: { collectDefaultMetrics: false } })
    const targetMetrics = createNodeMetrics(target)
    metrics.push(targetMetrics)
    assert.equal(target.status().sessions.maxInboundPerIp, 4)
    const localRejects: SessionRejectDetail[] = []
    target.addEventListener('session:reject', (evt) => { localRejects.push(evt.detail) })

    const crowd: PeerNode[] = []
    for (let i = 0; i < 20; i++) {
      crowd.push(await nodeFrom('127.0.0.5'))
    }
    const outcomes = []
    // one after another: libp2p's and the handshake's own limits on dials
    // and handshakes in flight per host stay out of the way
    for (const peer of crowd) {
      outcomes.push(await connectOutcome(peer, target))
    }
    const opened = outcomes.filter(o => o.opened)
    const refused = outcomes.flatMap(o => o.opened ? [] : [o.reject])
    assert.equal(opened.length, 4, `sessions opened: ${JSON.stringify(refused.map(r => `${r.reason} ${r.message}`))}`)
    assert.equal(refused.length, 16)
    for (const reject of refused) {
      assert.equal(reject.reason, ReasonCode.TOO_MANY_FROM_IP, reject.message)
      assert.equal(reject.side, 'remote', 'the reject came from the target, on the wire')
      assert.match(reject.message, /too many inbound sessions from 127\.0\.0\.5 \(limit 4 per IP address\)/)
    }
    assert.equal(target.sessions().length, 4)
    assert.ok(target.sessions().every(s => s.connection.remoteAddr.toString().startsWith('/ip4/127.0.0.5/')))
    await until(() => localRejects.length === 16, 5_000, 'the target to report its rejects')
    assert.ok(localRejects.every(r => r.reason === ReasonCode.TOO_MANY_FROM_IP && r.side === 'local' && r.direction === 'inbound'))
    assert.equal(sample(await targetMetrics.text(), 'peergate_handshakes_total', { result: 'rejected', direction: 'inbound', reason: 'TOO_MANY_FROM_IP', side: 'local' }), 16)

    const honest = await nodeFrom('127.0.0.6')
    assert.deepEqual(await connectOutcome(honest, target), { opened: true })
    assert.equal(target.sessions().length, 5)

    // a dial loop refused this way backs off as after TOO_MANY_PEERS: one more failure, a short wait
    const dialer = await nodeFrom('127.0.0.5', { dial: { tickMs: 100 } })
    await dialer.addContact(target.getMultiaddrs()[0].encapsulate(`/p2p/${target.peerId.toString()}`))
    await until(() => dialer.contact(target.peerId)?.backoffReason === ReasonCode.TOO_MANY_FROM_IP, 10_000, 'the dial loop to back off')
    const contact = dialer.contact(target.peerId)
    assert.equal(contact?.failures, 1)
    assert.ok(contact.nextAttempt > Date.now() && contact.nextAttempt <= Date.now() + 2_000, `next attempt in ${contact.nextAttempt - Date.now()} ms`)
    assert.equal(target.sessions().length, 5)

    // a session from the crowded IP that ends frees its place
    await target.disconnect(crowd[0].peerId)
    await until(() => target.sessions().length === 4, 5_000, 'the session to end')
    assert.deepEqual(await connectOutcome(crowd[19], target), { opened: true })
  })

  it('handshakes in flight hold no place: concurrent peers from one IP are refused at commit once the limit is reached', async () => {
    const target = await net.node({ limits: { maxInboundSessionsPerIp: 2, ipLimitExempt: [] } })
    const crowd: PeerNode[] = []
    for (let i = 0; i < 5; i++) {
      crowd.push(await nodeFrom('127.0.0.7'))
    }
    // 5 at once stay within the handshake's 8 in flight per IP
    const outcomes = await Promise.all(crowd.map(async peer => connectOutcome(peer, target)))
    assert.equal(outcomes.filter(o => o.opened).length, 2)
    for (const o of outcomes) {
      if (!o.opened) {
        assert.equal(o.reject.reason, ReasonCode.TOO_MANY_FROM_IP, o.reject.message)
      }
    }
    assert.equal(target.sessions().length, 2)
  })

  it('exempt ranges and reserved peers are outside the limit', async () => {
    const exempt = await net.node({ limits: { maxInboundSessionsPerIp: 1, ipLimitExempt: ['127.0.0.8/31'] } })
    for (const ip of ['127.0.0.8', '127.0.0.8', '127.0.0.9', '127.0.0.9']) {
      assert.deepEqual(await connectOutcome(await nodeFrom(ip), exempt), { opened: true }, ip)
    }
    const outside = await nodeFrom('127.0.0.10')
    assert.deepEqual(await connectOutcome(outside, exempt), { opened: true })
    const second = await connectOutcome(await nodeFrom('127.0.0.10'), exempt)
    assert.equal(second.opened ? undefined : second.reject.reason, ReasonCode.TOO_MANY_FROM_IP)

    // a reserved peer from a full IP gets in (this node's dial loop is off:
    // the peer dials in), and holds no place of its IP's
    const reservedPeer = await nodeFrom('127.0.0.10')
    await exempt.addReserved(reservedPeer.getMultiaddrs()[0].encapsulate(`/p2p/${reservedPeer.peerId.toString()}`))
    assert.deepEqual(await connectOutcome(reservedPeer, exempt), { opened: true })
    const reservedFirst = await nodeFrom('127.0.0.11')
    await exempt.addReserved(reservedFirst.getMultiaddrs()[0].encapsulate(`/p2p/${reservedFirst.peerId.toString()}`))
    assert.deepEqual(await connectOutcome(reservedFirst, exempt), { opened: true })
    assert.deepEqual(await connectOutcome(await nodeFrom('127.0.0.11'), exempt), { opened: true })
    assert.ok(exempt.sessions().every(s => s.direction === 'inbound'))
  })
})
