/*
 * Fuzzing the address book's records (issue 22): the properties are in
 * record.fuzz.ts, FUZZ_SEED and FUZZ_RUNS in test/utils/fuzz.ts.
 */
import { describe, it } from 'node:test'
import { FUZZ_TIMEOUT_MS, FUZZ_WORKERS, runFuzz } from '../utils/fuzz.js'
import { record, roundTrip } from './record.fuzz.js'

describe('address book records, fuzzed', { concurrency: FUZZ_WORKERS, timeout: FUZZ_TIMEOUT_MS }, () => {
  it('any bytes under any key: a contact that reads whole, or InvalidMessageError', async (t) => {
    await runFuzz(t, record)
  })

  it('every contact reads back as it was written', async (t) => {
    await runFuzz(t, roundTrip)
  })
})
