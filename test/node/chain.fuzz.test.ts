/*
 * Fuzzing the data dir's chain record (issue 22): the properties are in
 * chain.fuzz.ts, FUZZ_SEED and FUZZ_RUNS in test/utils/fuzz.ts.
 */
import { describe, it } from 'node:test'
import { FUZZ_TIMEOUT_MS, FUZZ_WORKERS, runFuzz } from '../utils/fuzz.js'
import { chainRecord, roundTrip } from './chain.fuzz.js'

describe('chain record, fuzzed', { concurrency: FUZZ_WORKERS, timeout: FUZZ_TIMEOUT_MS }, () => {
  it('any bytes as the chain record: a record or damaged, never an error; then this chain or InvalidParametersError', async (t) => {
    await runFuzz(t, chainRecord)
  })

  it('every record a node writes reads back as its own chain', async (t) => {
    await runFuzz(t, roundTrip)
  })
})
