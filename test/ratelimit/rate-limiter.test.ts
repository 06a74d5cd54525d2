import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { InvalidParametersError } from '@libp2p/interface'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { PeerAction } from '../../src/index.js'
import { RateLimiter, rateLimitedProtocol, rateLimitReason, reporterOf, resolveRateLimit } from '../../src/ratelimit/index.js'
import type { RateLimit, ResolvedRateLimit } from '../../src/ratelimit/index.js'
import type { Session } from '../../src/index.js'
import type { PeerId } from '@libp2p/interface'

const DEFAULTS = { limit: 100, periodMs: 10_000 }

/** a session as the limiter sees it: a peer id and a signal that ends it */
async function session (): Promise<{ session: Session, end(): void }> {
  const controller = new AbortController()
  const peerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  return { session: { peerId, signal: controller.signal } as unknown as Session, end: () => { controller.abort() } }
}

function reports (): { reportPeer(peer: PeerId, action: PeerAction, reason: string): void, seen: Array<[PeerId, PeerAction, string]> } {
  const seen: Array<[PeerId, PeerAction, string]> = []
  return { seen, reportPeer: (peer, action, reason) => { seen.push([peer, action, reason]) } }
}

describe('the rate limit of a protocol', () => {
  const resolutions: Array<[string, Partial<RateLimit> | false | undefined, Partial<ResolvedRateLimit> | undefined | 'invalid']> = [
    // what, the option, the limit it resolves to (or invalid)
    ['unset: the defaults, reported LOW_TOLERANCE', undefined, { limit: 100, periodMs: 10_000, action: PeerAction.LOW_TOLERANCE }],
    ['false: no limit', false, undefined],
    ['the fields given win, the rest are defaults', { limit: 5 }, { limit: 5, periodMs: 10_000, action: PeerAction.LOW_TOLERANCE }],
    ['an action of its own', { action: PeerAction.FATAL }, { limit: 100, periodMs: 10_000, action: PeerAction.FATAL }],
    ['a limit of 0', { limit: 0 }, 'invalid'],
    ['a fractional period', { periodMs: 0.5 }, 'invalid'],
    ['a limit that is not a number', { limit: Number.NaN }, 'invalid'],
    ['an unknown action', { action: 'SEVERE' as PeerAction }, 'invalid'],
    ['a cost that is not a function', { cost: 3 as any }, 'invalid']
  ]
  for (const [what, option, expected] of resolutions) {
    it(`resolves ${what}`, () => {
      if (expected === 'invalid') {
        assert.throws(() => resolveRateLimit(option, DEFAULTS), (err: Error) => err.name === InvalidParametersError.name)
        return
      }
      const resolved = resolveRateLimit(option, DEFAULTS)
      assert.deepEqual(resolved == null ? undefined : { limit: resolved.limit, periodMs: resolved.periodMs, action: resolved.action }, expected)
    })
  }

  it('names the protocol in the reason, and reads it back; other reasons name none', () => {
    assert.equal(rateLimitReason('/c/blocks/1'), 'rate-limit:/c/blocks/1')
    assert.equal(rateLimitedProtocol('rate-limit:/c/blocks/1'), '/c/blocks/1')
    assert.equal(rateLimitedProtocol('invalid-gossip'), undefined)
  })

  it('serves a peer up to its limit, refuses and reports beyond it, serves again as tokens come back', async () => {
    let now = 0
    const reporter = reports()
    const limiter = new RateLimiter('/c/p/1', { limit: 3, periodMs: 3000, action: PeerAction.MID_TOLERANCE }, reporter, () => now)
    const { session: s } = await session()
    assert.deepEqual([1, 2, 3, 4, 5].map(() => limiter.take(s)), [true, true, true, false, false])
    assert.deepEqual(reporter.seen, [[s.peerId, PeerAction.MID_TOLERANCE, 'rate-limit:/c/p/1'], [s.peerId, PeerAction.MID_TOLERANCE, 'rate-limit:/c/p/1']])
    now = 999
    assert.equal(limiter.take(s), false)
    now = 1000
    assert.equal(limiter.take(s), true)
    assert.equal(reporter.seen.length, 3)
  })

  it('keeps one bucket per peer: one peer over its limit leaves another served', async () => {
    const limiter = new RateLimiter('/c/p/1', { limit: 1, periodMs: 60_000, action: PeerAction.LOW_TOLERANCE }, reports(), () => 0)
    const one = await session()
    const other = await session()
    assert.equal(limiter.take(one.session), true)
    assert.equal(limiter.take(one.session), false)
    assert.equal(limiter.take(other.session), true)
  })

  it('counts in the units the protocol declares: a request for 8 items takes 8', async () => {
    const limiter = new RateLimiter('/c/blocks/1', { limit: 10, periodMs: 10_000, action: PeerAction.LOW_TOLERANCE, cost: (req) => req[0] }, reports(), () => 0)
    const { session: s } = await session()
    assert.equal(limiter.costOf(Uint8Array.of(8)), 8)
    assert.equal(limiter.take(s, limiter.costOf(Uint8Array.of(8))), true)
    assert.equal(limiter.take(s, limiter.costOf(Uint8Array.of(3))), false)
    assert.equal(limiter.take(s, limiter.costOf(Uint8Array.of(2))), true)
    assert.match(limiter.describe(11), /counts 11 units, more than the limit of 10 per 10 s/)
  })

  const costs: Array<[string, (req: Uint8Array) => number]> = [
    ['throws', () => { throw new Error('undecodable') }],
    ['is negative', () => -1],
    ['is fractional', () => 1.5],
    ['is not a number', () => Number.NaN]
  ]
  for (const [what, cost] of costs) {
    it(`a cost that ${what} makes the message invalid`, () => {
      const limiter = new RateLimiter('/c/p/1', { limit: 10, periodMs: 1000, action: PeerAction.LOW_TOLERANCE, cost }, reports())
      assert.throws(() => limiter.costOf(new Uint8Array()), (err: Error) => err.name === InvalidParametersError.name)
    })
  }

  it('refuses through sessions without reportPeer too, unreported; reports through sessions with it', async () => {
    const { session: s } = await session()
    const silent = new RateLimiter('/c/p/1', { limit: 1, periodMs: 60_000, action: PeerAction.LOW_TOLERANCE }, reporterOf({}), () => 0)
    assert.deepEqual([silent.take(s), silent.take(s)], [true, false])
    const reporter = reports()
    const heard = new RateLimiter('/c/p/1', { limit: 1, periodMs: 60_000, action: PeerAction.LOW_TOLERANCE }, reporterOf(reporter), () => 0)
    assert.deepEqual([heard.take(s), heard.take(s)], [true, false])
    assert.equal(reporter.seen.length, 1)
  })

  it('drops a peer\'s bucket when its session ends, and refuses an ended session without reporting it', async () => {
    const reporter = reports()
    const limiter = new RateLimiter('/c/p/1', { limit: 5, periodMs: 1000, action: PeerAction.LOW_TOLERANCE }, reporter, () => 0)
    const peers = await Promise.all([session(), session(), session()])
    for (const peer of peers) {
      limiter.take(peer.session)
    }
    assert.equal(limiter.size, 3)
    peers[0].end()
    peers[1].end()
    assert.equal(limiter.size, 1)
    assert.equal(limiter.take(peers[0].session), false)
    assert.equal(limiter.size, 1)
    assert.deepEqual(reporter.seen, [])
  })
})
