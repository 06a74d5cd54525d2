/*
 * The status API reads and commands a node through its view and nothing
 * else: an in-memory view, without libp2p, serves every endpoint.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { multiaddr } from '@multiformats/multiaddr'
import { ReasonCode, createApiServer, createNodeMetrics } from '../../src/index.js'
import { testContact } from '../utils/contacts.js'
import { sample } from '../utils/exposition.js'
import { FakeNodeView, testPeerId, testSession } from '../utils/fake-view.js'
import { call } from './helpers.js'
import type { ApiServer, NodeMetrics } from '../../src/index.js'

const TOKEN = 'fake-view-token'
const stops: Array<() => Promise<void> | void> = []
after(async () => {
  for (const stop of stops.reverse()) {
    await stop()
  }
})

async function serve (view: FakeNodeView): Promise<{ api: ApiServer, metrics: NodeMetrics }> {
  const metrics = createNodeMetrics(view)
  const api = createApiServer(view, { port: 0, token: TOKEN, metrics })
  await api.start()
  stops.push(() => { metrics.stop() }, async () => { await api.stop() })
  return { api, metrics }
}

describe('the status API over an in-memory node view', () => {
  it('serves /health, /status, /peers, /contacts, /bans, /gossip and /metrics from the view', async () => {
    const view = new FakeNodeView(await testPeerId())
    const [a, dialing, stranger] = await Promise.all([testPeerId(), testPeerId(), testPeerId()])
    const session = testSession(a, { connectionId: 'ca', direction: 'outbound', since: 4_242 })
    view.sessionsByPeer.set(a, session)
    view.connectionInfos = [{ id: 'ca', peerId: a, role: 'outbound-session', direction: 'outbound', remoteAddr: multiaddr('/ip4/127.0.0.1/tcp/4002'), opened: 4_000, rtt: 3 }]
    view.agents.set(a, 'fake-agent/1.0')
    view.dialing = [dialing]
    view.book.set(dialing, testContact(dialing, { did: 'did:key:dialing' }))
    view.book.set(stranger, testContact(stranger))
    view.banList.set(stranger.toString(), 9_999_999_999_999)
    const { api } = await serve(view)

    assert.deepEqual((await call(`${api.url}/health`, 'GET')).body, { status: 'started', sessions: 1 })
    const status = (await call(`${api.url}/status`, 'GET')).body
    assert.equal(status.peerId, view.peerId.toString())
    assert.equal(status.did, view.did)
    assert.deepEqual(status.chain, { chainId: 'fake-chain', genesisHash: 'abcd', version: '1.0.0' })
    assert.deepEqual(status.multiaddrs, ['/ip4/127.0.0.1/tcp/4001'])
    assert.equal(status.sessions.outbound, 1)
    assert.equal(status.contacts, 2)

    const peers = (await call(`${api.url}/peers`, 'GET')).body
    assert.deepEqual(peers.map((p: any) => [p.peerId, p.role]), [[a.toString(), 'outbound-session'], [dialing.toString(), 'dialing']])
    assert.equal(peers[0].did, session.did)
    assert.equal(peers[0].agent, 'fake-agent/1.0')
    assert.equal(peers[0].since, 4_242)
    assert.equal(peers[0].rttMs, 3)
    assert.equal(peers[1].did, 'did:key:dialing')

    const contacts = (await call(`${api.url}/contacts`, 'GET')).body
    assert.equal(contacts.find((c: any) => c.peerId === stranger.toString()).bannedUntil, 9_999_999_999_999)
    assert.deepEqual((await call(`${api.url}/bans`, 'GET')).body, [{ target: stranger.toString(), until: 9_999_999_999_999 }])

    assert.deepEqual((await call(`${api.url}/gossip`, 'GET')).body, [])
    view.gossip = [{ topic: 'blocks', meshPeers: [a, stranger], published: 1, received: 7, duplicate: 2, rejected: 1 }]
    assert.deepEqual((await call(`${api.url}/gossip`, 'GET')).body, [{
      topic: 'blocks',
      // a DID for a session peer's entry
      meshPeers: [{ peerId: a.toString(), did: session.did }, { peerId: stranger.toString() }],
      published: 1,
      received: 7,
      duplicate: 2,
      rejected: 1
    }])

    const metrics = await call(`${api.url}/metrics`, 'GET')
    assert.equal(sample(metrics.body, 'peergate_sessions', { direction: 'outbound' }), 1)
    assert.equal(sample(metrics.body, 'peergate_dials_in_flight'), 1)

    view.state = 'stopping'
    const health = await call(`${api.url}/health`, 'GET')
    assert.equal(health.status, 503)
    assert.deepEqual(health.body, { status: 'stopping' })
  })

  it('runs the commands on the view', async () => {
    const view = new FakeNodeView(await testPeerId())
    const [a, stranger] = await Promise.all([testPeerId(), testPeerId()])
    view.sessionsByPeer.set(a, testSession(a, { connectionId: 'ca' }))
    view.book.set(a, testContact(a))
    const { api } = await serve(view)

    const ban = await call(`${api.url}/ban`, 'POST', { target: stranger.toString(), forMs: 60_000 }, TOKEN)
    assert.equal(ban.status, 200)
    assert.equal(ban.body.until, view.banExpiry(stranger))
    assert.equal((await call(`${api.url}/unban`, 'POST', { target: stranger.toString() }, TOKEN)).status, 200)
    assert.equal((await call(`${api.url}/disconnect`, 'POST', { peer: a.toString(), reason: ReasonCode.TOO_MANY_PEERS }, TOKEN)).status, 200)
    assert.equal((await call(`${api.url}/disconnect`, 'POST', { peer: a.toString() }, TOKEN)).status, 404, 'the session is gone')
    assert.equal((await call(`${api.url}/contacts`, 'DELETE', { peer: stranger.toString() }, TOKEN)).status, 404, 'not a contact')
    assert.equal((await call(`${api.url}/contacts`, 'DELETE', { peer: a.toString() }, TOKEN)).status, 200)
    assert.equal((await call(`${api.url}/backoff/clear`, 'POST', {}, TOKEN)).status, 200)

    assert.deepEqual(view.calls.map(c => c.command), ['ban', 'unban', 'disconnect', 'removeContact', 'clearBackoff'])
    assert.deepEqual(view.calls[2].args, [a, ReasonCode.TOO_MANY_PEERS])
  })
})
