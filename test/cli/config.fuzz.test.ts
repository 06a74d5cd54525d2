/*
 * Fuzzing the config file and the environment of `peergate start` (issue
 * 22): the properties are in config.fuzz.ts, FUZZ_SEED and FUZZ_RUNS in
 * test/utils/fuzz.ts.
 */
import { describe, it } from 'node:test'
import { FUZZ_TIMEOUT_MS, FUZZ_WORKERS, runFuzz } from '../utils/fuzz.js'
import { config, roundTrip } from './config.fuzz.js'

describe('start config, fuzzed', { concurrency: FUZZ_WORKERS, timeout: FUZZ_TIMEOUT_MS }, () => {
  it('any config file and environment: the options, or an InvalidParametersError', async (t) => {
    await runFuzz(t, config)
  })

  it('every well-typed config resolves to its values', async (t) => {
    await runFuzz(t, roundTrip)
  })
})
