/*
 * Fuzzing the application protocols' framing (issue 22): the properties are
 * in framing.fuzz.ts, FUZZ_SEED and FUZZ_RUNS in test/utils/fuzz.ts.
 */
import { describe, it } from 'node:test'
import { FUZZ_TIMEOUT_MS, FUZZ_WORKERS, runFuzz } from '../utils/fuzz.js'
import { notifications, request, response, responseRoundTrip, resultCodes } from './framing.fuzz.js'

describe('protocol framing, fuzzed', { concurrency: FUZZ_WORKERS, timeout: FUZZ_TIMEOUT_MS }, () => {
  it('a notification stream of any bytes: the wire model\'s messages and end, with the protocols\' errors only', async (t) => {
    await runFuzz(t, notifications)
  })

  it('a request of any bytes: its first message, or the protocols\' errors only', async (t) => {
    await runFuzz(t, request)
  })

  it('a response of any bytes: a payload, RemoteResultError with its code and message, or the protocols\' errors only', async (t) => {
    await runFuzz(t, response)
  })

  it('a well-formed response reads back', async (t) => {
    await runFuzz(t, responseRoundTrip)
  })

  it('every byte and number: its result code, or none', async (t) => {
    await runFuzz(t, resultCodes)
  })
})
