/*
 * Seeded, reproducible property tests of the decoders (issue 22, fuzzing):
 * the parameters every *.fuzz.test.ts shares, and the generators of inputs,
 * arbitrary bytes and mutations of valid encodings.
 *
 * FUZZ_SEED (default {@link DEFAULT_FUZZ_SEED}) fixes every property's
 * inputs; FUZZ_RUNS (default {@link DEFAULT_FUZZ_RUNS}) is the number of
 * inputs each decoder gets, shared among its properties. A failure names the
 * seed to replay it with. A longer run, with a seed of its own:
 *
 *   FUZZ_RUNS=5000000 FUZZ_SEED=$RANDOM npm run fuzz
 */
import fc from 'fast-check'
import { encode as encodeVarint } from 'uint8-varint'
import { Uint8ArrayList } from 'uint8arraylist'
import { Worker } from 'node:worker_threads'
import type { TestContext } from 'node:test'

/** The seed of a run when FUZZ_SEED is not set: the same inputs on every machine */
export const DEFAULT_FUZZ_SEED = 22

/** Inputs per decoder when FUZZ_RUNS is not set: the bar of issue 22 for one CI run */
export const DEFAULT_FUZZ_RUNS = 100_000

function envInteger (name: string, fallback: number): number {
  const text = process.env[name]
  if (text == null || text === '') {
    return fallback
  }
  const value = Number(text)
  if (!Number.isSafeInteger(value)) {
    throw new Error(`${name} must be a whole number, got ${JSON.stringify(text)}`)
  }
  return value
}

export const FUZZ_SEED = envInteger('FUZZ_SEED', DEFAULT_FUZZ_SEED)
export const FUZZ_RUNS = envInteger('FUZZ_RUNS', DEFAULT_FUZZ_RUNS)

/** One property's own seed: the run's seed mixed with the property's name (FNV-1a), so that properties do not share inputs */
function propertySeed (name: string): number {
  let hash = 0x811c9dc5 ^ (FUZZ_SEED | 0)
  for (let i = 0; i < name.length; i++) {
    hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193)
  }
  return hash | 0
}

/**
 * A property of a decoder: `check` throws (or rejects) when an input breaks
 * it. Made by {@link property} or {@link asyncProperty} as an export of a
 * `*.fuzz.ts` module, and run by {@link runFuzz} from its test file.
 */
export interface FuzzProperty<T = any> {
  /** the module that exports it (its import.meta.url), where a worker finds it again */
  module: string
  name: string
  arbitrary: fc.Arbitrary<T>
  check(value: T): void | Promise<void>
  async: boolean
  /** this property's share of the decoder's FUZZ_RUNS inputs */
  share: number
}

export interface PropertyOptions {
  /** this property's share of the decoder's FUZZ_RUNS inputs; 1 by default */
  share?: number
}

/** A synchronous property */
export function property<T> (module: string, name: string, arbitrary: fc.Arbitrary<T>, check: (value: T) => void, options: PropertyOptions = {}): FuzzProperty<T> {
  return { module, name, arbitrary, check, async: false, share: options.share ?? 1 }
}

/**
 * An async property (a reader of a byte source): every input's check must
 * settle before the event loop turns (the sources are in memory), else it
 * fails as a hang
 */
export function asyncProperty<T> (module: string, name: string, arbitrary: fc.Arbitrary<T>, check: (value: T) => Promise<void>, options: PropertyOptions = {}): FuzzProperty<T> {
  return { module, name, arbitrary, check, async: true, share: options.share ?? 1 }
}

/** The inputs a property gets in this run */
export function runsOf (prop: FuzzProperty): number {
  return Math.max(1, Math.ceil(FUZZ_RUNS * prop.share))
}

function parameters<T> (prop: FuzzProperty): fc.Parameters<T> {
  return {
    seed: propertySeed(prop.name),
    numRuns: runsOf(prop),
    // the shrunk counterexample in the report, not every failing value
    verbose: fc.VerbosityLevel.None
  }
}

/** Fails when `running` has not settled by the time the event loop turns: a reader of an in-memory source has hung */
async function settlesInMemory (running: Promise<void>): Promise<void> {
  let timer: NodeJS.Immediate | undefined
  const turned = new Promise<'hang'>(resolve => { timer = setImmediate(resolve, 'hang') })
  try {
    if (await Promise.race([running, turned]) === 'hang') {
      throw new Error('hang: the check did not settle before the event loop turned, with every byte already in memory')
    }
  } finally {
    clearImmediate(timer)
  }
}

/** An error and its causes, each on its own lines: fast-check's report, then what the check threw (a worker passes on text only) */
function describe (err: unknown): string {
  const lines: string[] = []
  for (let cause = err; cause != null; cause = (cause as { cause?: unknown }).cause) {
    lines.push(cause instanceof Error ? `${lines.length === 0 ? '' : `caused by ${cause.name}: `}${cause.message}` : String(cause))
  }
  return lines.join('\n')
}

/**
 * Checks `prop` on its inputs, on this thread; throws the shrunk
 * counterexample with FUZZ_SEED and FUZZ_RUNS
 */
export async function checkProperty (prop: FuzzProperty): Promise<void> {
  // the decoders throw by the thousand, and capturing each error's stack
  // costs more than the rest of a check (three times the CPU in all); a
  // failure is replayed from its seed, and the report names what was thrown
  const stackTraceLimit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  let failure: unknown
  try {
    if (prop.async) {
      await fc.assert(fc.asyncProperty(prop.arbitrary, async value => { await settlesInMemory(Promise.resolve().then(async () => { await prop.check(value) })) }), parameters(prop))
    } else {
      fc.assert(fc.property(prop.arbitrary, value => { prop.check(value) }), parameters(prop))
    }
  } catch (err) {
    failure = err
  } finally {
    Error.stackTraceLimit = stackTraceLimit
  }
  if (failure != null) {
    throw new Error(`fuzz property "${prop.name}" failed with FUZZ_SEED=${FUZZ_SEED} FUZZ_RUNS=${FUZZ_RUNS} (set both to replay it)\n${describe(failure)}`, { cause: failure })
  }
}

/**
 * Properties of one test file that run at once, each in a worker of its
 * own: by default one per core of the 2-core machines the suite runs on (a
 * test file runs them at once with `describe(…, { concurrency: FUZZ_WORKERS })`)
 */
export const FUZZ_WORKERS = Math.max(1, envInteger('FUZZ_WORKERS', 2))

/**
 * What a fuzz test file gives each of its tests, in ms: ten times what the
 * slowest property takes on a loaded 2-core machine at its FUZZ_RUNS, so that
 * a decoder caught in a loop fails the test instead of holding the suite
 */
export const FUZZ_TIMEOUT_MS = Math.max(60_000, Math.ceil(FUZZ_RUNS / DEFAULT_FUZZ_RUNS * 300_000))

/**
 * Runs `prop` (see {@link checkProperty}) in a worker thread and tells `t`
 * how many inputs it took. A worker is away from node:test's async hook,
 * which tracks every promise of the test's own thread (an async property
 * runs three to five times slower there), and lets the properties of a file
 * use every core.
 */
export async function runFuzz (t: TestContext, prop: FuzzProperty): Promise<void> {
  await inWorker(prop)
  t.diagnostic(`${prop.name}: ${runsOf(prop)} inputs, FUZZ_SEED ${FUZZ_SEED}`)
}

/** A worker that runs the properties of one module, one at a time (it loads the module once) */
interface Lane {
  worker: Worker
  busy: boolean
}

/** Up to FUZZ_WORKERS lanes per module */
const lanes = new Map<string, Lane[]>()

function idleLane (module: string): Lane {
  const ofModule = lanes.get(module) ?? []
  lanes.set(module, ofModule)
  let lane = ofModule.find(lane => !lane.busy)
  if (lane == null) {
    const worker = new Worker(new URL('./fuzz-worker.js', import.meta.url), { workerData: { module } })
    // it waits for the next property as long as the tests run, and ends with them
    worker.unref()
    lane = { worker, busy: false }
    ofModule.push(lane)
  }
  return lane
}

async function inWorker (prop: FuzzProperty): Promise<void> {
  const lane = idleLane(prop.module)
  const worker = lane.worker
  lane.busy = true
  const outcome = await new Promise<WorkerReport>((resolve, reject) => {
    const onMessage = (report: WorkerReport): void => {
      if (report.name === prop.name) {
        done()
        resolve(report)
      }
    }
    const onError = (err: Error): void => {
      done()
      reject(err)
    }
    const onExit = (code: number): void => {
      done()
      reject(new Error(`the fuzz worker of ${prop.module} exited with ${code} before "${prop.name}" reported`))
    }
    const done = (): void => {
      lane.busy = false
      worker.off('message', onMessage).off('error', onError).off('exit', onExit)
    }
    worker.on('message', onMessage).on('error', onError).on('exit', onExit)
    worker.postMessage(prop.name)
  })
  if (!outcome.ok) {
    throw new Error(outcome.message)
  }
}

/** What a worker reports on a property it ran */
export type WorkerReport = { name: string, ok: true } | { name: string, ok: false, message: string }

/**
 * Asserts that `run` returns, or throws one of `allowed` (compared by name, as
 * the house compares errors); a wrong error is thrown again, as the cause of one that names it
 */
export function onlyThrows<R> (allowed: string[], run: () => R): R | Error {
  try {
    return run()
  } catch (err: any) {
    if (err instanceof Error && allowed.includes(err.name)) {
      return err
    }
    throw new Error(`threw ${err?.name ?? typeof err} (allowed: ${allowed.join(', ')}): ${err?.message ?? String(err)}`, { cause: err })
  }
}

/** {@link onlyThrows} for an async `run` */
export async function onlyRejects<R> (allowed: string[], run: () => Promise<R>): Promise<R | Error> {
  try {
    return await run()
  } catch (err: any) {
    if (err instanceof Error && allowed.includes(err.name)) {
      return err
    }
    throw new Error(`threw ${err?.name ?? typeof err} (allowed: ${allowed.join(', ')}): ${err?.message ?? String(err)}`, { cause: err })
  }
}

/** Byte values that sit on the edges decoders care about: varint continuation, wire types, UTF-8 lead bytes */
const EDGE_BYTES = [0x00, 0x01, 0x02, 0x07, 0x08, 0x0a, 0x7f, 0x80, 0x81, 0xbf, 0xc0, 0xc3, 0xe2, 0xed, 0xf0, 0xf4, 0xf8, 0xff]

/** Varint values on the edges of lengths and limits, for length-prefix edits */
const EDGE_VARINTS = [0, 1, 2, 127, 128, 255, 256, 4095, 4096, 4097, 16383, 16384, 65535, 65536, 2 ** 20, 2 ** 21, 2 ** 28, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 35, 2 ** 49, 2 ** 53 - 1]

/** `value` as an unsigned varint, minimal, or padded with `padding` continuation bytes (`81 00` for 1) */
function varint (value: number, padding: number): Uint8Array {
  const minimal = encodeVarint(value)
  if (padding === 0) {
    return minimal
  }
  const padded = new Uint8Array(minimal.byteLength + padding)
  padded.set(minimal)
  padded[minimal.byteLength - 1] |= 0x80
  padded.fill(0x80, minimal.byteLength, padded.byteLength - 1)
  return padded
}

/**
 * `value` as a minimal unsigned varint, written from the spec (7 bits a byte,
 * low first, the high bit set on all but the last) rather than by the
 * library the code under test writes with, for the models the decoders are
 * checked against
 */
export function specVarint (value: number): Uint8Array {
  const out: number[] = []
  let rest = value
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80)
    rest = Math.floor(rest / 0x80)
  }
  out.push(rest)
  return Uint8Array.from(out)
}

/** An unsigned varint of an edge value or any safe integer, minimal or (one time in four) padded */
export const varintBytes: fc.Arbitrary<Uint8Array> = fc.tuple(
  fc.oneof(fc.constantFrom(...EDGE_VARINTS), fc.nat(2 ** 21), fc.maxSafeNat()),
  fc.nat(7)
).map(([value, padding]) => varint(value, padding < 5 ? 0 : padding - 4))

/** Arbitrary bytes, up to `maxLength` (64 by default); half the time most of them edge bytes */
export function anyBytes (maxLength = 64): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.uint8Array({ maxLength }),
    fc.uint8Array({ maxLength }).map(bytes => bytes.map(byte => byte < 192 ? EDGE_BYTES[byte % EDGE_BYTES.length] : byte))
  )
}

function splice (bytes: Uint8Array, at: number, remove: number, insert: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.byteLength - remove + insert.byteLength)
  out.set(bytes.subarray(0, at))
  out.set(insert, at)
  out.set(bytes.subarray(at + remove), at + insert.byteLength)
  return out
}

/** Bytes of one edit in a mutation program: what it does, where (two bytes), and its argument */
const EDIT_BYTES = 4

/**
 * `bytes` edited by `program`, four bytes an edit (op, position low and high,
 * argument); `payload` gives the bytes an insertion puts in. Encoding edits as
 * bytes keeps generating them cheap, and shrinking a program shrinks its
 * edits (fewer, then towards a bit flip at the start).
 *
 * - 0 flip a bit; 1 set a byte (mostly an edge byte); 2 truncate;
 * - 3 insert a slice of `payload`; 4 delete up to 8 bytes; 5 duplicate a slice elsewhere;
 * - 6 write a varint over 0 to 3 bytes, an edge value (a length prefix or a field's length, edited), minimal or padded;
 * - 7 append a slice of `payload`
 */
export function mutate (bytes: Uint8Array, program: Uint8Array, payload: Uint8Array): Uint8Array {
  let out = bytes
  for (let i = 0; i + EDIT_BYTES <= program.byteLength; i += EDIT_BYTES) {
    const op = program[i] % 8
    const n = out.byteLength
    const at = (program[i + 1] | (program[i + 2] << 8)) % (n + 1)
    const arg = program[i + 3]
    switch (op) {
      case 0:
      case 1:
        if (at < n) {
          out = out.slice()
          out[at] = op === 0 ? out[at] ^ (1 << (arg & 7)) : arg < 192 ? EDGE_BYTES[arg % EDGE_BYTES.length] : arg
        }
        break
      case 2:
        out = out.subarray(0, at)
        break
      case 3:
        out = splice(out, at, 0, payload.subarray(arg % (payload.byteLength + 1)))
        break
      case 4:
        out = splice(out, at, Math.min(1 + (arg & 7), n - at), new Uint8Array(0))
        break
      case 5: {
        const to = (at + 1 + arg) % (n + 1)
        out = splice(out, to, 0, out.slice(at, at + 1 + (arg >> 4)))
        break
      }
      case 6:
        out = splice(out, at, Math.min(arg >> 6, n - at), varint(EDGE_VARINTS[arg % EDGE_VARINTS.length], (arg >> 5) & 1))
        break
      case 7:
        out = splice(out, n, 0, payload.subarray(0, 1 + (arg % 12)))
        break
    }
  }
  return out
}

/** Valid encodings from `valid`, each with one to four edits */
export function mutated (valid: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> {
  return fc.tuple(valid, fc.uint8Array({ minLength: EDIT_BYTES, maxLength: 4 * EDIT_BYTES }), fc.uint8Array({ maxLength: 12 }))
    .map(([bytes, program, payload]) => mutate(bytes, program, payload))
}

/**
 * `count` values of `arbitrary`, drawn once with the run's seed, to pick
 * from: building a valid message costs more than a decoder's whole check, and
 * the mutations, not the variety of valid messages, find the bugs
 */
export function pool<T> (name: string, arbitrary: fc.Arbitrary<T>, count = 512): fc.Arbitrary<T> {
  const values = fc.sample(arbitrary, { numRuns: count, seed: propertySeed(name) })
  return fc.nat(values.length - 1).map(i => values[i])
}

/**
 * The inputs of a decoder: mostly mutations of valid encodings (they reach far
 * deeper than random bytes), some valid ones as they are, some arbitrary bytes
 */
export function decoderInput (valid: fc.Arbitrary<Uint8Array>, maxLength = 64): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { weight: 6, arbitrary: mutated(valid) },
    { weight: 1, arbitrary: valid },
    { weight: 2, arbitrary: anyBytes(maxLength) }
  )
}

/** Where to cut a byte string into chunks, as a stream could deliver it */
export const cuts: fc.Arbitrary<number[]> = fc.array(fc.nat(), { maxLength: 5 })

/**
 * `bytes` cut at `at` (positions modulo its length + 1, so a cut may make an
 * empty chunk); every other chunk is a Uint8ArrayList, as streams yield both
 */
export function chunked (bytes: Uint8Array, at: number[]): Array<Uint8Array | Uint8ArrayList> {
  const points = at.map(p => p % (bytes.byteLength + 1)).sort((a, b) => a - b)
  const out: Array<Uint8Array | Uint8ArrayList> = []
  let from = 0
  for (const point of [...points, bytes.byteLength]) {
    const chunk = bytes.subarray(from, point)
    out.push(out.length % 2 === 1 ? new Uint8ArrayList(chunk) : chunk)
    from = point
  }
  return out
}

/** A source that yields `parts` and counts how many it handed out (to see what a reader pulled) */
export function countingSource (parts: Array<Uint8Array | Uint8ArrayList>): AsyncIterable<Uint8Array | Uint8ArrayList> & { pulled: number } {
  const source = {
    pulled: 0,
    async * [Symbol.asyncIterator] () {
      for (const part of parts) {
        source.pulled++
        yield part
      }
    }
  }
  return source
}

/** Concatenated bytes */
export function concat (parts: Uint8Array[]): Uint8Array {
  return new Uint8ArrayList(...parts).subarray()
}

/** `value` with every record in it (fast-check makes some without a prototype) a plain object, as a decoder makes them */
export function plain<T> (value: T): T {
  if (Array.isArray(value)) {
    return value.map(plain) as T
  }
  const prototype = value == null || typeof value !== 'object' ? undefined : Object.getPrototypeOf(value)
  if (prototype !== null && prototype !== Object.prototype) {
    // not an object, or one of a class (a PeerId, a Multiaddr, a Uint8Array): as it is
    return value
  }
  return Object.fromEntries(Object.entries(value as object).map(([key, item]) => [key, plain(item)])) as T
}

/** A uint64, often on an edge: around 2^31 and 2^32 (where 32-bit code breaks), 2^53 (JS numbers), 2^64 - 1 */
export const uint64: fc.Arbitrary<bigint> = fc.oneof(
  fc.constantFrom(0n, 1n, 2n ** 31n - 1n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n),
  fc.bigInt({ min: 0n, max: 2n ** 32n }),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })
)

/** Strings that survive UTF-8 both ways (no lone surrogates), up to `maxLength` characters */
export function utf8Text (maxLength = 16): fc.Arbitrary<string> {
  return fc.oneof(fc.string({ maxLength }), fc.string({ unit: 'grapheme', maxLength }))
}

export { fc }
