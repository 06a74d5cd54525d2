import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { fromString as uint8ArrayFromString } from 'uint8arrays/from-string'
import { toString as uint8ArrayToString } from 'uint8arrays/to-string'
import { DISCONNECT_SCORE_THRESHOLD, PeerAction, createNodeMetrics, ReasonCode, SCORE_HALF_LIFE_MS, isHandshakeError } from '../../src/index.js'
import { refusedForMs } from '../../src/score/index.js'
import { peersView } from '../../src/api/views.js'
import { TestClock, TestNetwork, nextEvent, until } from '../utils/nodes.js'
import type { PeerNode, SessionCloseDetail } from '../../src/index.js'
import type { PeerId } from '@libp2p/interface'

const net = new TestNetwork()
after(async () => { await net.cleanup() })

/** A clock for the score, starting now */
function scoreClock (): TestClock {
  const clock = new TestClock()
  clock.time = Date.now()
  return clock
}

/** Resolves with the next session:close of `node` with `peer` */
async function closeOf (node: PeerNode, peer: PeerId, timeoutMs = 3_000): Promise<SessionCloseDetail> {
  return nextEvent<SessionCloseDetail>(node, 'session:close', detail => detail.session.peerId.equals(peer), timeoutMs)
}

/** Time for a session that is to be ended at once to end */
async function settle (): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, 400))
}

describe('peer score', () => {
  it('a peer pushed just below the disconnect threshold gets Goodbye SCORE_TOO_LOW, and is refused at admission with SCORE_TOO_LOW until its score has decayed above it', async () => {
    const clock = scoreClock()
    // no heartbeat during the test: the refusal comes from the session's opening
    const a = await net.node({ score: { now: clock.now, heartbeatMs: 60_000 } })
    const b = await net.node()
    await b.connect(a.getMultiaddrs()[0])
    await until(() => a.session(b.peerId) != null, 5_000, 'b\'s session at a')

    // -10 -5 -4 × 1 = -19: just above -20, kept
    a.reportPeer(b.peerId, PeerAction.LOW_TOLERANCE, 'test:low')
    a.reportPeer(b.peerId, PeerAction.MID_TOLERANCE, 'test:mid')
    for (let i = 0; i < 4; i++) {
      a.reportPeer(b.peerId, PeerAction.HIGH_TOLERANCE, 'test:high')
    }
    await settle()
    assert.ok(a.session(b.peerId) != null, 'kept at -19')
    // a minute later it has decayed to -17.73; three more: -18.73, -19.73 (kept), -20.73, just below -20
    clock.advance(60_000)
    const closedAtB = closeOf(b, a.peerId)
    a.reportPeer(b.peerId, PeerAction.HIGH_TOLERANCE, 'test:high')
    a.reportPeer(b.peerId, PeerAction.HIGH_TOLERANCE, 'test:high')
    assert.ok(a.session(b.peerId) != null, 'kept at -19.73')
    a.reportPeer(b.peerId, PeerAction.HIGH_TOLERANCE, 'test:last')
    const closed = await closedAtB
    assert.equal(closed.reason, ReasonCode.SCORE_TOO_LOW, 'the reason on the wire')
    assert.equal(closed.side, 'remote')
    const info = a.peerScore(b.peerId)
    assert.ok(info != null)
    const score = -19 * Math.pow(2, -0.1) - 3
    assert.ok(Math.abs(info.score - score) < 1e-9, `score ${info.score}`)
    // the last MAX_SCORE_EVENTS (8) reports, the last with what it led to
    assert.deepEqual(info.events.map(event => event.reason), ['test:mid', 'test:high', 'test:high', 'test:high', 'test:high', 'test:high', 'test:high', 'test:last'])
    assert.deepEqual(info.events.map(event => event.outcome), [undefined, undefined, undefined, undefined, undefined, undefined, undefined, 'disconnect'])

    // the documented wait: half-life × log2(20.73 / 20), some 31 s
    const wait = refusedForMs({ score, at: clock.time }, clock.time, SCORE_HALF_LIFE_MS)
    assert.ok(Math.abs(wait - SCORE_HALF_LIFE_MS * Math.log2(score / -20)) < 1)
    assert.ok(wait > 30_000 && wait < 32_000, `wait ${wait}`)

    // a second before it: refused at admission, SCORE_TOO_LOW in the handshake's reject; a never opens a session
    clock.advance(wait - 1_000)
    assert.ok(a.peerScore(b.peerId)!.score <= DISCONNECT_SCORE_THRESHOLD)
    let opened = 0
    const onOpen = (evt: CustomEvent<{ peerId: PeerId }>): void => { if (evt.detail.peerId.equals(b.peerId)) opened++ }
    a.addEventListener('session:open', onOpen)
    await assert.rejects(b.connect(a.getMultiaddrs()[0]), (err: any) => {
      assert.equal(err.reason, ReasonCode.SCORE_TOO_LOW, 'the reason on the wire')
      assert.equal(err.side, 'remote')
      assert.match(err.message, /score -20\.\d is at or below -20: refused for about [12] s more/)
      return true
    })
    a.removeEventListener('session:open', onOpen)
    assert.equal(opened, 0, 'no session opened at a')

    // a second after it: the session stays
    clock.advance(2_000)
    assert.ok(a.peerScore(b.peerId)!.score > DISCONNECT_SCORE_THRESHOLD)
    await b.connect(a.getMultiaddrs()[0])
    await settle()
    assert.ok(a.session(b.peerId) != null, 'accepted at a')
    assert.ok(b.session(a.peerId) != null, 'accepted at b')
  })

  it('a FATAL report bans at once; a reserved peer is scored but kept', async () => {
    const a = await net.node()
    const b = await net.node()
    const r = await net.node()
    await a.addReserved(r.getMultiaddrs()[0])
    await r.connect(a.getMultiaddrs()[0])
    await until(() => a.session(r.peerId) != null, 5_000, 'the reserved peer\'s session')
    await b.connect(a.getMultiaddrs()[0])
    await until(() => a.session(b.peerId) != null, 5_000, 'b\'s session at a')

    const closedAtB = closeOf(b, a.peerId)
    a.reportPeer(b.peerId, PeerAction.FATAL, 'test:fatal')
    a.reportPeer(r.peerId, PeerAction.FATAL, 'test:fatal')
    assert.equal((await closedAtB).reason, ReasonCode.BANNED)
    assert.ok(a.banExpiry(b.peerId) != null)
    assert.equal(a.peerScore(b.peerId)!.events.at(-1)!.outcome, 'ban')
    await settle()
    assert.ok(a.session(r.peerId) != null, 'the reserved peer keeps its session')
    assert.equal(a.banExpiry(r.peerId), undefined)
    assert.ok(a.peerScore(r.peerId)!.score < -99)
    // GET /peers shows the score and its events
    const view = (await peersView(a)).find(peer => peer.peerId === r.peerId.toString())
    assert.ok(view?.score != null && view.score <= -99, JSON.stringify(view))
    assert.deepEqual(view.scoreEvents?.map(event => [event.reason, event.action]), [['test:fatal', 'FATAL']])
  })

  it('a peer that sends invalid gossip messages is disconnected; a valid peer in the same mesh is not', async () => {
    const fast = { pubsub: { gossipsub: { heartbeatInterval: 100 } } }
    const hub = await net.node(fast)
    const bad = await net.node(fast)
    const good = await net.node(fast)
    hub.pubsub.topicValidators.set('blocks', (message) => uint8ArrayToString(message.data).startsWith('valid') ? 'accept' : 'reject')
    for (const node of [hub, bad, good]) {
      node.pubsub.subscribe('blocks')
    }
    await bad.connect(hub.getMultiaddrs()[0])
    await good.connect(hub.getMultiaddrs()[0])
    await until(() => hub.pubsub.getMeshPeers('blocks').length === 2, 5_000, 'the hub\'s mesh of two')
    await until(() => good.pubsub.getMeshPeers('blocks').length === 1 && bad.pubsub.getMeshPeers('blocks').length === 1, 5_000, 'the peers\' meshes')
    const metrics = createNodeMetrics(hub)
    const delivered: string[] = []
    hub.pubsub.addEventListener('message', (evt) => { delivered.push(uint8ArrayToString(evt.detail.data)) })

    const badClosed = closeOf(bad, hub.peerId)
    for (let i = 0; i < 3; i++) {
      await good.pubsub.publish('blocks', uint8ArrayFromString(`valid ${i}`))
      await bad.pubsub.publish('blocks', uint8ArrayFromString(`forged ${i}`))
    }
    const closed = await badClosed
    assert.equal(closed.reason, ReasonCode.SCORE_TOO_LOW)
    await until(() => delivered.length === 3, 5_000, `the valid messages (${delivered.join(', ')})`)
    await settle()
    assert.deepEqual(delivered.sort(), ['valid 0', 'valid 1', 'valid 2'])
    assert.ok(hub.session(good.peerId) != null, 'the valid peer keeps its session')
    assert.deepEqual(hub.pubsub.getMeshPeers('blocks').map(String), [good.peerId.toString()])
    assert.ok((hub.peerScore(good.peerId)?.score ?? 0) > DISCONNECT_SCORE_THRESHOLD)
    const events = hub.peerScore(bad.peerId)!.events
    assert.ok(events.length >= 2 && events.every(event => event.reason === 'gossip:reject' && event.action === PeerAction.LOW_TOLERANCE), JSON.stringify(events))
    const text = await metrics.text()
    assert.match(text, /^peergate_score_disconnects_total\{reason="gossip"\} 1$/m)
    // the good peer, the one session left, at 0
    assert.match(text, /^peergate_peer_score_bucket\{le="-1"\} 0$/m)
    assert.match(text, /^peergate_peer_score_bucket\{le="0"\} 1$/m)
    metrics.stop()
  })

  it('a peer flooding over a request rate limit is disconnected with SCORE_TOO_LOW on the wire; an honest peer is served and kept', async () => {
    const clock = scoreClock()
    const b = await net.node({ score: { now: clock.now, heartbeatMs: 60_000 } })
    const flooder = await net.node()
    const honest = await net.node()
    const P = '/test-chain/flooded/1.0.0'
    await b.handleRequests(P, () => uint8ArrayFromString('ok'), { rateLimit: { limit: 3, periodMs: 60_000 } })
    await flooder.connect(b.getMultiaddrs()[0])
    await honest.connect(b.getMultiaddrs()[0])
    await until(() => b.session(flooder.peerId) != null && b.session(honest.peerId) != null, 5_000, 'sessions at b')

    const closed = closeOf(flooder, b.peerId)
    const answers: string[] = []
    for (let i = 0; i < 10 && flooder.session(b.peerId) != null; i++) {
      answers.push(await flooder.request(b.peerId, P, uint8ArrayFromString('x')).then(() => 'ok', (err: any) => String(err.code ?? err.name)))
    }
    assert.equal((await closed).reason, ReasonCode.SCORE_TOO_LOW)
    // the limit served, then two refusals (-10 each) reach -20
    assert.deepEqual(answers.slice(0, 5), ['ok', 'ok', 'ok', 'RESOURCE_UNAVAILABLE', 'RESOURCE_UNAVAILABLE'])
    assert.deepEqual(b.peerScore(flooder.peerId)!.events.map(event => event.reason).slice(0, 2), [`rate-limit:${P}`, `rate-limit:${P}`])
    assert.equal(uint8ArrayToString((await honest.request(b.peerId, P, uint8ArrayFromString('x'))).payload), 'ok')
    assert.ok(b.session(honest.peerId) != null)

    // it comes back once its score has decayed above -20 and floods again: banned, BANNED on the wire
    await until(() => b.session(flooder.peerId) == null, 5_000, 'the session\'s end at b')
    clock.advance(refusedForMs({ score: b.peerScore(flooder.peerId)!.score, at: clock.time }, clock.time, SCORE_HALF_LIFE_MS) + 1_000)
    await flooder.connect(b.getMultiaddrs()[0])
    await settle()
    assert.ok(b.session(flooder.peerId) != null, 'accepted again')
    const banned = closeOf(flooder, b.peerId)
    for (let i = 0; i < 10 && flooder.session(b.peerId) != null; i++) {
      await flooder.request(b.peerId, P, uint8ArrayFromString('x')).catch(() => {})
    }
    assert.equal((await banned).reason, ReasonCode.BANNED)
    assert.ok(b.banExpiry(flooder.peerId) != null)
    // the report that banned it (a request already in flight may be reported after it)
    assert.equal(b.peerScore(flooder.peerId)!.events.filter(event => event.outcome === 'ban').length, 1)
    assert.ok(b.session(honest.peerId) != null)
  })

  it('after a restart a peer banned by score stays banned, and a stored score has decayed while the node was down', async () => {
    const clock = scoreClock()
    const dataDir = await net.dir()
    const a = await net.node({ dataDir, score: { now: clock.now } })
    const banned = await net.node()
    const low = await net.node()
    await a.connect(banned.getMultiaddrs()[0])
    await a.connect(low.getMultiaddrs()[0])
    a.reportPeer(banned.peerId, PeerAction.LOW_TOLERANCE, 'test:first')
    a.reportPeer(banned.peerId, PeerAction.FATAL, 'test:fatal')
    for (let i = 0; i < 4; i++) {
      a.reportPeer(low.peerId, PeerAction.LOW_TOLERANCE, 'test:low')
    }
    await until(() => a.session(banned.peerId) == null && a.session(low.peerId) == null, 5_000, 'both sessions\' end')
    assert.equal(a.peerScore(low.peerId)!.score, -40)
    await a.stop()

    // down for one half-life
    clock.advance(SCORE_HALF_LIFE_MS)
    const again = await net.node({ dataDir, score: { now: clock.now } })
    const low2 = again.peerScore(low.peerId)
    assert.ok(low2 != null, 'the stored score is back')
    assert.ok(Math.abs(low2.score - -20) < 1e-9, `decayed by half while down: ${low2.score}`)
    const banned2 = again.peerScore(banned.peerId)
    assert.ok(banned2 != null)
    assert.equal(banned2.score, -100, 'no decay during the ban')
    assert.ok(banned2.decaysFrom != null && banned2.decaysFrom > clock.time)
    assert.ok((again.banExpiry(banned.peerId) ?? 0) > Date.now(), 'still banned')
    await assert.rejects(banned.connect(again.getMultiaddrs()[0]), (err: Error) => isHandshakeError(err) && err.reason === ReasonCode.BANNED)
  })
})
