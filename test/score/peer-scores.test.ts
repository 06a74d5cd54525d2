/**
 * The peer score service against a fake session manager, a fake gossip and
 * an in-memory store, on an injected clock: gossipsub's part, the ban's
 * freeze and what follows it, the bound on kept events. The real-node tests
 * are in peer-score.test.ts.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { defaultLogger } from '@libp2p/logger'
import { PeerMap } from '@libp2p/peer-collections'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { PeerAction, ReasonCode, SCORE_BAN_DURATION_MS, SCORE_HALF_LIFE_MS } from '../../src/index.js'
import { PeerScoreService } from '../../src/score/peer-scores.js'
import { FakeSessions } from '../utils/fake-components.js'
import { collectGarbage, LARGE_BUFFER_BYTES, peerIdWithDigestInLargeBuffer, settledArrayBuffers } from '../utils/memory.js'
import { TestClock, until } from '../utils/nodes.js'
import type { ScoreStore } from '../../src/index.js'
import type { PeerId } from '@libp2p/interface'

async function randomPeer (): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

async function setUp (heartbeatMs = 3_600_000) {
  const clock = new TestClock()
  const sessions = new FakeSessions()
  sessions.now = clock.now
  const gossip = new PeerMap<number>()
  const stored = new PeerMap<{ score: number, scoreAt: number, peerId: PeerId }>()
  const store: ScoreStore = {
    get: (peer) => stored.get(peer),
    forEach: (fn) => { stored.forEach(fn) },
    recordScore: async (peer, score, at) => { stored.set(peer, { peerId: peer, score, scoreAt: at }) }
  }
  const service = new PeerScoreService({ sessions, addressBook: store, pubsub: { peerScore: (peer) => gossip.get(peer) ?? 0 }, logger: defaultLogger() }, { now: clock.now, heartbeatMs })
  await service.start()
  return { clock, sessions, gossip, stored, service }
}

describe('peer score service (in memory)', () => {
  it('gossipsub\'s score counts weighted at each heartbeat: far below the graylist it disconnects (reason gossipsub), never bans', async () => {
    const t = await setUp(20)
    const peer = await randomPeer()
    t.sessions.open(peer)
    t.gossip.set(peer, -80)
    await until(() => t.service.get(peer)?.gossipScore === -80, 2_000, 'the heartbeat')
    assert.equal(t.service.scoreOf(peer), -19)
    assert.equal(t.sessions.disconnected.length, 0, 'graylisted alone stays one point above -20')
    const disconnects: string[] = []
    t.service.addEventListener('score:disconnect', (evt) => { disconnects.push(evt.detail.reason) })
    t.gossip.set(peer, -10_000)
    await until(() => t.sessions.disconnected.length === 1, 2_000, 'the disconnect')
    assert.deepEqual(t.sessions.disconnected.map(d => d.reason), [ReasonCode.SCORE_TOO_LOW])
    assert.deepEqual(disconnects, ['gossipsub'])
    assert.equal(t.service.scoreOf(peer), -49)
    assert.equal(t.sessions.banExpiry(peer), undefined)
    // gone, but gossipsub still holds its score (it retains a departed peer's): kept, and a new session ends at once
    await new Promise(resolve => setTimeout(resolve, 100))
    assert.equal(t.service.scoreOf(peer), -49)
    t.sessions.open(peer)
    assert.equal(t.sessions.disconnected.length, 2)
    // gossipsub forgot it: so does the score
    t.gossip.delete(peer)
    await until(() => t.service.get(peer) == null, 2_000, 'forgotten')
    await t.service.stop()
  })

  it('a ban freezes the score for its duration; back after it at -50 or below, the peer is disconnected, not banned again', async () => {
    const t = await setUp()
    const peer = await randomPeer()
    t.sessions.open(peer)
    for (let i = 0; i < 5; i++) {
      t.sessions.reportPeer(peer, PeerAction.LOW_TOLERANCE, 'test:low')
    }
    assert.equal(t.service.scoreOf(peer), -50)
    assert.equal(t.sessions.banExpiry(peer), t.clock.time + SCORE_BAN_DURATION_MS)
    // the session ended at -20, the ban came at -50
    assert.deepEqual(t.sessions.disconnected.map(d => d.reason), [ReasonCode.SCORE_TOO_LOW])
    assert.deepEqual(t.service.get(peer)?.events.map(event => event.outcome), [undefined, 'disconnect', undefined, undefined, 'ban'])
    assert.equal(t.service.get(peer)?.decaysFrom, t.clock.time + SCORE_BAN_DURATION_MS)
    assert.deepEqual(t.stored.get(peer), { peerId: peer, score: -50, scoreAt: t.clock.time + SCORE_BAN_DURATION_MS }, 'written with the ban')
    // a report during the ban counts, and bans no further
    const until = t.sessions.banExpiry(peer)
    t.sessions.reportPeer(peer, PeerAction.LOW_TOLERANCE, 'test:low')
    assert.equal(t.service.scoreOf(peer), -60)
    assert.equal(t.sessions.banExpiry(peer), until)
    // the whole ban: no decay
    t.clock.advance(SCORE_BAN_DURATION_MS)
    assert.equal(t.service.scoreOf(peer), -60)
    // a moment after it: decaying, still at -50 or below; a new session ends with SCORE_TOO_LOW, no new ban
    t.clock.advance(1)
    t.sessions.banned.clear()
    t.sessions.open(peer)
    assert.deepEqual(t.sessions.disconnected.map(d => d.reason), [ReasonCode.SCORE_TOO_LOW, ReasonCode.SCORE_TOO_LOW])
    assert.equal(t.sessions.banExpiry(peer), undefined)
    // a half-life later: -30, still disconnected; two more: -15, kept
    t.clock.advance(SCORE_HALF_LIFE_MS)
    t.sessions.open(peer)
    assert.equal(t.sessions.disconnected.length, 3)
    t.clock.advance(SCORE_HALF_LIFE_MS)
    t.sessions.open(peer)
    assert.equal(t.sessions.disconnected.length, 3)
    assert.ok(t.sessions.get(peer) != null)
    await t.service.stop()
  })

  it('a peer disconnected by reports that comes back and does it again within the hour is banned; reports in one session disconnect once', async () => {
    const t = await setUp()
    const peer = await randomPeer()
    t.sessions.open(peer)
    t.sessions.reportPeer(peer, PeerAction.LOW_TOLERANCE, 'test:low')
    t.sessions.reportPeer(peer, PeerAction.LOW_TOLERANCE, 'test:low')
    assert.deepEqual(t.sessions.disconnected.map(d => d.reason), [ReasonCode.SCORE_TOO_LOW])
    assert.equal(t.sessions.banExpiry(peer), undefined)
    // back a minute later, above -20 (-18.66), and kept
    t.clock.advance(60_000)
    t.sessions.open(peer)
    assert.ok(t.sessions.get(peer) != null)
    // at it again: banned, not merely disconnected
    t.sessions.reportPeer(peer, PeerAction.MID_TOLERANCE, 'test:again')
    assert.equal(t.sessions.banExpiry(peer), t.clock.time + SCORE_BAN_DURATION_MS)
    assert.equal(t.sessions.get(peer), undefined)
    assert.equal(t.service.get(peer)?.events.at(-1)?.outcome, 'ban')
    assert.equal(t.sessions.disconnected.length, 1)

    // another peer: disconnected, back more than an hour later, at it again: disconnected, not banned
    const other = await randomPeer()
    t.sessions.open(other)
    t.sessions.reportPeer(other, PeerAction.LOW_TOLERANCE, 'test:low')
    t.sessions.reportPeer(other, PeerAction.LOW_TOLERANCE, 'test:low')
    t.clock.advance(61 * 60_000)
    t.sessions.open(other)
    t.sessions.reportPeer(other, PeerAction.LOW_TOLERANCE, 'test:low')
    t.sessions.reportPeer(other, PeerAction.LOW_TOLERANCE, 'test:low')
    assert.equal(t.sessions.banExpiry(other), undefined)
    assert.equal(t.sessions.disconnected.filter(d => d.peerId.equals(other)).length, 2)
    await t.service.stop()
  })

  it('keeps the last 8 events of a peer; a score decayed to within 1 of 0 is forgotten once the peer has no session', async () => {
    const t = await setUp(20)
    const peer = await randomPeer()
    for (let i = 0; i < 12; i++) {
      t.sessions.reportPeer(peer, PeerAction.HIGH_TOLERANCE, `test:${i}`)
    }
    assert.deepEqual(t.service.get(peer)?.events.map(event => event.reason), ['test:4', 'test:5', 'test:6', 'test:7', 'test:8', 'test:9', 'test:10', 'test:11'])
    assert.deepEqual(t.service.get(peer)?.events.map(event => event.score), [-5, -6, -7, -8, -9, -10, -11, -12])
    // -12 → below 1 in log2(12) ≈ 3.6 half-lives
    t.clock.advance(4 * SCORE_HALF_LIFE_MS)
    await until(() => t.service.list().length === 0, 2_000, 'forgotten')
    // its last score is in the store, and comes back from it, decayed
    assert.ok(Math.abs(t.service.scoreOf(peer) - -12 / 16) < 1e-9)
    await t.service.stop()
  })

  it('keeps a peer\'s record under a peer id of its own, not the connection\'s view into a 64 KiB read', async () => {
    const t = await setUp()
    const PEERS = 200
    const gc = collectGarbage()
    const before = await settledArrayBuffers(gc)
    for (let i = 0; i < PEERS; i++) {
      // as libp2p makes a connection's remote peer from its public key
      t.sessions.reportPeer(await peerIdWithDigestInLargeBuffer(), PeerAction.HIGH_TOLERANCE, 'test')
    }
    assert.equal(t.service.list().length, PEERS)
    const held = await settledArrayBuffers(gc) - before
    // kept as they came, the records would hold every read: PEERS × 64 KiB = 12.5 MiB
    assert.ok(held < PEERS * LARGE_BUFFER_BYTES / 8, `the scores hold ${(held / 2 ** 20).toFixed(1)} MiB of buffers for ${PEERS} peers`)
    await t.service.stop()
  })

  it('takes in the stored scores at start, for the dial manager', async () => {
    const t = await setUp()
    const peer = await randomPeer()
    await t.stored.set(peer, { peerId: peer, score: -30, scoreAt: t.clock.time - SCORE_HALF_LIFE_MS })
    await t.service.afterStart()
    assert.deepEqual(t.service.list().map(info => [info.peerId.toString(), info.score]), [[peer.toString(), -15]])
    await t.service.stop()
  })
})
