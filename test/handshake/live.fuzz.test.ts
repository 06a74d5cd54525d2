/*
 * The handshake fuzzed against a live node over real streams (issue 22,
 * item 1): the sequences and their expected outcomes are in live-plans.ts,
 * the scripted peers and the invariants in live-fuzz.ts. This file runs a
 * seeded slice of FUZZ_RUNS / 200 sequences (500 by default, about 10 s);
 * `npm run fuzz:live` runs 10,000 and prints the counts.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { FUZZ_RUNS, FUZZ_SEED } from '../utils/fuzz.js'
import { LiveFuzz } from './live-fuzz.js'

/** Live sequences per decoder input: a live sequence costs about what 200 decoded frames do */
const LIVE_SHARE = 1 / 200

const SEQUENCES = Math.max(1, Math.ceil(FUZZ_RUNS * LIVE_SHARE))

describe('the handshake against a live node, fuzzed', { timeout: 120_000 + SEQUENCES * 100 }, () => {
  it(`${SEQUENCES} generated sequences from both roles: a session exactly for the valid ones, a documented reason and a hang-up within the deadline for the rest, an honest peer served throughout, nothing left over`, async (t) => {
    const fuzz = await LiveFuzz.start()
    try {
      await fuzz.run(SEQUENCES, FUZZ_SEED)
      await fuzz.finish()
      t.diagnostic(fuzz.report())
      assert.deepEqual(fuzz.stats.violations, [])
      assert.equal(fuzz.stats.sequences >= SEQUENCES, true)
      assert.equal(fuzz.stats.sessionsOpened > 0, true, 'some sequences were valid')
      assert.equal(fuzz.stats.honestHandshakes >= 2, true, 'the honest peer handshook during the run and at its end')
    } finally {
      await fuzz.stop()
    }
  })
})
