/*
 * Fuzzing the Goodbye decoder (issue 22): the properties are in
 * goodbye.fuzz.ts, FUZZ_SEED and FUZZ_RUNS in test/utils/fuzz.ts.
 */
import { describe, it } from 'node:test'
import { FUZZ_TIMEOUT_MS, FUZZ_WORKERS, runFuzz } from '../utils/fuzz.js'
import { goodbye, roundTrip } from './goodbye.fuzz.js'

describe('Goodbye decoder, fuzzed', { concurrency: FUZZ_WORKERS, timeout: FUZZ_TIMEOUT_MS }, () => {
  it('any bytes as a Goodbye: a known reason and a detail within MAX_DETAIL_BYTES, or InvalidMessageError', async (t) => {
    await runFuzz(t, goodbye)
  })

  it('every Goodbye decodes to what was sent, its detail cut on a character boundary', async (t) => {
    await runFuzz(t, roundTrip)
  })
})
