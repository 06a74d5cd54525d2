import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { encode as encodeVarint } from 'uint8-varint'
import { MessageTooLargeError, ResultCode, StreamEndedError, readMessage, readMessages, writeMessage } from '../../src/index.js'
import { readFirstByte } from '../../src/protocols/framing.js'
import { RESULT_BYTE, resultCodeOf } from '../../src/protocols/index.js'
import type { Stream } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'

function bytes (...values: Array<number | number[] | Uint8Array>): Uint8Array {
  return Uint8Array.from(values.flatMap(v => typeof v === 'number' ? [v] : [...v]))
}

async function * chunks (...parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  yield * parts
}

async function collect (source: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = []
  for await (const message of source) {
    out.push(message)
  }
  return out
}

/** a stand-in stream that keeps what is sent */
function sink (): { stream: Stream, sent: Uint8Array[] } {
  const sent: Uint8Array[] = []
  const stream = {
    send (data: Uint8Array | Uint8ArrayList): boolean {
      sent.push(data.subarray())
      return true
    }
  }
  return { stream: stream as unknown as Stream, sent }
}

describe('framing', () => {
  const cases: Array<{ name: string, input: Uint8Array[], max: number, messages?: string[], error?: string }> = [
    { name: 'two messages in one chunk', input: [bytes(2, [104, 105], 1, [33])], max: 10, messages: ['hi', '!'] },
    { name: 'a message split across chunks, prefix included', input: [bytes(0x83), bytes(0x01, [1, 2]), bytes(Array(129).fill(3))], max: 200, messages: [String.fromCharCode(1, 2, ...Array(129).fill(3))] },
    { name: 'an empty message', input: [bytes(0)], max: 10, messages: [''] },
    { name: 'a message exactly at the limit', input: [bytes(3, [1, 2, 3])], max: 3, messages: [String.fromCharCode(1, 2, 3)] },
    { name: 'a prefix one over the limit, no body sent', input: [bytes(4)], max: 3, error: MessageTooLargeError.name },
    { name: 'a lying prefix (1 GiB) with a few bytes', input: [bytes(encodeVarint(2 ** 30), [1, 2, 3])], max: 1024, error: MessageTooLargeError.name },
    { name: 'a prefix longer than the limit\'s own encoding, unfinished', input: [bytes(0xff, 0xff)], max: 100, error: MessageTooLargeError.name },
    { name: 'a non-minimal prefix (0x81 0x00 for 1)', input: [bytes(0x81, 0x00, [7])], max: 1000, error: 'InvalidMessageError' },
    { name: 'the stream ends inside the body', input: [bytes(5, [1, 2])], max: 10, error: StreamEndedError.name },
    { name: 'the stream ends inside the prefix', input: [bytes(0x81)], max: 1000, error: StreamEndedError.name }
  ]
  for (const c of cases) {
    it(c.name, async () => {
      const read = collect(readMessages(chunks(...c.input), c.max))
      if (c.error != null) {
        await assert.rejects(read, (err: Error) => err.name === c.error)
      } else {
        assert.deepEqual((await read).map(m => String.fromCharCode(...m)), c.messages)
      }
    })
  }

  it('readMessage reads the first message and fails on an empty stream', async () => {
    assert.deepEqual(await readMessage(chunks(bytes(1, [9], 1, [8])), { maxMessageBytes: 10 }), bytes(9))
    await assert.rejects(readMessage(chunks(), { maxMessageBytes: 10 }), { name: StreamEndedError.name })
  })

  it('readMessage gives up when its signal aborts', async () => {
    const never = { async * [Symbol.asyncIterator] () { await new Promise(() => {}) } }
    await assert.rejects(readMessage(never, { maxMessageBytes: 10, signal: AbortSignal.timeout(20) }), { name: 'TimeoutError' })
  })

  it('writeMessage frames with a varint prefix and refuses a message over the limit before sending', async () => {
    const { stream, sent } = sink()
    await writeMessage(stream, new Uint8Array(200), { maxMessageBytes: 200 })
    assert.deepEqual(sent[0].subarray(0, 2), bytes(0xc8, 0x01))
    assert.equal(sent[0].byteLength, 202)
    await assert.rejects(writeMessage(stream, new Uint8Array(201), { maxMessageBytes: 200 }), (err: MessageTooLargeError) => err.name === MessageTooLargeError.name && err.length === 201 && err.limit === 200)
    assert.equal(sent.length, 1)
  })

  it('a message over it-length-prefixed\'s own 4 MiB default is read and written under a 6 MiB limit', async () => {
    const limit = 6 * 1024 * 1024
    const message = new Uint8Array(5 * 1024 * 1024).fill(7)
    const { stream, sent } = sink()
    await writeMessage(stream, message, { maxMessageBytes: limit })
    const [read] = await collect(readMessages(chunks(...sent), limit))
    assert.equal(read.byteLength, message.byteLength)
    assert.deepEqual(read, message)
  })

  it('readFirstByte splits the first byte off, skipping empty chunks', async () => {
    const { byte, rest } = await readFirstByte(chunks(bytes(), bytes(2, 1), bytes(65)))
    assert.equal(byte, 2)
    assert.deepEqual(await readMessage(rest, { maxMessageBytes: 1 }), bytes(65))
    await assert.rejects(readFirstByte(chunks(bytes())), { name: StreamEndedError.name })
  })
})

describe('result codes', () => {
  const table: Array<[ResultCode, number]> = [
    [ResultCode.SUCCESS, 0],
    [ResultCode.INVALID_REQUEST, 1],
    [ResultCode.SERVER_ERROR, 2],
    [ResultCode.RESOURCE_UNAVAILABLE, 3]
  ]
  for (const [code, byte] of table) {
    it(`${code} is byte ${byte} both ways`, () => {
      assert.equal(RESULT_BYTE[code], byte)
      assert.equal(resultCodeOf(byte), code)
    })
  }
  it('every code is in the table, and other bytes are unknown', () => {
    assert.equal(Object.values(ResultCode).length, table.length)
    for (const byte of [4, 127, 128, 255]) {
      assert.equal(resultCodeOf(byte), undefined)
    }
  })
})
