import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { NoSessionError } from '../../src/index.js'
import { until } from '../utils/nodes.js'
import { memoryNodes } from '../utils/memory-sessions.js'
import { recorder, text } from '../utils/protocols.js'

let n = 0
const protocol = (): string => `/test-chain/notify-memory-${++n}/1.0.0`


/*
 * Notifications over in-memory sessions (test/utils/memory-sessions.ts): the
 * channel's own rules, in milliseconds. notifications.test.ts runs it
 * between real nodes (streams, resets, libp2p's stream limits).
 */
describe('notifications in memory', () => {
  it('a 5 MiB message passes under a 6 MiB maxMessageBytes (no hidden 4 MiB limit)', async () => {
    const { a, b } = await memoryNodes()
    const P = protocol()
    const limits = { maxMessageBytes: 6 * 1024 * 1024 }
    const atA = await recorder(a, P, limits)
    const sizes: number[] = []
    await b.notifications(P, { ...limits, onMessage: (message) => { sizes.push(message.byteLength) } })
    await atA.channel.send(b.peerId, new Uint8Array(5 * 1024 * 1024))
    await atA.channel.send(b.peerId, text('after'))
    await until(() => sizes.length === 2, 10_000, 'both messages at b')
    assert.deepEqual(sizes, [5 * 1024 * 1024, 5])
  })

  it('a full queue rejects further sends with QueueFullError', async () => {
    const { a, b } = await memoryNodes()
    const P = protocol()
    const atA = await recorder(a, P, { maxQueuedMessages: 2 })
    await recorder(b, P)
    // nothing is written before the stream is open, so three sends in one tick queue up
    const sends = [1, 2, 3].map(async i => atA.channel.send(b.peerId, text(`q${i}`)))
    const results = await Promise.allSettled(sends)
    assert.deepEqual(results.map(r => r.status), ['fulfilled', 'fulfilled', 'rejected'])
    assert.equal((results[2] as PromiseRejectedResult).reason.name, 'QueueFullError')
  })

  describe('to a peer whose handshake is in flight', () => {
    it('sends wait for the session, then go out in the order of the calls', async () => {
      const { a, b } = await memoryNodes()
      a.sessions.end(b.sessions)
      const P = protocol()
      const atA = await recorder(a, P)
      const atB = await recorder(b, P)
      a.sessions.beginHandshake(b.peerId)
      const sends = [1, 2, 3].map(async i => atA.channel.send(b.peerId, text(`h${i}`)))
      await new Promise(resolve => setTimeout(resolve, 20))
      assert.deepEqual(atB.got, [], 'nothing before the session')
      a.sessions.connect(b.sessions)
      // a send made as the session opens goes after the ones that waited
      await atA.channel.send(b.peerId, text('after'))
      await Promise.all(sends)
      await until(() => atB.got.length === 4, 5_000, 'all four messages')
      assert.deepEqual(atB.got, ['h1', 'h2', 'h3', 'after'])
    })

    it('sends waiting for a handshake count against maxQueuedMessages', async () => {
      const { a, b } = await memoryNodes()
      a.sessions.end(b.sessions)
      const P = protocol()
      const atA = await recorder(a, P, { maxQueuedMessages: 2 })
      await recorder(b, P)
      a.sessions.beginHandshake(b.peerId)
      const results = Promise.allSettled([1, 2, 3].map(async i => atA.channel.send(b.peerId, text(`w${i}`))))
      await new Promise(resolve => setTimeout(resolve, 20))
      a.sessions.connect(b.sessions)
      const settled = await results
      assert.deepEqual(settled.map(r => r.status), ['fulfilled', 'fulfilled', 'rejected'])
      assert.equal((settled[2] as PromiseRejectedResult).reason.name, 'QueueFullError')
    })

    it('a handshake that fails rejects the waiting sends with NoSessionError', async () => {
      const { a, b } = await memoryNodes()
      a.sessions.end(b.sessions)
      const P = protocol()
      const atA = await recorder(a, P)
      a.sessions.beginHandshake(b.peerId)
      const sent = atA.channel.send(b.peerId, text('never'))
      a.sessions.refuse(b.peerId)
      await assert.rejects(sent, { name: NoSessionError.name })
    })
  })
})
