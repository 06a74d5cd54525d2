import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { encode as encodeVarint } from 'uint8-varint'
import { MessageTooLargeError, RemoteResultError, ResultCode, TooManyRequestsError } from '../../src/index.js'
import { until } from '../utils/nodes.js'
import { memoryNodes } from '../utils/memory-sessions.js'
import { drain, rejection, str, text } from '../utils/protocols.js'
import type { Response } from '../../src/index.js'

let n = 0
/** a fresh protocol id per test, so handlers never mix */
const protocol = (): string => `/test-chain/req-${++n}/1.0.0`


/*
 * Request/response over in-memory sessions (test/utils/memory-sessions.ts):
 * the protocol's own rules, in milliseconds. request-response.test.ts runs
 * it between real nodes.
 */
describe('request/response in memory', async () => {
  const { a, b } = await memoryNodes()

  it('every result code reaches the requester, with the message', async () => {
    const P = protocol()
    const codes: Array<Exclude<ResultCode, ResultCode.SUCCESS>> = [ResultCode.INVALID_REQUEST, ResultCode.SERVER_ERROR, ResultCode.RESOURCE_UNAVAILABLE]
    await b.handleRequests(P, (request): Response => {
      const code = codes[request[0]]
      return code == null ? { code: ResultCode.SUCCESS, payload: text('fine') } : { code, message: `because ${code}` }
    })
    for (const [i, code] of codes.entries()) {
      const err = await rejection(a.request(b.peerId, P, Uint8Array.of(i)))
      assert.equal(err.name, RemoteResultError.name)
      assert.equal(err.code, code)
      assert.equal(err.remoteMessage, `because ${code}`)
    }
    assert.equal(str((await a.request(b.peerId, P, Uint8Array.of(9))).payload), 'fine')
  })

  it('a handler that throws answers SERVER_ERROR without its error, and the node serves on', async () => {
    const P = protocol()
    let calls = 0
    await b.handleRequests(P, async () => {
      calls++
      if (calls === 1) {
        throw new Error('secret internal detail')
      }
      return text('ok')
    })
    const err = await rejection(a.request(b.peerId, P, text('x')))
    assert.equal(err.name, RemoteResultError.name)
    assert.equal(err.code, ResultCode.SERVER_ERROR)
    assert.doesNotMatch(err.remoteMessage, /secret/)
    assert.equal(str((await a.request(b.peerId, P, text('x'))).payload), 'ok')
  })

  it('an error message is cut to 256 bytes', async () => {
    const P = protocol()
    await b.handleRequests(P, () => ({ code: ResultCode.INVALID_REQUEST, message: 'é'.repeat(200) }))
    const err = await rejection(a.request(b.peerId, P, text('x')))
    assert.equal(err.remoteMessage, 'é'.repeat(128))
  })

  describe('size limits', () => {
    it('the requester refuses a request over maxRequestBytes without sending it', async () => {
      const P = protocol()
      let calls = 0
      await b.handleRequests(P, () => { calls++; return text('ok') })
      const err = await rejection(a.request(b.peerId, P, new Uint8Array(11), { maxRequestBytes: 10 }))
      assert.equal(err.name, MessageTooLargeError.name)
      await a.request(b.peerId, P, new Uint8Array(10), { maxRequestBytes: 10 })
      assert.equal(calls, 1)
    })

    it('the responder answers INVALID_REQUEST to a request over its maxRequestBytes, without calling the handler', async () => {
      const P = protocol()
      let calls = 0
      await b.handleRequests(P, () => { calls++; return text('ok') }, { maxRequestBytes: 10 })
      const err = await rejection(a.request(b.peerId, P, new Uint8Array(50), { maxRequestBytes: 100 }))
      assert.equal(err.code, ResultCode.INVALID_REQUEST)
      assert.equal(calls, 0)
    })

    it('the responder answers a lying length prefix at once, on the prefix (raw stream)', async () => {
      const P = protocol()
      let calls = 0
      await b.handleRequests(P, () => { calls++; return text('ok') }, { maxRequestBytes: 1024, timeoutMs: 5_000 })
      const stream = await a.openStream(b.peerId, P)
      // claims 1 GiB, sends 3 bytes and keeps its write side open
      stream.send(Uint8Array.from([...encodeVarint(2 ** 30), 1, 2, 3]))
      const started = Date.now()
      const reply = await drain(stream)
      assert.ok(Date.now() - started < 2_000, 'answered before the read timeout')
      assert.equal(reply.bytes[0], 1, 'INVALID_REQUEST')
      assert.equal(calls, 0)
    })

    it('the requester refuses a response over its maxResponseBytes', async () => {
      const P = protocol()
      await b.handleRequests(P, () => new Uint8Array(100), { maxResponseBytes: 1000 })
      const err = await rejection(a.request(b.peerId, P, text('x'), { maxResponseBytes: 99 }))
      assert.equal(err.name, MessageTooLargeError.name)
      assert.equal(err.length, 100)
      assert.equal((await a.request(b.peerId, P, text('x'), { maxResponseBytes: 100 })).payload.byteLength, 100)
    })

    it('the responder does not send a response over its own maxResponseBytes: SERVER_ERROR', async () => {
      const P = protocol()
      await b.handleRequests(P, () => new Uint8Array(100), { maxResponseBytes: 50 })
      const err = await rejection(a.request(b.peerId, P, text('x'), { maxResponseBytes: 1000 }))
      assert.equal(err.code, ResultCode.SERVER_ERROR)
      assert.match(err.remoteMessage, /too large/)
    })

    it('a 5 MiB response passes under a 6 MiB maxResponseBytes (no hidden 4 MiB limit)', async () => {
      const P = protocol()
      const limits = { maxResponseBytes: 6 * 1024 * 1024 }
      await b.handleRequests(P, () => new Uint8Array(5 * 1024 * 1024).fill(7), limits)
      const { payload } = await a.request(b.peerId, P, text('x'), limits)
      assert.equal(payload.byteLength, 5 * 1024 * 1024)
      assert.ok(payload.every(byte => byte === 7))
    })

    it('the requester refuses a lying response prefix at once (raw responder)', async () => {
      const P = protocol()
      await b.handle(P, async (stream) => {
        stream.send(Uint8Array.from([0, ...encodeVarint(2 ** 30), 1, 2, 3]))
        // its write side stays open until the requester gives up on the stream
        await new Promise(resolve => { stream.addEventListener('close', resolve, { once: true }) })
      })
      const started = Date.now()
      const err = await rejection(a.request(b.peerId, P, text('x'), { maxResponseBytes: 1024, timeoutMs: 5_000 }))
      assert.equal(err.name, MessageTooLargeError.name)
      assert.ok(Date.now() - started < 2_000, 'refused on the prefix, not at the timeout')
    })
  })

  describe('time', () => {
    it('a responder that never answers: TimeoutError after timeoutMs', async () => {
      const P = protocol()
      await b.handle(P, async (_stream, _connection, session) => {
        await new Promise(resolve => session.signal.addEventListener('abort', resolve))
      })
      const started = Date.now()
      const err = await rejection(a.request(b.peerId, P, text('x'), { timeoutMs: 300 }))
      const elapsed = Date.now() - started
      assert.equal(err.name, 'TimeoutError')
      assert.ok(elapsed >= 290 && elapsed < 2_000, `timed out after ${elapsed} ms`)
    })

    it('a requester that never sends: the responder gives up after its timeoutMs, without calling the handler', async () => {
      const P = protocol()
      let calls = 0
      await b.handleRequests(P, () => { calls++; return text('ok') }, { timeoutMs: 200 })
      const stream = await a.openStream(b.peerId, P)
      const started = Date.now()
      const reply = await drain(stream)
      const elapsed = Date.now() - started
      // no result byte: the stream was ended, not answered
      assert.deepEqual(reply.bytes, [])
      assert.ok(elapsed >= 150 && elapsed < 3_000, `gave up after ${elapsed} ms`)
      assert.equal(calls, 0)
    })
  })

  describe('in flight per peer', () => {
    it('the responder answers RESOURCE_UNAVAILABLE beyond maxInFlightPerPeer without calling the handler', async () => {
      const P = protocol()
      let calls = 0
      let release!: () => void
      const released = new Promise<void>(resolve => { release = resolve })
      await b.handleRequests(P, async () => {
        calls++
        await released
        return text('done')
      }, { maxInFlightPerPeer: 1 })
      const first = a.request(b.peerId, P, text('1'), { maxInFlightPerPeer: 5 })
      await until(() => calls === 1, 5_000, 'first request in the handler')
      const err = await rejection(a.request(b.peerId, P, text('2'), { maxInFlightPerPeer: 5 }))
      assert.equal(err.code, ResultCode.RESOURCE_UNAVAILABLE)
      assert.equal(calls, 1)
      release()
      assert.equal(str((await first).payload), 'done')
      // the slot is free again
      assert.equal(str((await a.request(b.peerId, P, text('3'))).payload), 'done')
      assert.equal(calls, 2)
    })

    it('the requester refuses a request beyond its maxInFlightPerPeer locally', async () => {
      const P = protocol()
      let calls = 0
      let release!: () => void
      const released = new Promise<void>(resolve => { release = resolve })
      await b.handleRequests(P, async () => {
        calls++
        await released
        return text('done')
      }, { maxInFlightPerPeer: 5 })
      const first = a.request(b.peerId, P, text('1'), { maxInFlightPerPeer: 1 })
      const err = await rejection(a.request(b.peerId, P, text('2'), { maxInFlightPerPeer: 1 }))
      assert.equal(err.name, TooManyRequestsError.name)
      release()
      await first
      assert.equal(calls, 1)
      await a.request(b.peerId, P, text('3'), { maxInFlightPerPeer: 1 })
      assert.equal(calls, 2)
    })
  })

})
