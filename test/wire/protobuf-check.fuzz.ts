/*
 * The fuzz properties of the strict protobuf check (src/wire/protobuf-check.ts)
 * and the UTF-8 helpers (src/wire/utf8.ts). The check of each real message
 * is fuzzed with its decoder (test/handshake, test/status, test/session);
 * here it meets any message spec, nesting included. Run by
 * protobuf-check.fuzz.test.ts.
 */
import assert from 'node:assert/strict'
import { checkEncoding, truncateUtf8, utf8Length, type FieldSpec, type FieldType, type MessageSpec } from '../../src/wire/index.js'
import { anyBytes, decoderInput, fc, pool, property, specVarint, varintBytes } from '../utils/fuzz.js'

const SCALARS: FieldType[] = ['uint32', 'uint64', 'bool', 'enum', 'bytes', 'string']

/** A message spec of up to 6 fields numbered 1 to 20 (or a few large numbers), nested up to 3 deep */
const { spec: anySpec } = fc.letrec<{ spec: MessageSpec, field: FieldSpec }>(tie => ({
  spec: fc.uniqueArray(fc.tuple(fc.oneof(fc.integer({ min: 1, max: 20 }), fc.constantFrom(2 ** 29 - 1, 1000)), tie('field')), { maxLength: 6, selector: ([number]) => number })
    .map(fields => new Map(fields) as MessageSpec),
  field: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(...SCALARS).map(type => ({ name: type, type })),
    tie('spec').map(message => ({ name: 'nested', type: 'message' as const, message }))
  )
})) as { spec: fc.Arbitrary<MessageSpec> }

/** One field of any wire type (tags of known and unknown numbers, edge varints, lengths that may lie) */
const fieldBytes = fc.tuple(fc.oneof(fc.integer({ min: 0, max: 21 }), fc.constantFrom(2 ** 29 - 1, 2 ** 29)), fc.integer({ min: 0, max: 7 }), fc.oneof(varintBytes, anyBytes(12)))
  .map(([number, wireType, payload]) => {
    const tag = specVarint(number * 8 + wireType)
    return wireType === 2 ? Uint8Array.of(...tag, ...specVarint(payload.byteLength), ...payload) : Uint8Array.of(...tag, ...payload)
  })

const messages = pool('protobuf messages', fc.array(fieldBytes, { maxLength: 5 }).map(fields => Uint8Array.from(fields.flatMap(field => [...field]))), 1024)

/** Any bytes against any spec: a problem or none, never an exception, and the same answer twice */
export const check = property(import.meta.url, 'checkEncoding', fc.tuple(decoderInput(messages), pool('message specs', anySpec, 128)), ([bytes, spec]) => {
  const problem = checkEncoding(bytes, spec)
  assert.ok(problem === undefined || typeof problem === 'string')
  assert.equal(checkEncoding(bytes, spec), problem)
})

/** Text with lone surrogates, control characters and characters of 1 to 4 UTF-8 bytes */
const anyText = fc.oneof(fc.string({ unit: 'binary', maxLength: 24 }), fc.string({ unit: 'grapheme', maxLength: 24 }))

/**
 * Any text cut to any byte limit: never more bytes than the limit; a text
 * that fits is kept as it is; well-formed text is cut to its longest prefix
 * of whole characters that fits
 */
export const truncate = property(import.meta.url, 'truncateUtf8', fc.tuple(anyText, fc.oneof(fc.integer({ min: -2, max: 100 }), fc.constantFrom(0, 1, 2, 3, 4, 256, Number.MAX_SAFE_INTEGER))), ([text, max]) => {
  const cut = truncateUtf8(text, max)
  const size = utf8Length(text)
  assert.ok(utf8Length(cut) <= Math.max(0, max), `${JSON.stringify(cut)} is ${utf8Length(cut)} bytes, over ${max}`)
  if (size <= max) {
    assert.equal(cut, text)
  } else if (Buffer.from(text, 'utf8').toString('utf8') === text) {
    // well-formed: no lone surrogate
    assert.ok(text.startsWith(cut), `${JSON.stringify(cut)} is not a prefix of ${JSON.stringify(text)}`)
    const next = String.fromCodePoint(text.codePointAt(cut.length) ?? 0)
    assert.ok(utf8Length(cut) + utf8Length(next) > max, `${JSON.stringify(cut)} could hold ${JSON.stringify(next)} too`)
  }
})
