/**
 * `npm run fuzz:live`: the handshake fuzzed against a live node (issue 22,
 * item 1), 10,000 generated sequences from both roles over real libp2p
 * streams, with an honest peer served throughout. Prints the counts and the
 * rate; exits 1 on any violation.
 *
 *   FUZZ_LIVE_SEQUENCES=1000 FUZZ_SEED=7 npm run fuzz:live
 *
 * FUZZ_LIVE_WORKERS sets the scripted peers playing at once (LIVE_WORKERS).
 */
import { FUZZ_SEED } from '../test/utils/fuzz.js'
import { LiveFuzz } from '../test/handshake/live-fuzz.js'

/** The bar of issue 22: 10,000 live sequences */
const DEFAULT_SEQUENCES = 10_000

const sequences = Number(process.env.FUZZ_LIVE_SEQUENCES ?? DEFAULT_SEQUENCES)
if (!Number.isSafeInteger(sequences) || sequences < 1) {
  console.error(`FUZZ_LIVE_SEQUENCES must be a whole number above 0, got ${process.env.FUZZ_LIVE_SEQUENCES}`)
  process.exit(2)
}

const workers = process.env.FUZZ_LIVE_WORKERS == null ? undefined : Number(process.env.FUZZ_LIVE_WORKERS)
const fuzz = await LiveFuzz.start({ workers })
const started = performance.now()
let failure: unknown
try {
  await fuzz.run(sequences, FUZZ_SEED)
  await fuzz.finish()
} catch (err) {
  failure = err
} finally {
  await fuzz.stop()
}
const seconds = (performance.now() - started) / 1000
console.log(`live handshake fuzz, FUZZ_SEED ${FUZZ_SEED}, ${sequences} sequences asked`)
console.log(fuzz.report())
console.log(`time: ${seconds.toFixed(1)} s, ${(fuzz.stats.sequences / seconds).toFixed(0)} sequences/s`)
if (failure != null) {
  console.log(`FAILED: ${(failure as Error).message}`)
}
process.exit(failure != null || fuzz.stats.violations.length > 0 ? 1 : 0)
