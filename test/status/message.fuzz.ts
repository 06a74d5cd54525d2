/*
 * The fuzz properties of the Status message (src/status/message.ts): its
 * decoder and the reader of a status stream. Run by message.fuzz.test.ts.
 */
import assert from 'node:assert/strict'
import { InvalidMessageError } from '@libp2p/interface'
import { MAX_MESSAGE_SIZE } from '../../src/handshake/constants.js'
import { STATUS_SPEC, decodeStatus, encodeStatus, readStatus } from '../../src/status/message.js'
import { checkEncoding, encodeFrame, StreamEndedError } from '../../src/wire/index.js'
import { Status } from '../../src/status/pb/status.js'
import { asyncProperty, chunked, cuts, decoderInput, fc, onlyRejects, onlyThrows, plain, pool, property, uint64 } from '../utils/fuzz.js'
import type { LocalStatus } from '../../src/status/index.js'
import type { Stream } from '@libp2p/interface'

const INVALID = InvalidMessageError.name

/** Any status a node may send: with or without a head, any extra */
const anyStatus: fc.Arbitrary<LocalStatus> = fc.record({
  head: fc.record({ height: uint64, hash: fc.uint8Array({ maxLength: 40 }) }),
  extra: fc.uint8Array({ maxLength: 40 })
}, { requiredKeys: [] }).map(plain)

/** A Status body as a node writes it (without its frame) */
const statusBody = (status: LocalStatus): Uint8Array => Status.encode({ head: status.head as Status['head'], extra: (status.extra ?? new Uint8Array(0)) as Uint8Array<ArrayBuffer> })

const validBodies = pool('valid status bodies', anyStatus.map(statusBody))

/**
 * Any bytes as a Status body: decoded, or InvalidMessageError; what decodes
 * is what its bytes say (it encodes to a body that decodes to it again)
 */
export const status = property(import.meta.url, 'decodeStatus', decoderInput(validBodies), bytes => {
  const decoded = onlyThrows([INVALID], () => decodeStatus(bytes))
  if (!(decoded instanceof Error)) {
    const again = statusBody(decoded)
    assert.equal(checkEncoding(again, STATUS_SPEC), undefined)
    assert.deepEqual(decodeStatus(again), decoded)
  }
})

/** Every status a node sends decodes to what it sent */
export const roundTrip = property(import.meta.url, 'Status round trip', anyStatus, sent => {
  const framed = encodeStatus(sent)
  // the frame's prefix is one or two bytes: a Status of this size is under 16 KiB
  const body = framed.subarray(framed[0] < 0x80 ? 1 : 2)
  assert.deepEqual(decodeStatus(body), { head: sent.head, extra: sent.extra ?? new Uint8Array(0) })
}, { share: 0.05 })

/** Status streams: a framed valid or mutated body, mutated as a whole */
const validStreams = fc.oneof(validBodies, decoderInput(validBodies)).map(body => encodeFrame(body).subarray())

/**
 * A status stream of any bytes in any chunks: a Status, or
 * InvalidMessageError (over the limit, unreadable, undecodable, no Status),
 * or StreamEndedError (it ended inside the frame)
 */
export const stream = asyncProperty(import.meta.url, 'readStatus', fc.tuple(decoderInput(validStreams), cuts), async ([bytes, at]) => {
  const parts = chunked(bytes, at)
  const source = { async * [Symbol.asyncIterator] () { yield * parts } } as unknown as Stream
  await onlyRejects([INVALID, StreamEndedError.name], async () => await readStatus(source, MAX_MESSAGE_SIZE, new AbortController().signal))
}, { share: 0.3 })
