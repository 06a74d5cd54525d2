/*
 * Fuzzing the did:key parser (issue 22): the properties are in
 * did-key.fuzz.ts, FUZZ_SEED and FUZZ_RUNS in test/utils/fuzz.ts.
 */
import { describe, it } from 'node:test'
import { FUZZ_TIMEOUT_MS, FUZZ_WORKERS, runFuzz } from '../utils/fuzz.js'
import { didKey, roundTrip } from './did-key.fuzz.js'

describe('did:key parser, fuzzed', { concurrency: FUZZ_WORKERS, timeout: FUZZ_TIMEOUT_MS }, () => {
  it('any DID: an Ed25519 key whose one did:key it is, or DidUnresolvableError', async (t) => {
    await runFuzz(t, didKey)
  })

  it('every key\'s did:key resolves to it', async (t) => {
    await runFuzz(t, roundTrip)
  })
})
