import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { ReasonCode, createNodeMetrics } from '../../src/index.js'
import { readFileSync } from 'node:fs'
import { version as libp2pVersion } from 'libp2p/version'
import { buildInfo } from '../../src/node/index.js'
import { sample } from '../utils/exposition.js'
import { TestNetwork, nextEvent, until } from '../utils/nodes.js'
import type { NodeMetrics, PeerNode, SessionRejectDetail } from '../../src/index.js'

const packageJson = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'))
const net = new TestNetwork()
const metrics: NodeMetrics[] = []
const nodes: PeerNode[] = []
after(async () => {
  metrics.forEach(m => { m.stop() })
  await net.cleanup()
})

/** a node with libp2p's metrics on, and peergate's series over them */
async function meteredNode (chainId = 'test-chain'): Promise<{ node: PeerNode, metrics: NodeMetrics }> {
  const node = await net.node({ chain: { chainId }, metrics: { collectDefaultMetrics: false } })
  const m = createNodeMetrics(node)
  metrics.push(m)
  nodes.push(node)
  return { node, metrics: m }
}

/** every label value of every sample */
function labelValues (text: string): string[] {
  return [...text.matchAll(/\w+="([^"]*)"/g)].map(m => m[1])
}

describe('node metrics', () => {
  it('count a session: the gauge by direction, the handshake counter and its duration, on both sides; libp2p\'s metrics are in each node\'s own registry', async () => {
    const a = await meteredNode()
    const b = await meteredNode()
    await a.node.connect(b.node.getMultiaddrs()[0])
    await until(() => b.node.sessions().length === 1, 5_000, 'session at b')

    const textA = await a.metrics.text()
    const textB = await b.metrics.text()
    assert.equal(sample(textA, 'peergate_sessions', { direction: 'outbound' }), 1)
    assert.equal(sample(textA, 'peergate_sessions', { direction: 'inbound' }), 0)
    assert.equal(sample(textB, 'peergate_sessions', { direction: 'inbound' }), 1)
    assert.equal(sample(textA, 'peergate_handshakes_total', { result: 'opened', direction: 'outbound' }), 1)
    assert.equal(sample(textB, 'peergate_handshakes_total', { result: 'opened', direction: 'inbound' }), 1)
    assert.equal(sample(textA, 'peergate_handshake_duration_seconds_count', { result: 'opened' }), 1)
    assert.equal(sample(textA, 'peergate_connections', { role: 'outbound-session' }), 1)
    assert.equal(sample(textA, 'peergate_handshakes_in_flight', { direction: 'outbound' }), 0)
    assert.ok(textA.includes('libp2p_'), 'libp2p\'s own metrics are in a\'s registry')
    assert.ok(textB.includes('libp2p_'), 'and in b\'s')
    assert.notEqual(a.metrics.registry, b.metrics.registry)
    assert.match(a.metrics.contentType, /^text\/plain/)
  })

  it('count a rejected handshake by reason and side: a node of another chain gets WRONG_CHAIN', async () => {
    const a = await meteredNode()
    const other = await meteredNode('other-chain')
    const rejected = nextEvent<SessionRejectDetail>(a.node, 'session:reject')
    await assert.rejects(other.node.connect(a.node.getMultiaddrs()[0]))
    const detail = await rejected
    assert.equal(detail.reason, ReasonCode.WRONG_CHAIN)

    const text = await a.metrics.text()
    assert.equal(sample(text, 'peergate_handshakes_total', { result: 'rejected', reason: 'WRONG_CHAIN', side: detail.side, direction: 'inbound' }), 1)
    assert.equal(sample(text, 'peergate_handshake_duration_seconds_count', { result: 'rejected' }), 1)
    await until(() => other.node.sessions().length === 0)
    const otherText = await other.metrics.text()
    assert.ok(sample(otherText, 'peergate_handshakes_total', { result: 'rejected', reason: 'WRONG_CHAIN', direction: 'outbound' }) === 1)
  })

  it('count session ends on both sides: the Goodbye sent (local) and received (remote), with the reason', async () => {
    const a = await meteredNode()
    const b = await meteredNode()
    await a.node.connect(b.node.getMultiaddrs()[0])
    await until(() => b.node.sessions().length === 1, 5_000, 'session at b')
    const closedAtB = nextEvent(b.node, 'session:close')
    await a.node.disconnect(b.node.peerId)
    await closedAtB

    const textA = await a.metrics.text()
    const textB = await b.metrics.text()
    assert.equal(sample(textA, 'peergate_session_closes_total', { side: 'local', reason: 'DISCONNECT_REQUESTED' }), 1)
    assert.equal(sample(textB, 'peergate_session_closes_total', { side: 'remote', reason: 'DISCONNECT_REQUESTED' }), 1)
    assert.equal(sample(textA, 'peergate_sessions', { direction: 'outbound' }), 0)
  })

  it('count gated streams refused for want of a session, both ways', async () => {
    const a = await meteredNode()
    const b = await meteredNode()
    await b.node.handle('/test-chain/echo/1.0.0', () => {})
    await assert.rejects(a.node.openStream(b.node.peerId, '/test-chain/echo/1.0.0'), { name: 'NoSessionError' })
    const plain = await net.plain()
    const stream = await plain.dialProtocol(b.node.getMultiaddrs()[0], '/test-chain/echo/1.0.0')
    await until(() => stream.status !== 'open', 5_000, 'refused by the gate')
    assert.equal(sample(await a.metrics.text(), 'peergate_gated_stream_refusals_total', { direction: 'outbound' }), 1)
    assert.equal(sample(await b.metrics.text(), 'peergate_gated_stream_refusals_total', { direction: 'inbound' }), 1)
  })

  it('count the dial loop\'s dials by result, and the address book', async () => {
    const a = await meteredNode()
    const b = await meteredNode()
    await a.node.addContact(b.node.getMultiaddrs()[0])
    await a.node.libp2p.services.dial.tick()
    await until(() => a.node.sessions().length === 1 && a.node.status().dialing === 0, 5_000, 'the dial to end')

    const text = await a.metrics.text()
    assert.equal(sample(text, 'peergate_dials_total', { result: 'opened' }), 1)
    assert.equal(sample(text, 'peergate_address_book_contacts'), 1)
    assert.equal(sample(text, 'peergate_address_book_contacts_in_backoff'), 0)
    assert.equal(sample(text, 'peergate_dials_in_flight'), 0)
  })

  it('never use a peer id as a label value, and stop() takes peergate\'s series out of the registry', async () => {
    const texts = (await Promise.all(metrics.map(async m => m.text()))).join('\n')
    const ids = nodes.map(n => n.peerId.toString())
    assert.ok(ids.length > 0)
    for (const value of labelValues(texts)) {
      assert.ok(!ids.includes(value), `label value ${value} is a peer id`)
      assert.doesNotMatch(value, /^(12D3Koo|Qm)[1-9A-HJ-NP-Za-km-z]{40,}$/, `label value ${value} looks like a peer id`)
    }

    const { node, metrics: m } = await meteredNode()
    m.stop()
    const text = await m.registry.metrics()
    assert.ok(!text.includes('peergate_'), 'no peergate series after stop()')
    assert.ok(text.includes('libp2p_'), 'libp2p\'s stay with the node')
    // a second createNodeMetrics on the same node works after stop()
    const again = createNodeMetrics(node)
    metrics.push(again)
    assert.ok((await again.text()).includes('peergate_sessions'))
  })

  it('peergate_build_info is 1, labelled with the version, the commit the build recorded, libp2p\'s and Node\'s versions', async () => {
    const { metrics: m } = await meteredNode()
    const info = buildInfo()
    const text = await m.text()
    assert.match(text, /^# TYPE peergate_build_info gauge$/m)
    assert.equal(sample(text, 'peergate_build_info', { version: packageJson.version, commit: info.commit ?? 'unknown', libp2p: libp2pVersion, node: process.versions.node }), 1)
  })

  it('without libp2p metrics on the node, use a registry of their own', async () => {
    const node = await net.node()
    assert.equal(node.metricsRegistry, undefined)
    const m = createNodeMetrics(node)
    metrics.push(m)
    const text = await m.text()
    assert.equal(sample(text, 'peergate_sessions', { direction: 'outbound' }), 0)
    assert.ok(!text.includes('libp2p_'))
  })
})
