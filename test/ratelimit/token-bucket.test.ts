import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { fullBucket, refill, takeTokens, waitMs } from '../../src/ratelimit/index.js'
import type { Bucket, BucketRate } from '../../src/ratelimit/index.js'

/** 10 tokens per second, at most 10 */
const TEN_PER_SECOND: BucketRate = { limit: 10, periodMs: 1000 }

describe('the token bucket', () => {
  const refills: Array<[string, Bucket, number, Bucket]> = [
    // what, the bucket, now, the bucket refilled at now
    ['no time passed: as it was', { tokens: 3, at: 1000 }, 1000, { tokens: 3, at: 1000 }],
    ['a tenth of the period gives a tenth of the limit', { tokens: 0, at: 1000 }, 1100, { tokens: 1, at: 1100 }],
    ['half a token after 50 ms', { tokens: 0, at: 0 }, 50, { tokens: 0.5, at: 50 }],
    ['never beyond the limit', { tokens: 9, at: 0 }, 60_000, { tokens: 10, at: 60_000 }],
    ['a clock that goes back refills nothing and keeps the later time', { tokens: 4, at: 5000 }, 4000, { tokens: 4, at: 5000 }]
  ]
  for (const [what, bucket, now, expected] of refills) {
    it(`refill: ${what}`, () => {
      assert.deepEqual(refill(bucket, TEN_PER_SECOND, now), expected)
    })
  }

  const takes: Array<[string, Bucket, number, number, boolean, number]> = [
    // what, the bucket, cost, now, taken, tokens after
    ['a full bucket serves one', fullBucket(TEN_PER_SECOND, 0), 1, 0, true, 9],
    ['a full bucket serves its whole limit at once', fullBucket(TEN_PER_SECOND, 0), 10, 0, true, 0],
    ['a request over the limit on its own is refused, even from a full bucket', fullBucket(TEN_PER_SECOND, 0), 11, 0, false, 10],
    ['an empty bucket refuses, and a refusal takes nothing', { tokens: 0, at: 0 }, 1, 0, false, 0],
    ['a refusal keeps what was there: 3 of 5 wanted', { tokens: 3, at: 0 }, 5, 0, false, 3],
    ['an empty bucket serves one again after a token\'s time (100 ms)', { tokens: 0, at: 0 }, 1, 100, true, 0],
    ['but not before', { tokens: 0, at: 0 }, 1, 99, false, 0.99],
    ['a shortfall of rounding (2.9999999999999996 tokens for 3) is none', { tokens: 2.9999999999999996, at: 0 }, 3, 0, true, 0],
    ['cost 0 is always served', { tokens: 0, at: 0 }, 0, 0, true, 0]
  ]
  for (const [what, bucket, cost, now, taken, tokens] of takes) {
    it(`take: ${what}`, () => {
      const result = takeTokens(bucket, cost, TEN_PER_SECOND, now)
      assert.equal(result.taken, taken)
      assert.ok(Math.abs(result.bucket.tokens - tokens) < 1e-9, `tokens ${result.bucket.tokens}, expected ${tokens}`)
      assert.equal(result.bucket.at, Math.max(now, bucket.at))
    })
  }

  const waits: Array<[string, Bucket, number, number, number]> = [
    // what, the bucket, cost, now, ms to wait
    ['the tokens are there: none', { tokens: 5, at: 0 }, 5, 0, 0],
    ['one token short: a token\'s time', { tokens: 4, at: 0 }, 5, 0, 100],
    ['refilled meanwhile: the rest of it', { tokens: 4, at: 0 }, 5, 40, 60],
    ['an empty bucket, the whole limit: the whole period', { tokens: 0, at: 0 }, 10, 0, 1000],
    ['over the limit: never', fullBucket(TEN_PER_SECOND, 0), 11, 0, Number.POSITIVE_INFINITY]
  ]
  for (const [what, bucket, cost, now, expected] of waits) {
    it(`wait: ${what}`, () => {
      const ms = waitMs(bucket, cost, TEN_PER_SECOND, now)
      assert.equal(ms, expected)
      if (Number.isFinite(ms)) {
        assert.equal(takeTokens(bucket, cost, TEN_PER_SECOND, now + ms).taken, true, 'after the wait the tokens are there')
      }
    })
  }

  it('a peer sending 10× the rate is served the rate plus the first bucket, however fast it sends', () => {
    // 10 per second for 30 s; the peer asks every 10 ms (100 a second)
    let bucket = fullBucket(TEN_PER_SECOND, 0)
    let served = 0
    let refused = 0
    for (let now = 0; now < 30_000; now += 10) {
      const result = takeTokens(bucket, 1, TEN_PER_SECOND, now)
      bucket = result.bucket
      result.taken ? served++ : refused++
    }
    // the first 10 at once, then one per 100 ms: 10 + 299 (the last at 29 900 ms)
    assert.equal(served, 10 + 299)
    assert.equal(refused, 3000 - served)
  })
})
