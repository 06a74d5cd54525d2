import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { NoSessionError, ResultCode, readMessages, writeMessage } from '../../src/index.js'
import { TestNetwork, until } from '../utils/nodes.js'
import { drain, rejection, sendUnlessRefused, sessionPair, sleep, str, streamsOf, text } from '../utils/protocols.js'
import type { Session } from '../../src/index.js'

const net = new TestNetwork()
after(async () => { await net.cleanup() })

let n = 0
/** a fresh protocol id per test, so handlers never mix */
const protocol = (): string => `/test-chain/req-${++n}/1.0.0`


/** The framed messages in `bytes` */
async function readAll (bytes: Uint8Array): Promise<Uint8Array[]> {
  const messages: Uint8Array[] = []
  for await (const message of readMessages((async function * () { yield bytes })(), 1024)) {
    messages.push(message)
  }
  return messages
}

describe('request/response', async () => {
  const { a, b } = await sessionPair(net)

  it('round trip: the handler gets the request and the requester\'s session, the requester the payload', async () => {
    const P = protocol()
    const seen: Session[] = []
    await b.handleRequests(P, (request, session) => {
      seen.push(session)
      return text(`echo:${str(request)}`)
    })
    const response = await a.request(b.peerId, P, text('ping'))
    assert.equal(response.code, ResultCode.SUCCESS)
    assert.equal(str(response.payload), 'echo:ping')
    assert.equal(seen.length, 1)
    assert.ok(seen[0].peerId.equals(a.peerId))
    assert.equal(seen[0].did, a.did)
    // an empty request and an empty response are fine
    await b.handleRequests(`${P}/empty`, () => new Uint8Array())
    assert.equal((await a.request(b.peerId, `${P}/empty`, new Uint8Array())).payload.byteLength, 0)
  })


  describe('time', () => {
    it('a request stream that ends before its first byte is INVALID_REQUEST at once, and the handler is not called; an empty request (00) is a request (APPLICATION-PROTOCOLS §3.1)', async () => {
      const P = protocol()
      const requests: number[] = []
      await b.handleRequests(P, (request) => { requests.push(request.byteLength); return text('ok') }, { timeoutMs: 5_000 })

      const empty = await a.openStream(b.peerId, P)
      await empty.close()
      const started = Date.now()
      const reply = await drain(empty)
      assert.ok(Date.now() - started < 2_000, 'answered when the stream ended, not at the read timeout')
      assert.equal(reply.bytes[0], 0x01, 'INVALID_REQUEST')
      const [message] = await readAll(Uint8Array.from(reply.bytes.slice(1)))
      assert.match(str(message), /ended before/)
      assert.deepEqual(requests, [])

      // the frame 00 is a request of 0 bytes: served
      const zero = await a.openStream(b.peerId, P)
      zero.send(Uint8Array.of(0x00))
      await zero.close()
      const served = await drain(zero)
      assert.equal(served.bytes[0], 0x00, 'SUCCESS')
      assert.deepEqual(requests, [0])
    })

    it('a requester that never reads a large answer: the responder resets it after its timeoutMs and the in-flight slot frees', async () => {
      const P = protocol()
      const limits = { maxResponseBytes: 4 * 1024 * 1024, maxInFlightPerPeer: 1 }
      let calls = 0
      await b.handleRequests(P, () => { calls++; return new Uint8Array(2 * 1024 * 1024) }, { ...limits, timeoutMs: 300 })
      const stream = await a.openStream(b.peerId, P)
      // no Yamux window updates from here on: b's answer backs up after the first window
      stream.pause()
      await writeMessage(stream, text('x'), { maxMessageBytes: 100 })
      await stream.close()
      await until(() => calls === 1, 5_000, 'the request in the handler')
      const started = Date.now()
      await until(() => stream.status !== 'open', 3_000, 'b resets the answer nobody reads')
      const elapsed = Date.now() - started
      assert.ok(elapsed >= 200, `reset after ${elapsed} ms`)
      // the slot (maxInFlightPerPeer 1) is free: a new request is served, not answered RESOURCE_UNAVAILABLE
      const response = await a.request(b.peerId, P, text('y'), limits)
      assert.equal(response.payload.byteLength, 2 * 1024 * 1024)
      assert.equal(calls, 2)
    })

    it('a raw handler that sleeps 50 ms before reading the request to its end still sees it end', async () => {
      const P = protocol()
      await b.handle(P, async (stream) => {
        await sleep(50)
        const messages: Uint8Array[] = []
        // reads until the requester's close: without the stream correction this loop never ends
        for await (const message of readMessages(stream, 100)) {
          messages.push(message)
        }
        stream.send(Uint8Array.of(0))
        await writeMessage(stream, text(`${messages.length}:${str(messages[0])}`), { maxMessageBytes: 100 })
        await stream.close()
      })
      const response = await a.request(b.peerId, P, text('slow'), { timeoutMs: 3_000 })
      assert.equal(str(response.payload), '1:slow')
    })
  })

  describe('in flight per peer', () => {
    it('libp2p refuses a peer\'s inbound streams beyond maxInFlightPerPeer + 1', async () => {
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
      // the slot is taken: a raw stream that keeps its write side open is answered RESOURCE_UNAVAILABLE and stays listed
      const second = await a.openStream(b.peerId, P)
      const answered = drain(second)
      await until(() => streamsOf(b, a, P, 'inbound').length === 2, 5_000, 'two inbound streams at b')
      // a third stream is over maxInFlightPerPeer + 1 (2): reset by libp2p, no result byte
      const third = await a.openStream(b.peerId, P)
      const refused = await drain(third)
      assert.deepEqual(refused.bytes, [])
      assert.equal(third.status, 'reset')
      assert.equal((await answered).bytes[0], 3, 'RESOURCE_UNAVAILABLE')
      assert.equal(calls, 1)
      second.abort(new Error('done'))
      release()
      assert.equal(str((await first).payload), 'done')
    })

  })

  describe('without a session', () => {
    it('a plain libp2p node gets nothing, and the handler never runs', async () => {
      const P = protocol()
      let calls = 0
      await b.handleRequests(P, () => { calls++; return text('secret') })
      const plain = await net.plain()
      const stream = await plain.dialProtocol(b.getMultiaddrs()[0], P).catch((err: Error) => err)
      if (!(stream instanceof Error)) {
        sendUnlessRefused(stream, Uint8Array.from([1, 65]))
        await stream.close().catch(() => {})
        const reply = await drain(stream)
        assert.deepEqual(reply.bytes, [])
      }
      assert.equal(calls, 0)
    })

    it('request to a peer without a session rejects with NoSessionError', async () => {
      const P = protocol()
      const stranger = await net.node()
      await stranger.handleRequests(P, () => text('hi'))
      const err = await rejection(a.request(stranger.peerId, P, text('x')))
      assert.equal(err.name, NoSessionError.name)
    })
  })
})
