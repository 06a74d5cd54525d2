/*
 * Fuzzing the frame reader and its length prefix (issue 22): the properties
 * are in frames.fuzz.ts, FUZZ_SEED and FUZZ_RUNS in test/utils/fuzz.ts.
 */
import { describe, it } from 'node:test'
import { runFuzz } from '../utils/fuzz.js'
import { frames, framesRoundTrip, lengthPrefix, lengthPrefixRoundTrip } from './frames.fuzz.js'

describe('readLengthPrefix, fuzzed', () => {
  it('reads what the spec says from any bytes, and throws nothing but InvalidLengthPrefixError', async (t) => {
    await runFuzz(t, lengthPrefix)
  })

  it('the minimal prefix of any safe integer reads back as it was written', async (t) => {
    await runFuzz(t, lengthPrefixRoundTrip)
  })
})

describe('readFrames, fuzzed', () => {
  it('any bytes, chunks and limit: the model\'s bodies and end, only the wire\'s errors, no chunk pulled after a refusal', async (t) => {
    await runFuzz(t, frames)
  })

  it('well-formed frames under the limit read back whole and in order, however they are chunked', async (t) => {
    await runFuzz(t, framesRoundTrip)
  })
})
