/*
 * createNodeMetrics reads a node through its view and nothing else: an
 * in-memory view, without libp2p, feeds every series.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { multiaddr } from '@multiformats/multiaddr'
import { LocalReason, ReasonCode, createNodeMetrics } from '../../src/index.js'
import { testContact } from '../utils/contacts.js'
import { sample } from '../utils/exposition.js'
import { FakeNodeView, testPeerId, testSession } from '../utils/fake-view.js'
import type { ConnectionInfo, ConnectionRole } from '../../src/index.js'
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
    for (const type of ['handshake:start', 'session:open', 'session:reject', 'session:close', 'stream:refuse', 'dial:end']) {
      assert.equal(view.listenerCount(type), 0, `no ${type} listener left`)
    }
  })
})
