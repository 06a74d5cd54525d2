import assert from 'node:assert/strict'
import { test } from 'node:test'
import { resolveLimits } from '../../src/node/index.js'
import { MAX_SESSIONS_LIMIT } from '../../src/node/constants.js'
import { defaultInboundBurst } from '../../src/session/index.js'

/** PROTOCOL.md §8.1: the burst is 10 % of the inbound limit, rounded up, exactly */
const exact = (limit: number): number => Number((BigInt(limit) * 10n + 99n) / 100n)

test('the inbound burst is 10 % of the inbound limit rounded up (PROTOCOL.md §8.1)', () => {
  const table: Array<[number, number]> = [
    [0, 0], [1, 1], [9, 1], [10, 1], [11, 2], [20, 2], [21, 3],
    [30, 3], [34, 4], [60, 6], [70, 7], [100, 10], [101, 11], [10_000, 1_000]
  ]
  for (const [limit, burst] of table) {
    assert.equal(defaultInboundBurst(limit), burst, `limit ${limit}`)
  }
  // whole multiples of 10 stay whole in floating point too: no limit gets one more
  for (let limit = 0; limit <= MAX_SESSIONS_LIMIT; limit++) {
    assert.equal(defaultInboundBurst(limit), exact(limit), `limit ${limit}`)
  }
})

test('a node\'s limits take the burst from the same rule', () => {
  const table: Array<[number, number]> = [[1, 1], [10, 1], [30, 3], [34, 4]]
  for (const [maxInboundSessions, burst] of table) {
    assert.equal(resolveLimits({ maxInboundSessions, maxOutboundSessions: 1 }).inboundBurst, burst, `limit ${maxInboundSessions}`)
  }
})
