/*
 * The fuzz properties of the application protocols' framing
 * (src/protocols/framing.ts, result-code.ts and the requester's reading of
 * an answer, readResponse): the messages of a notification stream, a
 * request, and a response with its result byte. Each is the wire's frame
 * reader (fuzzed against its model in test/wire/frames.fuzz.ts) with the
 * protocols' errors, so the same model says what each must give. Run by
 * framing.fuzz.test.ts.
 */
import assert from 'node:assert/strict'
import { InvalidMessageError } from '@libp2p/interface'
import { MAX_ERROR_MESSAGE_BYTES } from '../../src/protocols/constants.js'
import { MessageTooLargeError, RemoteResultError, StreamEndedError } from '../../src/protocols/errors.js'
import { readMessage, readMessages } from '../../src/protocols/framing.js'
import { readResponse } from '../../src/protocols/request-response.js'
import { RESULT_BYTE, ResultCode, resultCodeOf } from '../../src/protocols/result-code.js'
import { encodeFrame } from '../../src/wire/index.js'
import { frameBytes, limit, modelFrames } from '../wire/frames.fuzz.js'
import { anyBytes, asyncProperty, chunked, cuts, fc, property } from '../utils/fuzz.js'

const TOO_LARGE = MessageTooLargeError.name
const INVALID = InvalidMessageError.name
const ENDED = StreamEndedError.name
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')

/** The frame reader's errors as the protocols give them: an unreadable prefix is an invalid message */
const asProtocolError = (name: string): string => name === 'InvalidLengthPrefixError' ? INVALID : name

function source (parts: ReturnType<typeof chunked>): AsyncIterable<Uint8Array | ReturnType<typeof chunked>[number]> {
  return { async * [Symbol.asyncIterator] () { yield * parts } }
}

/**
 * A notification stream of any bytes, in any chunks, under any limit: the
 * messages the wire's model reads, then the end it says, with the
 * protocols' errors (MessageTooLargeError, InvalidMessageError,
 * StreamEndedError) and nothing else
 */
export const notifications = asyncProperty(import.meta.url, 'readMessages', fc.tuple(frameBytes, cuts, limit), async ([bytes, at, max]) => {
  const bodies: string[] = []
  let error: Error | undefined
  try {
    for await (const message of readMessages(source(chunked(bytes, at)), max)) {
      bodies.push(hex(message))
    }
  } catch (err: any) {
    error = err
  }
  const want = modelFrames(bytes, max)
  assert.deepEqual(bodies, want.bodies)
  if (want.end === 'clean') {
    assert.equal(error, undefined)
  } else if (want.end === 'ended') {
    assert.equal(error?.name, ENDED, error?.message)
  } else {
    assert.ok(error != null && (want.errors ?? []).map(asProtocolError).includes(error.name), `${error?.name}: ${error?.message}`)
  }
})

/** What reading one message gives, by the wire's model: its body in hex, or the errors it may end with */
function modelMessage (bytes: Uint8Array, max: number): { body: string } | { errors: string[] } {
  const want = modelFrames(bytes, max)
  if (want.bodies.length > 0) {
    return { body: want.bodies[0] }
  }
  return { errors: want.end === 'refused' ? (want.errors ?? []).map(asProtocolError) : [ENDED] }
}

/** `got` (a body in hex or an error's name) is what `want` says */
function assertMessage (got: string, want: ReturnType<typeof modelMessage>): void {
  if ('body' in want ? got !== want.body : !want.errors.includes(got)) {
    assert.fail(`got ${got}, expected ${'body' in want ? want.body : want.errors.join(' or ')}`)
  }
}

async function outcome (read: () => Promise<Uint8Array>): Promise<string> {
  try {
    return hex(await read())
  } catch (err: any) {
    if (![TOO_LARGE, INVALID, ENDED].includes(err?.name)) {
      throw new Error(`threw ${err?.name}: ${err?.message}`, { cause: err })
    }
    return err.name
  }
}

/**
 * A request of any bytes, in any chunks, under any limit: its first message
 * as the model reads it (whatever follows), or the protocols' error; an
 * empty stream is StreamEndedError
 */
export const request = asyncProperty(import.meta.url, 'readMessage', fc.tuple(frameBytes, cuts, limit), async ([bytes, at, max]) => {
  const got = await outcome(async () => await readMessage(source(chunked(bytes, at)), { maxMessageBytes: max }))
  assertMessage(got, modelMessage(bytes, max))
}, { share: 0.5 })

/** A result byte: mostly the four known ones, else any */
const resultByte = fc.oneof(fc.constantFrom(...Object.values(RESULT_BYTE)), fc.integer({ min: 0, max: 255 }))

/**
 * A response of any bytes after any result byte, in any chunks: the payload
 * of a SUCCESS, RemoteResultError with the code and the payload's first
 * MAX_ERROR_MESSAGE_BYTES, InvalidMessageError for an unknown byte, or the
 * framing's errors as for a request
 */
export const response = asyncProperty(import.meta.url, 'readResponse', fc.tuple(fc.option(resultByte, { freq: 20 }), frameBytes, cuts, limit), async ([byte, rest, at, max]) => {
  const bytes = byte == null ? rest : Uint8Array.of(byte, ...rest)
  let got: string
  let remote: RemoteResultError | undefined
  try {
    const answer = await readResponse(source(chunked(bytes, at)), { maxMessageBytes: max })
    assert.equal(answer.code, ResultCode.SUCCESS)
    got = hex(answer.payload)
  } catch (err: any) {
    if (![TOO_LARGE, INVALID, ENDED, RemoteResultError.name].includes(err?.name)) {
      throw new Error(`threw ${err?.name}: ${err?.message}`, { cause: err })
    }
    got = err.name
    remote = err instanceof RemoteResultError ? err : undefined
  }
  if (bytes.byteLength === 0) {
    assert.equal(got, ENDED)
    return
  }
  const code = resultCodeOf(bytes[0])
  if (code == null) {
    assert.equal(got, INVALID)
    return
  }
  const payload = modelMessage(bytes.subarray(1), max)
  if (code === ResultCode.SUCCESS || !('body' in payload)) {
    assertMessage(got, payload)
  } else {
    assert.equal(remote?.code, code, `got ${got}, expected a RemoteResultError ${code}`)
    const message = new TextDecoder().decode(Buffer.from(payload.body, 'hex').subarray(0, MAX_ERROR_MESSAGE_BYTES))
    assert.equal(remote?.remoteMessage, message)
  }
}, { share: 0.5 })

/** Every byte, and any number: the code it stands for, whose byte it is, or undefined */
export const resultCodes = property(import.meta.url, 'resultCodeOf', fc.oneof(fc.integer({ min: -1, max: 256 }), fc.double(), anyBytes(1).map(bytes => bytes[0] ?? 0)), value => {
  const code = resultCodeOf(value)
  if (code != null) {
    // (-0 is the byte 0 too)
    assert.ok(RESULT_BYTE[code] === value, `byte ${value} is ${code}`)
  } else {
    assert.ok(!Object.values(RESULT_BYTE).includes(value), `byte ${value} is ${code}`)
  }
}, { share: 0.05 })

/** A well-formed response reads back: the payload of a SUCCESS, the message of any other code */
export const responseRoundTrip = asyncProperty(import.meta.url, 'readResponse round trip', fc.tuple(fc.constantFrom(...Object.values(ResultCode)), fc.uint8Array({ maxLength: 300 }), cuts), async ([code, payload, at]) => {
  const bytes = Uint8Array.of(RESULT_BYTE[code], ...encodeFrame(payload).subarray())
  const read = readResponse(source(chunked(bytes, at)), { maxMessageBytes: 300 })
  if (code === ResultCode.SUCCESS) {
    assert.deepEqual((await read).payload, payload)
  } else {
    await assert.rejects(read, (err: any) => err instanceof RemoteResultError && err.code === code && err.remoteMessage === new TextDecoder().decode(payload.subarray(0, MAX_ERROR_MESSAGE_BYTES)))
  }
}, { share: 0.05 })
