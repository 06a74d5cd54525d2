/*
 * Fuzzing the API's request bodies (issue 22): the properties are in
 * body.fuzz.ts, FUZZ_SEED and FUZZ_RUNS in test/utils/fuzz.ts.
 */
import { describe, it } from 'node:test'
import { FUZZ_TIMEOUT_MS, FUZZ_WORKERS, runFuzz } from '../utils/fuzz.js'
import { body, fields, roundTrip } from './body.fuzz.js'

describe('API bodies, fuzzed', { concurrency: FUZZ_WORKERS, timeout: FUZZ_TIMEOUT_MS }, () => {
  it('any command body: its fields, or a 400', async (t) => {
    await runFuzz(t, fields)
  })

  it('any bytes as a request body in any chunks: a JSON object, a 400, or a 413 read no further', async (t) => {
    await runFuzz(t, body)
  })

  it('every well-formed command body gives its fields', async (t) => {
    await runFuzz(t, roundTrip)
  })
})
