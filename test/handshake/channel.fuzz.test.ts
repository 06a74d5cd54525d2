/*
 * Fuzzing the handshake's decoders (issue 22): the properties are in
 * channel.fuzz.ts, FUZZ_SEED and FUZZ_RUNS in test/utils/fuzz.ts.
 */
import { describe, it } from 'node:test'
import { FUZZ_TIMEOUT_MS, FUZZ_WORKERS, runFuzz } from '../utils/fuzz.js'
import { channel, hello, message, roundTrip } from './channel.fuzz.js'

describe('handshake decoders, fuzzed', { concurrency: FUZZ_WORKERS, timeout: FUZZ_TIMEOUT_MS }, () => {
  it('any bytes as a HandshakeMessage: decoded to what they say, or MALFORMED', async (t) => {
    await runFuzz(t, message)
  })

  it('any bytes as a Hello: decoded to what they say, or MALFORMED; the remote-hello checks give a verdict', async (t) => {
    await runFuzz(t, hello)
  })

  it('every HandshakeMessage and Hello decodes to what was encoded', async (t) => {
    await runFuzz(t, roundTrip)
  })

  it('a handshake stream of any bytes in any chunks: messages, or a HandshakeError', async (t) => {
    await runFuzz(t, channel)
  })
})
