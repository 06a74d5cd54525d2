/*
 * createNodeMetrics reads a node through its view and nothing else: an
 * in-memory view, without libp2p, feeds every series.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { multiaddr } from '@multiformats/multiaddr'
import { LocalReason, PeerAction, ReasonCode, createNodeMetrics } from '../../src/index.js'
import { testContact } from '../utils/contacts.js'
import { sample } from '../utils/exposition.js'
import { FakeNodeView, testPeerId, testSession } from '../utils/fake-view.js'
import type { ConnectionInfo, ConnectionRole, GossipTopicStats } from '../../src/index.js'
import type { PeerId } from '@libp2p/interface'

const NOW = 1_000_000

function connection (peerId: PeerId, id: string, role: ConnectionRole): ConnectionInfo {
  return { id, peerId, role, remoteAddr: multiaddr('/ip4/127.0.0.1/tcp/4002'), direction: role === 'inbound-session' ? 'inbound' : 'outbound', opened: NOW - 5_000 }
}

describe('metrics over an in-memory node view', () => {
  it('read the state series from the view at scrape time, iterating the book without copying it', async () => {
    const view = new FakeNodeView(await testPeerId())
    const [a, b, c, d] = await Promise.all([testPeerId(), testPeerId(), testPeerId(), testPeerId()])
    view.sessionsByPeer.set(a, testSession(a, { connectionId: 'ca', direction: 'outbound' }))
    view.sessionsByPeer.set(b, testSession(b, { connectionId: 'cb', direction: 'inbound' }))
    view.handshakesInFlight = [{ peerId: c, connectionId: 'cc', direction: 'inbound' }]
    view.connectionInfos = [connection(a, 'ca', 'outbound-session'), connection(b, 'cb', 'inbound-session'), connection(c, 'cc', 'handshaking'), connection(d, 'cd', 'auxiliary')]
    view.dialing = [d]
    view.book.set(a, testContact(a))
    view.book.set(c, testContact(c, { nextAttempt: NOW + 60_000, backoffReason: ReasonCode.TIMEOUT }))
    view.book.set(d, testContact(d, { nextAttempt: NOW - 1 }))

    const metrics = createNodeMetrics(view, { now: () => NOW })
    try {
      const text = await metrics.text()
      assert.equal(sample(text, 'peergate_sessions', { direction: 'outbound' }), 1)
      assert.equal(sample(text, 'peergate_sessions', { direction: 'inbound' }), 1)
      assert.equal(sample(text, 'peergate_handshakes_in_flight', { direction: 'inbound' }), 1)
      assert.equal(sample(text, 'peergate_handshakes_in_flight', { direction: 'outbound' }), 0)
      for (const role of ['outbound-session', 'inbound-session', 'handshaking', 'auxiliary']) {
        assert.equal(sample(text, 'peergate_connections', { role }), 1, role)
      }
      assert.equal(sample(text, 'peergate_dials_in_flight'), 1)
      assert.equal(sample(text, 'peergate_address_book_contacts'), 3)
      assert.equal(sample(text, 'peergate_address_book_contacts_in_backoff'), 1)
      assert.equal(view.bookCopies, 0, 'a scrape never copies the address book')
    } finally {
      metrics.stop()
    }
  })

  it('read gossip per topic: mesh peers, and the message counts as counters that only grow; an unsubscribed topic goes', async () => {
    const view = new FakeNodeView(await testPeerId())
    const [a, b] = await Promise.all([testPeerId(), testPeerId()])
    const stats = (topic: string, meshPeers: PeerId[], published: number, received: number, duplicate: number, rejected: number): GossipTopicStats =>
      ({ topic, meshPeers, published, received, duplicate, rejected })
    const metrics = createNodeMetrics(view)
    try {
      const scrapes: Array<[string, GossipTopicStats[], Record<string, Array<number | undefined>>]> = [
        // what, the view's topics, then per series the blocks and txs samples
        ['no gossip', [], { mesh: [undefined, undefined], published: [undefined, undefined] }],
        ['two topics', [stats('blocks', [a, b], 1, 10, 3, 2), stats('txs', [a], 0, 4, 0, 0)],
          { mesh: [2, 1], published: [1, 0], received: [10, 4], duplicate: [3, 0], rejected: [2, 0] }],
        ['more of each', [stats('blocks', [b], 2, 15, 4, 2), stats('txs', [], 1, 6, 1, 1)],
          { mesh: [1, 0], published: [2, 1], received: [15, 6], duplicate: [4, 1], rejected: [2, 1] }],
        ['txs unsubscribed', [stats('blocks', [b], 2, 16, 4, 2)],
          { mesh: [1, undefined], received: [16, undefined] }],
        ['txs subscribed again: its counts start from 0', [stats('blocks', [b], 2, 16, 4, 2), stats('txs', [a], 0, 3, 0, 0)],
          { mesh: [1, 1], received: [16, 3] }]
      ]
      const series: Record<string, string> = {
        mesh: 'peergate_gossip_mesh_peers',
        published: 'peergate_gossip_messages_published_total',
        received: 'peergate_gossip_messages_received_total',
        duplicate: 'peergate_gossip_messages_duplicate_total',
        rejected: 'peergate_gossip_messages_rejected_total'
      }
      for (const [what, topics, expected] of scrapes) {
        view.gossip = topics
        const text = await metrics.text()
        for (const [key, [blocks, txs]] of Object.entries(expected)) {
          assert.deepEqual([sample(text, series[key], { topic: 'blocks' }), sample(text, series[key], { topic: 'txs' })], [blocks, txs], `${what}: ${series[key]}`)
        }
      }
    } finally {
      metrics.stop()
    }
  })

  it('count the view\'s session and dial events, and stop listening on stop()', async () => {
    const view = new FakeNodeView(await testPeerId())
    const peer = await testPeerId()
    const metrics = createNodeMetrics(view)
    const session = testSession(peer, { connectionId: 'c1', direction: 'inbound' })
    view.safeDispatchEvent('handshake:start', { detail: { peerId: peer, connectionId: 'c1', direction: 'inbound' } })
    view.safeDispatchEvent('session:open', { detail: session })
    view.safeDispatchEvent('session:reject', { detail: { peerId: peer, connectionId: 'c2', direction: 'outbound', reason: ReasonCode.WRONG_CHAIN, side: 'remote', message: 'other chain' } })
    view.safeDispatchEvent('session:close', { detail: { session, reason: ReasonCode.BANNED, side: 'local' } })
    view.safeDispatchEvent('stream:refuse', { detail: { peerId: peer, protocol: '/x/1.0.0', direction: 'inbound' } })
    view.safeDispatchEvent('dial:end', { detail: { peerId: peer, result: 'opened', reserved: false } })
    view.safeDispatchEvent('dial:end', { detail: { peerId: peer, result: 'failed', reason: LocalReason.DIAL_FAILED, reserved: false } })

    const text = await metrics.text()
    assert.equal(sample(text, 'peergate_handshakes_total', { result: 'opened', direction: 'inbound' }), 1)
    assert.equal(sample(text, 'peergate_handshake_duration_seconds_count', { result: 'opened' }), 1)
    assert.equal(sample(text, 'peergate_handshakes_total', { result: 'rejected', direction: 'outbound', reason: 'WRONG_CHAIN', side: 'remote' }), 1)
    assert.equal(sample(text, 'peergate_session_closes_total', { side: 'local', reason: 'BANNED' }), 1)
    assert.equal(sample(text, 'peergate_gated_stream_refusals_total', { direction: 'inbound' }), 1)
    assert.equal(sample(text, 'peergate_dials_total', { result: 'opened' }), 1)
    assert.equal(sample(text, 'peergate_dials_total', { result: 'failed', reason: 'DIAL_FAILED' }), 1)

    metrics.stop()
    for (const type of ['handshake:start', 'session:open', 'session:reject', 'session:close', 'stream:refuse', 'peer:report', 'dial:end']) {
      assert.equal(view.listenerCount(type), 0, `no ${type} listener left`)
    }
  })

  it('count rate-limit refusals per protocol from peer:report, other reports not at all, and past 64 protocols the rest as other', async () => {
    const view = new FakeNodeView(await testPeerId())
    const peer = await testPeerId()
    const metrics = createNodeMetrics(view)
    const report = (reason: string): void => { view.safeDispatchEvent('peer:report', { detail: { peerId: peer, action: PeerAction.LOW_TOLERANCE, reason } }) }
    try {
      report('rate-limit:/c/blocks/1')
      report('rate-limit:/c/blocks/1')
      report('invalid-gossip')
      for (let i = 0; i < 70; i++) {
        report(`rate-limit:/c/p${i}/1`)
      }
      const text = await metrics.text()
      assert.equal(sample(text, 'peergate_rate_limited_total', { protocol: '/c/blocks/1' }), 2)
      assert.equal(sample(text, 'peergate_rate_limited_total', { protocol: '/c/p62/1' }), 1)
      assert.equal(sample(text, 'peergate_rate_limited_total', { protocol: '/c/p63/1' }), undefined, 'the 65th protocol has no series of its own')
      assert.equal(sample(text, 'peergate_rate_limited_total', { protocol: 'other' }), 7)
      assert.equal([...text.matchAll(/^peergate_rate_limited_total\{/gm)].length, 65)
      assert.doesNotMatch(text, /invalid-gossip/)
    } finally {
      metrics.stop()
    }
  })
})
