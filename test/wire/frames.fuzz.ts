/*
 * The fuzz properties of the frame reader (src/wire/frames.ts) and its length
 * prefix (src/wire/length-prefix.ts), checked against a model of
 * docs/PROTOCOL.md §3 written from the spec; run by frames.fuzz.test.ts.
 */
import assert from 'node:assert/strict'
import { encodingLength } from 'uint8-varint'
import { Uint8ArrayList } from 'uint8arraylist'
import { readLengthPrefix } from '../../src/wire/length-prefix.js'
import { InvalidLengthPrefixError, MAX_LENGTH_PREFIX_BYTES, MessageTooLargeError, StreamEndedError, encodeFrame, readFrames } from '../../src/wire/index.js'
import { anyBytes, asyncProperty, chunked, concat, countingSource, cuts, decoderInput, fc, onlyThrows, pool, property, specVarint, varintBytes } from '../utils/fuzz.js'

const TOO_LARGE = MessageTooLargeError.name
const INVALID = InvalidLengthPrefixError.name
const ENDED = StreamEndedError.name
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')

/** What the spec says of a length prefix at the start of `bytes` */
type PrefixVerdict =
  | { kind: 'prefix', length: number, bytes: number }
  | { kind: 'unfinished' }
  | { kind: 'invalid' }

/** A prefix as docs/PROTOCOL.md §3 defines it: a minimal unsigned varint of at most MAX_LENGTH_PREFIX_BYTES bytes */
export function modelPrefix (bytes: Uint8Array): PrefixVerdict {
  let value = 0
  for (let i = 0; i < MAX_LENGTH_PREFIX_BYTES; i++) {
    if (i >= bytes.byteLength) {
      return { kind: 'unfinished' }
    }
    value += (bytes[i] & 0x7f) * 2 ** (7 * i)
    if (bytes[i] < 0x80) {
      return i > 0 && bytes[i] === 0 ? { kind: 'invalid' } : { kind: 'prefix', length: value, bytes: i + 1 }
    }
  }
  return { kind: 'invalid' }
}

/** How reading every frame of `bytes` under `max` ends */
interface FramesModel {
  bodies: string[]
  /** clean: the bytes end between frames; ended: inside one; refused: on a prefix */
  end: 'clean' | 'ended' | 'refused'
  /** the errors a refusal may take: which one can depend on the chunking (test/wire/frames.test.ts pins that) */
  errors?: string[]
  /** a refusal is decided once this many bytes of the stream are in: no chunk after that may be pulled */
  decidedAt?: number
}

/**
 * The frames of `bytes` under the limit `max`. The reader refuses a prefix
 * as soon as it is over the limit, or is unfinished and already as long as
 * the limit's own varint (`m` bytes: a minimal prefix that long announces
 * more than `max`). When such a prefix does end within 8 bytes, whether
 * the reader saw its end (non-minimal: InvalidLengthPrefixError) or only its
 * first `m` bytes (MessageTooLargeError) depends on the chunks.
 */
export function modelFrames (bytes: Uint8Array, max: number): FramesModel {
  const m = Math.min(encodingLength(max), MAX_LENGTH_PREFIX_BYTES)
  const bodies: string[] = []
  let pos = 0
  while (pos < bytes.byteLength) {
    const rest = bytes.subarray(pos)
    const verdict = modelPrefix(rest)
    if (verdict.kind === 'prefix' && verdict.bytes <= m) {
      if (verdict.length > max) {
        return { bodies, end: 'refused', errors: [TOO_LARGE], decidedAt: pos + verdict.bytes }
      }
      if (rest.byteLength < verdict.bytes + verdict.length) {
        return { bodies, end: 'ended' }
      }
      bodies.push(hex(rest.subarray(verdict.bytes, verdict.bytes + verdict.length)))
      pos += verdict.bytes + verdict.length
      continue
    }
    const terminator = rest.subarray(0, MAX_LENGTH_PREFIX_BYTES).findIndex(byte => byte < 0x80)
    if (terminator >= 0 && terminator < m) {
      // a non-minimal prefix, seen whole before it was as long as m
      return { bodies, end: 'refused', errors: [INVALID], decidedAt: pos + terminator + 1 }
    }
    if (rest.byteLength < m) {
      return { bodies, end: 'ended' }
    }
    return { bodies, end: 'refused', errors: m === MAX_LENGTH_PREFIX_BYTES ? [INVALID] : [TOO_LARGE, INVALID], decidedAt: pos + m }
  }
  return { bodies, end: 'clean' }
}

/** Limits on the edges of a prefix's length (1, 2, 3 and 8 bytes) and small ones that bodies reach */
export const limit = fc.oneof(
  fc.constantFrom(0, 1, 3, 100, 127, 128, 200, 4096, 16383, 16384, 2 ** 20, 2 ** 49 - 1, 2 ** 49, Number.MAX_SAFE_INTEGER),
  fc.integer({ min: 0, max: 300 })
)

/** Well-formed frames: bodies up to 40 bytes (the limit may refuse some) */
const validFrames: fc.Arbitrary<Uint8Array> = pool('valid frames', fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 4 })
  .map(bodies => concat(bodies.map(body => encodeFrame(body).subarray()))))

/** Frames whose length prefixes were edited: padded, another value, cut */
const editedFrames: fc.Arbitrary<Uint8Array> = pool('edited frames', fc.array(fc.record({
  body: fc.uint8Array({ maxLength: 40 }),
  prefix: fc.option(varintBytes, { freq: 2 })
}), { minLength: 1, maxLength: 4 }).map(frames => concat(frames.map(({ body, prefix }) => prefix == null ? encodeFrame(body).subarray() : concat([prefix, body])))), 1024)

export const frameBytes = fc.oneof(decoderInput(validFrames, 24), editedFrames)


/** Any bytes: the prefix the spec reads, else InvalidLengthPrefixError or undefined (unfinished), as the spec says */
export const lengthPrefix = property(import.meta.url, 'readLengthPrefix', fc.oneof(anyBytes(12), varintBytes, fc.tuple(varintBytes, anyBytes(4)).map(concat)), bytes => {
  const got = onlyThrows([INVALID], () => readLengthPrefix(new Uint8ArrayList(bytes)))
  const want = modelPrefix(bytes)
  if (got instanceof Error) {
    assert.equal(want.kind, 'invalid', `${hex(bytes)}: ${got.message}`)
  } else if (got == null) {
    assert.equal(want.kind, 'unfinished', hex(bytes))
  } else {
    assert.deepEqual({ kind: 'prefix', ...got }, want, hex(bytes))
  }
}, { share: 0.5 })

/** The minimal prefix of any safe integer, whatever follows it, reads back as it was written */
export const lengthPrefixRoundTrip = property(import.meta.url, 'readLengthPrefix round trip', fc.tuple(fc.oneof(fc.maxSafeNat(), fc.nat(2 ** 21)), anyBytes(4)), ([length, after]) => {
  const prefix = specVarint(length)
  assert.deepEqual(readLengthPrefix(new Uint8ArrayList(prefix, after)), { length, bytes: prefix.byteLength })
}, { share: 0.5 })

/**
 * Any bytes, any chunks, any limit: the model's bodies and end, nothing
 * thrown but the wire's three errors, and no chunk pulled once a refusal was
 * decided (so nothing of a body over the limit is buffered)
 */
export const frames = asyncProperty(import.meta.url, 'readFrames', fc.tuple(frameBytes, cuts, limit), async ([bytes, at, max]) => {
  const parts = chunked(bytes, at)
  const source = countingSource(parts)
  const bodies: string[] = []
  let error: Error | undefined
  try {
    for await (const body of readFrames(source, max)) {
      if (body.byteLength > max) {
        assert.fail(`a body of ${body.byteLength} bytes over the limit ${max}`)
      }
      bodies.push(hex(body))
    }
  } catch (err: any) {
    if (![TOO_LARGE, INVALID, ENDED].includes(err?.name)) {
      throw new Error(`readFrames threw ${err?.name}: ${err?.message}`, { cause: err })
    }
    error = err
  }
  const want = modelFrames(bytes, max)
  const context = (): string => `${hex(bytes)} in chunks of ${parts.map(p => p.byteLength).join('+')} bytes under ${max}: got ${bodies.join(',')} ${error?.name ?? 'no error'}`
  if (bodies.join(',') !== want.bodies.join(',')) {
    assert.fail(`${context()}, expected bodies ${want.bodies.join(',')}`)
  }
  if (want.end === 'clean' ? error != null : want.end === 'ended' ? error?.name !== ENDED : error == null || want.errors?.includes(error.name) !== true) {
    assert.fail(`${context()}, expected ${want.end} ${want.errors?.join(' or ') ?? ''}`)
  }
  if (error instanceof MessageTooLargeError && (error.limit !== max || !(error.length > max))) {
    assert.fail(`${context()}: claims ${error.length} over ${error.limit}`)
  }
  if (want.end === 'refused') {
    // every chunk before the last one pulled ended before the refusal was decided
    const before = parts.slice(0, source.pulled - 1).reduce((sum, part) => sum + part.byteLength, 0)
    if (before >= (want.decidedAt ?? 0)) {
      assert.fail(`${context()}: pulled ${source.pulled} chunks, the refusal was decided at byte ${want.decidedAt}`)
    }
  }
})

/** Well-formed frames of bodies up to the limit read back whole and in order, however they are chunked */
export const framesRoundTrip = asyncProperty(import.meta.url, 'readFrames round trip', fc.tuple(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 5 }), cuts), async ([bodies, at]) => {
  const max = Math.max(0, ...bodies.map(body => body.byteLength))
  const got: string[] = []
  for await (const body of readFrames(chunked(concat(bodies.map(body => encodeFrame(body).subarray())), at), max)) {
    got.push(hex(body))
  }
  assert.deepEqual(got, bodies.map(hex))
}, { share: 0.1 })
