/*
 * The fuzz properties of the Goodbye decoder (src/session/goodbye.ts). Its
 * frame is read by readFrame, fuzzed in test/wire/frames.fuzz.ts. Run by
 * goodbye.fuzz.test.ts.
 */
import assert from 'node:assert/strict'
import { InvalidMessageError } from '@libp2p/interface'
import { MAX_DETAIL_BYTES, REASON_CODES, ReasonCode } from '../../src/reason/index.js'
import { GOODBYE_SPEC, decodeGoodbye } from '../../src/session/goodbye.js'
import { Goodbye } from '../../src/session/pb/session.js'
import { checkEncoding, utf8Length } from '../../src/wire/index.js'
import { decoderInput, fc, onlyThrows, plain, pool, property, utf8Text } from '../utils/fuzz.js'

/** Any Goodbye protons can encode; a detail may be over MAX_DETAIL_BYTES (a sender cuts it, a receiver must too) */
const anyGoodbye: fc.Arbitrary<Goodbye> = fc.record({
  reason: fc.constantFrom(...REASON_CODES),
  appCode: fc.oneof(fc.nat(), fc.constant(2 ** 32 - 1)),
  detail: fc.oneof(utf8Text(40), fc.string({ unit: 'grapheme', minLength: 200, maxLength: 300 }))
}, { requiredKeys: [] }).map(plain)

const validGoodbyes = pool('valid goodbyes', anyGoodbye.map(goodbye => Goodbye.encode(goodbye)))

/**
 * Any bytes as a Goodbye: a parting with a known reason and a detail of at
 * most MAX_DETAIL_BYTES, or InvalidMessageError; what decodes is what its
 * bytes say
 */
export const goodbye = property(import.meta.url, 'decodeGoodbye', decoderInput(validGoodbyes), bytes => {
  const parting = onlyThrows([InvalidMessageError.name], () => decodeGoodbye(bytes))
  if (!(parting instanceof Error)) {
    assert.ok(REASON_CODES.includes(parting.reason), parting.reason)
    assert.ok(parting.detail == null || utf8Length(parting.detail) <= MAX_DETAIL_BYTES)
    const again = Goodbye.encode(parting)
    assert.equal(checkEncoding(again, GOODBYE_SPEC), undefined)
    assert.deepEqual(decodeGoodbye(again), parting)
  }
})

/** Every Goodbye decodes to what was sent, its detail cut to MAX_DETAIL_BYTES on a character boundary */
export const roundTrip = property(import.meta.url, 'Goodbye round trip', anyGoodbye, sent => {
  const parting = decodeGoodbye(Goodbye.encode(sent))
  assert.equal(parting.reason, sent.reason ?? ReasonCode.UNSPECIFIED)
  assert.equal(parting.appCode, sent.appCode)
  if (sent.detail == null) {
    assert.equal(parting.detail, undefined)
  } else {
    assert.ok(sent.detail.startsWith(parting.detail ?? '\u0000'), 'the detail read is a prefix of the one sent')
    assert.ok(utf8Length(parting.detail ?? '') <= MAX_DETAIL_BYTES)
    assert.ok(utf8Length(sent.detail) <= MAX_DETAIL_BYTES ? parting.detail === sent.detail : utf8Length(parting.detail ?? '') > MAX_DETAIL_BYTES - 4)
  }
}, { share: 0.05 })
