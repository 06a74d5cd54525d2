/*
 * Fuzzing the frame reader and its length prefix (issue 22): the properties
 * are in frames.fuzz.ts, FUZZ_SEED and FUZZ_RUNS in test/utils/fuzz.ts.
 */
import { describe, it } from 'node:test'
import { FUZZ_TIMEOUT_MS, FUZZ_WORKERS, runFuzz } from '../utils/fuzz.js'
import { frames, framesRoundTrip, lengthPrefix, lengthPrefixRoundTrip } from './frames.fuzz.js'

describe('frame reader, fuzzed', { concurrency: FUZZ_WORKERS, timeout: FUZZ_TIMEOUT_MS }, () => {
  it('readLengthPrefix reads what the spec says from any bytes, and throws nothing but InvalidLengthPrefixError', async (t) => {
    await runFuzz(t, lengthPrefix)
  })

  it('readLengthPrefix reads the minimal prefix of any safe integer as it was written', async (t) => {
    await runFuzz(t, lengthPrefixRoundTrip)
  })

  it('readFrames, any bytes, chunks and limit: the model\'s bodies and end, only the wire\'s errors, no chunk pulled after a refusal', async (t) => {
    await runFuzz(t, frames)
  })

  it('readFrames reads well-formed frames under the limit whole and in order, however they are chunked', async (t) => {
    await runFuzz(t, framesRoundTrip)
  })
})
