/*
 * Fuzzing the Status decoder and the status stream's reader (issue 22): the
 * properties are in message.fuzz.ts, FUZZ_SEED and FUZZ_RUNS in test/utils/fuzz.ts.
 */
import { describe, it } from 'node:test'
import { FUZZ_TIMEOUT_MS, FUZZ_WORKERS, runFuzz } from '../utils/fuzz.js'
import { roundTrip, status, stream } from './message.fuzz.js'

describe('Status decoders, fuzzed', { concurrency: FUZZ_WORKERS, timeout: FUZZ_TIMEOUT_MS }, () => {
  it('any bytes as a Status: decoded to what they say, or InvalidMessageError', async (t) => {
    await runFuzz(t, status)
  })

  it('every Status a node sends decodes to what it sent', async (t) => {
    await runFuzz(t, roundTrip)
  })

  it('a status stream of any bytes in any chunks: a Status, InvalidMessageError or StreamEndedError', async (t) => {
    await runFuzz(t, stream)
  })
})
