import assert from 'node:assert/strict'
import { stat } from 'node:fs/promises'
import pDefer from 'p-defer'
import { after, before, describe, it } from 'node:test'
import { ReasonCode, apiTokenPath, loadOrCreateApiToken } from '../../src/index.js'
import { TestNetwork, blackHole, closedPort, nextEvent } from '../utils/nodes.js'
import { call, startApi, until } from './helpers.js'
import type { ApiServer, PeerNode } from '../../src/index.js'

describe('status API', () => {
  const net = new TestNetwork()
  let a: PeerNode
  let b: PeerNode
  let stranger: PeerNode
  let api: ApiServer
  let token: string
  let dataDir: string

  before(async () => {
    dataDir = await net.dir()
    a = await net.node({ dataDir })
    b = await net.node()
    stranger = await net.node({ chain: { chainId: 'other-chain' } })
    ;({ api, token } = await startApi(a, dataDir, { metrics: { contentType: 'text/plain; version=0.0.4', text: async () => 'peergate_sessions 1\n' } }))
    await a.connect(b.getMultiaddrs()[0])
    const rejected = nextEvent(a, 'session:reject')
    await assert.rejects(stranger.connect(a.getMultiaddrs()[0]))
    await rejected
  })

  after(async () => {
    await api?.stop()
    await net.cleanup()
  })

  it('keeps the token in the data dir with mode 0600, the same across starts', async () => {
    const info = await stat(apiTokenPath(dataDir))
    assert.equal(info.mode & 0o777, 0o600)
    assert.match(token, /^[0-9a-f]{64}$/)
    assert.equal(await loadOrCreateApiToken(dataDir), token)
  })

  it('GET /status: identity, chain, addresses, counts and the limit per IP', async () => {
    const { status, body } = await call(`${api.url}/status`, 'GET')
    assert.equal(status, 200)
    assert.equal(body.peerId, a.peerId.toString())
    assert.equal(body.did, a.did)
    assert.equal(body.chain.chainId, 'test-chain')
    assert.match(body.chain.genesisHash, /^[0-9a-f]{64}$/)
    assert.deepEqual(body.multiaddrs, a.getMultiaddrs().map(ma => ma.toString()))
    assert.equal(body.sessions.outbound, 1)
    assert.equal(body.sessions.maxInboundPerIp, 4)
    assert.deepEqual(body.sessions.ipLimitExempt, ['127.0.0.0/8'])
    assert.equal(body.connections['outbound-session'], 1)
  })

  it('GET /peers: the session with its DID, role, direction, address and agent', async () => {
    const peers = await until('b with its agent', async () => {
      const { body } = await call(`${api.url}/peers`, 'GET')
      const peer = body.find((p: any) => p.peerId === b.peerId.toString())
      return peer?.agent == null ? undefined : peer
    })
    assert.equal(peers.did, b.did)
    assert.equal(peers.role, 'outbound-session')
    assert.equal(peers.direction, 'outbound')
    assert.match(peers.remoteAddr, /^\/ip4\/127\.0\.0\.1\/tcp\/\d+/)
    assert.equal(typeof peers.since, 'number')
    assert.ok(peers.since <= Date.now())
  })

  it('GET /peers lists a peer the dial loop is dialing, before it has a connection, as dialing', async () => {
    const hole = await blackHole()
    try {
      const nobody = (await net.node()).peerId
      await a.addContact(`/ip4/127.0.0.1/tcp/${hole.port}/p2p/${nobody.toString()}`)
      await a.libp2p.services.dial.tick()
      const dialing = await until('the dial in /peers', async () => {
        const { body } = await call(`${api.url}/peers`, 'GET')
        return body.find((p: any) => p.peerId === nobody.toString() && p.role === 'dialing')
      })
      assert.deepEqual([dialing.direction, dialing.connectionId, dialing.remoteAddr], ['outbound', '', `/ip4/127.0.0.1/tcp/${hole.port}`])
    } finally {
      await hole.close()
    }
  })

  it('GET /contacts: each contact with its backoff fields', async () => {
    const { status, body } = await call(`${api.url}/contacts`, 'GET')
    assert.equal(status, 200)
    assert.ok(Array.isArray(body))
    for (const contact of body) {
      assert.equal(typeof contact.peerId, 'string')
      assert.equal(typeof contact.failures, 'number')
      assert.equal(typeof contact.nextAttempt, 'number')
      assert.equal(typeof contact.source, 'string')
      assert.equal(typeof contact.lastSeen, 'number')
    }
    const bContact = body.find((c: any) => c.peerId === b.peerId.toString())
    if (bContact != null) {
      assert.equal(bContact.did, b.did)
    }
  })

  it('GET /rejects: the other chain\'s reject, with reason and side, kept after it is gone', async () => {
    const { status, body } = await call(`${api.url}/rejects`, 'GET')
    assert.equal(status, 200)
    const reject = body.find((r: any) => r.peerId === stranger.peerId.toString())
    assert.ok(reject != null, JSON.stringify(body))
    assert.equal(reject.kind, 'reject')
    assert.equal(reject.reason, ReasonCode.WRONG_CHAIN)
    assert.equal(reject.side, 'local')
    assert.equal(reject.direction, 'inbound')
    assert.equal(typeof reject.message, 'string')
    assert.equal(typeof reject.time, 'number')
    assert.equal(a.libp2p.getConnections(stranger.peerId).length, 0)
  })

  it('GET /metrics serves the provider\'s text', async () => {
    const { status, body, contentType } = await call(`${api.url}/metrics`, 'GET')
    assert.equal(status, 200)
    assert.equal(body, 'peergate_sessions 1\n')
    assert.equal(contentType, 'text/plain; version=0.0.4')
  })

  it('GET / is a self-contained page', async () => {
    const { status, body, contentType } = await call(`${api.url}/`, 'GET')
    assert.equal(status, 200)
    assert.match(contentType ?? '', /^text\/html/)
    assert.match(body, /<script>/)
    assert.doesNotMatch(body, /<script src=|<link |https?:\/\//)
  })

  it('commands need the token: 401 without it or with a wrong one, 200 with it', async () => {
    const target = stranger.did
    assert.equal((await call(`${api.url}/ban`, 'POST', { target })).status, 401)
    assert.equal((await call(`${api.url}/ban`, 'POST', { target }, 'f'.repeat(64))).status, 401)
    assert.equal((await call(`${api.url}/ban`, 'POST', { target }, token.slice(1))).status, 401)
    const banned = await call(`${api.url}/ban`, 'POST', { target, forMs: 60_000 }, token)
    assert.equal(banned.status, 200)
    assert.ok(banned.body.until > Date.now())
    const bans = await call(`${api.url}/bans`, 'GET')
    assert.deepEqual(bans.body.map((entry: any) => entry.target), [target])
    assert.equal((await call(`${api.url}/unban`, 'POST', { target }, token)).status, 200)
    assert.deepEqual((await call(`${api.url}/bans`, 'GET')).body, [])
  })

  it('bad input gets 400 with a JSON error, and the server keeps serving', async () => {
    const cases: Array<{ path: string, body: unknown, error: RegExp }> = [
      { path: '/connect', body: { addr: 'not a multiaddr' }, error: /is not a multiaddr/ },
      { path: '/connect', body: { addr: '/ip4/127.0.0.1/tcp/1' }, error: /has no \/p2p\/<peer id>/ },
      { path: '/connect', body: {}, error: /"addr" must be a non-empty string/ },
      { path: '/disconnect', body: { peer: 'nope' }, error: /is not a peer id/ },
      { path: '/disconnect', body: { peer: b.peerId.toString(), reason: 'BECAUSE' }, error: /"reason" must be a reason code/ },
      { path: '/ban', body: { target: 'nope' }, error: /is not a peer id/ },
      { path: '/ban', body: { target: stranger.did, forMs: -5 }, error: /"forMs" must be a positive whole number/ },
      { path: '/ban', body: { target: 42 }, error: /"target" must be a non-empty string/ },
      { path: '/unban', body: '{"target":', error: /not JSON/ },
      { path: '/unban', body: '[1]', error: /must be a JSON object/ },
      { path: '/backoff/clear', body: { peer: 'nope' }, error: /is not a peer id/ }
    ]
    for (const { path, body, error } of cases) {
      const answer = await call(`${api.url}${path}`, 'POST', body, token)
      assert.equal(answer.status, 400, `${path} ${JSON.stringify(body)}: ${JSON.stringify(answer.body)}`)
      assert.match(answer.body.error, error)
    }
    const large = await call(`${api.url}/ban`, 'POST', JSON.stringify({ target: 'x'.repeat(5000) }), token)
    assert.equal(large.status, 413)
    assert.match(large.body.error, /larger than 4096 bytes/)
    assert.equal((await call(`${api.url}/nowhere`, 'GET')).status, 404)
    assert.equal((await call(`${api.url}/status`, 'POST', {}, token)).status, 405)
    assert.equal((await call(`${api.url}/status`, 'GET')).status, 200)
  })

  it('POST /connect opens a session, POST /disconnect ends it with the reason, and /rejects records the close', async () => {
    const c = await net.node()
    const addr = c.getMultiaddrs()[0].toString()
    const connected = await call(`${api.url}/connect`, 'POST', { addr }, token)
    assert.equal(connected.status, 200, JSON.stringify(connected.body))
    assert.equal(connected.body.peerId, c.peerId.toString())
    assert.equal(connected.body.did, c.did)

    const gone = await call(`${api.url}/disconnect`, 'POST', { peer: c.peerId.toString(), reason: ReasonCode.TOO_MANY_PEERS }, token)
    assert.equal(gone.status, 200)
    assert.equal(a.session(c.peerId), undefined)
    const again = await call(`${api.url}/disconnect`, 'POST', { peer: c.peerId.toString() }, token)
    assert.equal(again.status, 404)

    const { body } = await call(`${api.url}/rejects`, 'GET')
    assert.deepEqual(
      { kind: body[0].kind, peerId: body[0].peerId, did: body[0].did, reason: body[0].reason, side: body[0].side },
      { kind: 'close', peerId: c.peerId.toString(), did: c.did, reason: ReasonCode.TOO_MANY_PEERS, side: 'local' }
    )
  })

  it('POST /backoff/clear clears one contact\'s backoff, or every one', async () => {
    await a.addContact(stranger.getMultiaddrs()[0])
    await a.libp2p.services.addressBook.recordOutcome(stranger.peerId, ReasonCode.WRONG_CHAIN)
    assert.ok((a.libp2p.services.addressBook.get(stranger.peerId)?.nextAttempt ?? 0) > Date.now())
    assert.equal((await call(`${api.url}/backoff/clear`, 'POST', { peer: stranger.peerId.toString() })).status, 401)
    const one = await call(`${api.url}/backoff/clear`, 'POST', { peer: stranger.peerId.toString() }, token)
    assert.equal(one.status, 200)
    assert.deepEqual(one.body.cleared, [stranger.peerId.toString()])
    const contact = (await call(`${api.url}/contacts`, 'GET')).body.find((c: any) => c.peerId === stranger.peerId.toString())
    assert.ok(contact.nextAttempt <= Date.now(), JSON.stringify(contact))
    const all = await call(`${api.url}/backoff/clear`, 'POST', undefined, token)
    assert.equal(all.status, 200)
    assert.ok(Array.isArray(all.body.cleared))
  })

  it('POST /connect to a peer of another chain answers 502 with the reason, side and stage', async () => {
    const answer = await call(`${api.url}/connect`, 'POST', { addr: stranger.getMultiaddrs()[0].toString() }, token)
    assert.equal(answer.status, 502)
    assert.equal(answer.body.reason, ReasonCode.WRONG_CHAIN)
    // the responder refuses on the initiator's hello, before it sends its own
    assert.equal(answer.body.side, 'remote')
    assert.equal(answer.body.stage, 'await-responder-hello')
    assert.match(answer.body.error, /^handshake failed: WRONG_CHAIN, by the peer at await-responder-hello: remote rejected with WRONG_CHAIN/)
  })

  it('POST /connect that fails before any handshake says "dial failed", why, and after how long', async () => {
    const nobody = (await net.node()).peerId
    const refused = await call(`${api.url}/connect`, 'POST', { addr: `/ip4/127.0.0.1/tcp/${await closedPort()}/p2p/${nobody.toString()}` }, token)
    assert.equal(refused.status, 502)
    assert.match(refused.body.error, /^dial failed: .*ECONNREFUSED.*, after \d+\.\d s$/)
    assert.equal(refused.body.reason, undefined)

    // a listener that accepts and never speaks: libp2p's own text was all the answer said
    const hole = await blackHole()
    try {
      const silent = await call(`${api.url}/connect`, 'POST', { addr: `/ip4/127.0.0.1/tcp/${hole.port}/p2p/${nobody.toString()}` }, token)
      assert.equal(silent.status, 502)
      assert.match(silent.body.error, /^dial failed: \w+Error: The operation was aborted due to timeout.*, after \d+\.\d s$/)
      const seconds = Number(/after (\d+\.\d) s$/.exec(silent.body.error)?.[1])
      assert.ok(seconds >= 1 && seconds <= 11, silent.body.error)
    } finally {
      await hole.close()
    }
  })

  it('POST /backoff/clear: 404 for a peer that is not a contact; the contacts it cleared, none when none had a backoff', async () => {
    const nobody = (await net.node()).peerId
    const unknown = await call(`${api.url}/backoff/clear`, 'POST', { peer: nobody.toString() }, token)
    assert.equal(unknown.status, 404)
    assert.equal(unknown.body.error, `${nobody.toString()} is not a contact`)
    await a.addContact(stranger.getMultiaddrs()[0])
    await a.clearBackoff()
    const none = await call(`${api.url}/backoff/clear`, 'POST', { peer: stranger.peerId.toString() }, token)
    assert.equal(none.status, 200)
    assert.deepEqual(none.body.cleared, [])
  })
})

describe('status API: reserved peers and contacts at runtime', () => {
  const net = new TestNetwork()
  let a: PeerNode
  let b: PeerNode
  let api: ApiServer
  let token: string

  before(async () => {
    const dataDir = await net.dir()
    a = await net.node({ dataDir })
    b = await net.node()
    ;({ api, token } = await startApi(a, dataDir))
  })

  after(async () => {
    await api?.stop()
    await net.cleanup()
  })

  it('POST /reserved reserves a peer (the dial loop connects it), GET /reserved lists it, DELETE /reserved makes it a contact again', async () => {
    const addr = b.getMultiaddrs()[0].toString()
    assert.equal((await call(`${api.url}/reserved`, 'POST', { addr })).status, 401)
    const added = await call(`${api.url}/reserved`, 'POST', { addr }, token)
    assert.equal(added.status, 200, JSON.stringify(added.body))
    assert.deepEqual(added.body, { ok: true, reserved: [b.peerId.toString()] })
    assert.equal(a.libp2p.services.sessions.isReserved(b.peerId), true)
    const opened = nextEvent(a, 'session:open')
    await a.libp2p.services.dial.tick()
    await opened
    const { body: list } = await call(`${api.url}/reserved`, 'GET')
    assert.deepEqual(list, [{ peerId: b.peerId.toString(), multiaddrs: [b.getMultiaddrs()[0].decapsulateCode(421).toString()], stored: true, session: true }])
    assert.equal(a.status().sessions.reserved, 1)

    assert.equal((await call(`${api.url}/reserved`, 'DELETE', { peer: b.peerId.toString() })).status, 401)
    const removed = await call(`${api.url}/reserved`, 'DELETE', { peer: b.peerId.toString() }, token)
    assert.equal(removed.status, 200, JSON.stringify(removed.body))
    assert.deepEqual((await call(`${api.url}/reserved`, 'GET')).body, [])
    assert.equal(a.libp2p.services.sessions.isReserved(b.peerId), false)
    // its session stays, now counted as an ordinary outbound one, and it is a contact
    assert.notEqual(a.session(b.peerId), undefined)
    assert.equal(a.status().sessions.outbound, 1)
    assert.notEqual(a.libp2p.services.addressBook.get(b.peerId), undefined)
    assert.equal((await call(`${api.url}/reserved`, 'DELETE', { peer: b.peerId.toString() }, token)).status, 404)

    // reserved again, then removed with disconnect: the session ends
    assert.equal((await call(`${api.url}/reserved`, 'POST', { addr: [addr] }, token)).status, 200)
    const closed = nextEvent(a, 'session:close')
    assert.equal((await call(`${api.url}/reserved`, 'DELETE', { peer: b.peerId.toString(), disconnect: true }, token)).status, 200)
    await closed
    assert.equal(a.session(b.peerId), undefined)
  })

  it('POST /contacts adds contacts, DELETE /contacts removes one; 404 for a peer that is none', async () => {
    const c = await net.node()
    const added = await call(`${api.url}/contacts`, 'POST', { addr: c.getMultiaddrs()[0].toString() }, token)
    assert.equal(added.status, 200, JSON.stringify(added.body))
    assert.equal(added.body.contacts[0].peerId, c.peerId.toString())
    assert.equal(added.body.contacts[0].source, 'manual')
    assert.notEqual(a.libp2p.services.addressBook.get(c.peerId), undefined)
    assert.equal((await call(`${api.url}/contacts`, 'DELETE', { peer: c.peerId.toString() })).status, 401)
    assert.equal((await call(`${api.url}/contacts`, 'DELETE', { peer: c.peerId.toString() }, token)).status, 200)
    assert.equal(a.libp2p.services.addressBook.get(c.peerId), undefined)
    const missing = await call(`${api.url}/contacts`, 'DELETE', { peer: c.peerId.toString() }, token)
    assert.equal(missing.status, 404)
    assert.equal(missing.body.error, `${c.peerId.toString()} is not a contact`)
  })

  it('bad bodies get a 400 naming the problem; a body over 4 KiB gets 413', async () => {
    const self = a.getMultiaddrs()[0].toString()
    const cases: Array<{ method: 'POST' | 'DELETE', path: string, body: unknown, error: RegExp }> = [
      { method: 'POST', path: '/reserved', body: {}, error: /"addr" must be a multiaddr with \/p2p\/<peer id>, or a non-empty list of them/ },
      { method: 'POST', path: '/reserved', body: { addr: 5 }, error: /"addr" must be a multiaddr/ },
      { method: 'POST', path: '/reserved', body: { addr: [] }, error: /"addr" must be a multiaddr/ },
      { method: 'POST', path: '/reserved', body: { addr: 'not a multiaddr' }, error: /is not a multiaddr/ },
      { method: 'POST', path: '/reserved', body: { addr: '/ip4/127.0.0.1/tcp/1' }, error: /has no \/p2p\/<peer id>/ },
      { method: 'POST', path: '/reserved', body: { addr: self }, error: /is this node's own peer id/ },
      { method: 'DELETE', path: '/reserved', body: { peer: 'nope' }, error: /"peer" "nope" is not a peer id/ },
      { method: 'DELETE', path: '/reserved', body: { peer: b.peerId.toString(), disconnect: 'yes' }, error: /"disconnect" must be true or false/ },
      { method: 'DELETE', path: '/reserved', body: '{"peer":', error: /not JSON/ },
      { method: 'POST', path: '/contacts', body: { addr: self }, error: /is this node's own peer id/ },
      { method: 'POST', path: '/contacts', body: { addr: ['/ip4/127.0.0.1/tcp/1', 7] }, error: /"addr" must be a multiaddr/ },
      { method: 'DELETE', path: '/contacts', body: {}, error: /"peer" must be a non-empty string/ }
    ]
    for (const { method, path, body, error } of cases) {
      const answer = await call(`${api.url}${path}`, method, body, token)
      assert.equal(answer.status, 400, `${method} ${path} ${JSON.stringify(body)}: ${JSON.stringify(answer.body)}`)
      assert.match(answer.body.error, error)
    }
    const large = await call(`${api.url}/reserved`, 'POST', JSON.stringify({ addr: `/ip4/127.0.0.1/tcp/1/p2p/${'x'.repeat(5000)}` }), token)
    assert.equal(large.status, 413)
    assert.deepEqual((await call(`${api.url}/reserved`, 'GET')).body, [])
  })
})

describe('status API: RTT and roles of new sessions', () => {
  const net = new TestNetwork()
  after(async () => { await net.cleanup() })

  it('a new session has an RTT on both sides at once (one ping at session open), long before the connection monitor\'s first round', async () => {
    const aDir = await net.dir()
    const a = await net.node({ dataDir: aDir })
    const b = await net.node()
    const { api } = await startApi(a, aDir)
    try {
      const opened = Date.now()
      await a.connect(b.getMultiaddrs()[0])
      const peer = await until('an RTT in /peers', async () => {
        const { body } = await call(`${api.url}/peers`, 'GET')
        return body.find((p: any) => p.peerId === b.peerId.toString() && p.rttMs != null)
      }, 3_000)
      assert.equal(peer.role, 'outbound-session')
      assert.ok(peer.rttMs >= 0 && peer.rttMs < 1000, JSON.stringify(peer))
      // libp2p's connection monitor pings every 10 s: this one came from the session's open
      assert.ok(Date.now() - opened < 10_000)
      await until('the inbound side\'s RTT', () => b.libp2p.getConnections(a.peerId).find(c => c.rtt != null) == null ? undefined : true, 3_000)
    } finally {
      await api.stop()
    }
  })

  it('a session on a connection this node dialed for the DHT, selected by the peer: inbound-session, direction outbound', async () => {
    const xDir = await net.dir()
    const x = await net.node({ dataDir: xDir })
    const y = await net.node()
    const { api } = await startApi(x, xDir)
    try {
      // x opens a connection without a handshake (as a DHT query does); y then selects x on it
      await x.libp2p.dial(y.getMultiaddrs()[0])
      const session = await y.connect(x.peerId)
      assert.equal(session.direction, 'outbound')
      assert.equal(y.libp2p.getConnections(x.peerId).length, 1)
      const { body } = await call(`${api.url}/peers`, 'GET')
      const view = body.find((p: any) => p.peerId === y.peerId.toString())
      assert.deepEqual([view.role, view.direction], ['inbound-session', 'outbound'])
    } finally {
      await api.stop()
    }
  })
})

describe('status API without a metrics provider', () => {
  const net = new TestNetwork()
  after(async () => { await net.cleanup() })

  it('GET /health needs no token: 200 while the node runs, 503 while it stops and once it has stopped', async () => {
    const dataDir = await net.dir()
    // a service whose stop waits for the test: the node stays in "stopping" meanwhile
    const stopping = pDefer()
    const mayStop = pDefer()
    const node = await net.node({
      dataDir,
      services: {
        slowStop: () => ({
          start () {},
          async stop () {
            stopping.resolve()
            await mayStop.promise
          }
        })
      }
    })
    const { api } = await startApi(node, dataDir)
    try {
      const started = await call(`${api.url}/health`, 'GET')
      assert.equal(started.status, 200)
      assert.deepEqual(started.body, { status: 'started', sessions: 0 })

      const stopped = node.stop()
      await stopping.promise
      const during = await call(`${api.url}/health`, 'GET')
      assert.equal(during.status, 503)
      assert.deepEqual(during.body, { status: 'stopping' })
      mayStop.resolve()
      await stopped

      const after = await call(`${api.url}/health`, 'GET')
      assert.equal(after.status, 503)
      assert.deepEqual(after.body, { status: 'stopped' })
    } finally {
      mayStop.resolve()
      await api.stop()
    }
  })

  it('has no /metrics, and stops listening on stop()', async () => {
    const dataDir = await net.dir()
    const node = await net.node({ dataDir })
    const { api } = await startApi(node, dataDir)
    const url = api.url
    assert.equal((await call(`${url}/metrics`, 'GET')).status, 404)
    await api.stop()
    await assert.rejects(fetch(`${url}/status`))
  })
})
