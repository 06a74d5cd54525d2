/*
 * Fuzzing the strict protobuf check and the UTF-8 helpers (issue 22): the
 * properties are in protobuf-check.fuzz.ts, FUZZ_SEED and FUZZ_RUNS in
 * test/utils/fuzz.ts.
 */
import { describe, it } from 'node:test'
import { FUZZ_TIMEOUT_MS, FUZZ_WORKERS, runFuzz } from '../utils/fuzz.js'
import { check, truncate } from './protobuf-check.fuzz.js'

describe('protobuf check and UTF-8, fuzzed', { concurrency: FUZZ_WORKERS, timeout: FUZZ_TIMEOUT_MS }, () => {
  it('any bytes against any message spec: a problem or none, never an exception', async (t) => {
    await runFuzz(t, check)
  })

  it('any text cut to any byte limit: within it, whole characters, the longest prefix that fits', async (t) => {
    await runFuzz(t, truncate)
  })
})
