import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { MessageTooLargeError, NoSessionError, writeMessage } from '../../src/index.js'
import { MAX_INBOUND_NOTIFICATION_STREAMS, NOTIFICATION_CLOSE_TIMEOUT_MS } from '../../src/protocols/index.js'
import { TestNetwork, nextEvent, until } from '../utils/nodes.js'
import { recorder, rejection, sessionPair, sleep, streamsOf, text } from '../utils/protocols.js'
import type { Stream } from '@libp2p/interface'

const net = new TestNetwork()
after(async () => { await net.cleanup() })

let n = 0
const protocol = (): string => `/test-chain/notify-${++n}/1.0.0`



describe('notifications', () => {
  it('send, broadcast and except reach the right peers, in order', async () => {
    const hub = await net.node()
    const [b, c, d] = [await net.node(), await net.node(), await net.node()]
    for (const peer of [b, c, d]) {
      await peer.connect(hub.getMultiaddrs()[0])
    }
    await until(() => hub.sessions().length === 3, 5_000, 'three sessions at the hub')
    const P = protocol()
    const atHub = await recorder(hub, P)
    const [atB, atC, atD] = [await recorder(b, P), await recorder(c, P), await recorder(d, P)]

    const sends: Array<Promise<void>> = []
    for (let i = 0; i < 50; i++) {
      sends.push(atHub.channel.send(b.peerId, text(`m${i}`)))
    }
    await Promise.all(sends)
    assert.equal(await atHub.channel.broadcast(text('all but c'), { except: c.peerId }), 2)
    await until(() => atB.got.length === 51 && atD.got.length === 1, 5_000, 'messages at b and d')
    assert.deepEqual(atB.got, [...Array.from({ length: 50 }, (_, i) => `m${i}`), 'all but c'])
    assert.deepEqual(atD.got, ['all but c'])
    assert.ok(atB.sessions.every(s => s.peerId.equals(hub.peerId)))

    // the other way: a peer's messages reach the hub with that peer's session
    await atC.channel.send(hub.peerId, text('from c'))
    await until(() => atHub.got.length === 1, 5_000, 'c\'s message at the hub')
    assert.ok(atHub.sessions[0].peerId.equals(c.peerId))
    assert.deepEqual(atC.got, [], 'c was left out of the broadcast')

    // one stream per peer and protocol, however many messages
    assert.equal(streamsOf(hub, b, P, 'outbound').length, 1)
  })

  it('a message over the limit is refused by send, and ends the stream at a receiver with a lower limit', async () => {
    const { a, b } = await sessionPair(net)
    const P = protocol()
    const atA = await recorder(a, P, { maxMessageBytes: 1000 })
    const atB = await recorder(b, P, { maxMessageBytes: 100 })

    const err = await rejection(atA.channel.send(b.peerId, new Uint8Array(1001)))
    assert.equal(err.name, MessageTooLargeError.name)
    await assert.rejects(atA.channel.broadcast(new Uint8Array(1001)), { name: MessageTooLargeError.name })

    await atA.channel.send(b.peerId, text('small'))
    await until(() => atB.got.length === 1, 5_000, 'the small message')
    const first = streamsOf(a, b, P, 'outbound')[0]
    await atA.channel.send(b.peerId, new Uint8Array(500))
    // b aborts the stream on the prefix; a sees it end
    await until(() => streamsOf(a, b, P, 'outbound').length === 0, 5_000, 'a\'s stream ended by b')
    assert.notEqual(first.status, 'open')
    assert.equal(atB.got.length, 1)

    // and the next send opens another stream
    await atA.channel.send(b.peerId, text('again'))
    await until(() => atB.got.length === 2, 5_000, 'the message after the reopen')
    assert.deepEqual(atB.got, ['small', 'again'])
    assert.notEqual(streamsOf(a, b, P, 'outbound')[0].id, first.id)
  })

  it('a stream the remote reset is reopened on the next send', async () => {
    const { a, b } = await sessionPair(net)
    const P = protocol()
    const atA = await recorder(a, P)
    const atB = await recorder(b, P)
    await atA.channel.send(b.peerId, text('one'))
    await until(() => atB.got.length === 1, 5_000, 'first message')
    const [outbound] = streamsOf(a, b, P, 'outbound')
    const [inbound] = streamsOf(b, a, P, 'inbound')
    inbound.abort(new Error('reset by the test'))
    await until(() => outbound.status !== 'open', 5_000, 'a sees the reset')

    await atA.channel.send(b.peerId, text('two'))
    await until(() => atB.got.length === 2, 5_000, 'second message')
    assert.deepEqual(atB.got, ['one', 'two'])
    const [reopened] = streamsOf(a, b, P, 'outbound')
    assert.notEqual(reopened.id, outbound.id)
  })

  it('close() removes the channel\'s streams from a connection that stays', async () => {
    const { a, b } = await sessionPair(net)
    const P = protocol()
    const atA = await recorder(a, P)
    const atB = await recorder(b, P)
    await atA.channel.send(b.peerId, text('a→b'))
    await atB.channel.send(a.peerId, text('b→a'))
    await until(() => atA.got.length === 1 && atB.got.length === 1, 5_000, 'both messages')
    assert.equal(streamsOf(a, b, P).length, 2)

    await atA.channel.close()
    await until(() => streamsOf(a, b, P).length === 0 && streamsOf(b, a, P).length === 0, 5_000, 'no streams of the protocol left')
    assert.ok(a.session(b.peerId) != null, 'the session stays')
    await assert.rejects(atA.channel.send(b.peerId, text('late')), { name: 'NotStartedError' })
  })

  it('close() resets, after NOTIFICATION_CLOSE_TIMEOUT_MS, a stream whose peer stopped reading', async () => {
    const { a, b } = await sessionPair(net)
    const P = protocol()
    const atA = await recorder(a, P)
    const atB = await recorder(b, P)
    await atA.channel.send(b.peerId, text('one'))
    await until(() => atB.got.length === 1, 5_000, 'first message')
    // b stops reading: no more Yamux window updates, so a's writes back up
    streamsOf(b, a, P, 'inbound')[0].pause()
    const [outbound] = streamsOf(a, b, P, 'outbound')
    for (let i = 0; i < 8; i++) {
      atA.channel.send(b.peerId, new Uint8Array(1024 * 1024)).catch(() => {})
    }
    await until(() => outbound.writeBufferLength > 0, 5_000, 'a\'s writes backed up')

    const started = Date.now()
    const outcome = await Promise.race([atA.channel.close().then(() => 'closed'), sleep(5_000).then(() => 'still pending')])
    const elapsed = Date.now() - started
    assert.equal(outcome, 'closed')
    assert.ok(elapsed >= NOTIFICATION_CLOSE_TIMEOUT_MS - 50 && elapsed < NOTIFICATION_CLOSE_TIMEOUT_MS + 1_500, `closed after ${elapsed} ms`)
    assert.notEqual(outbound.status, 'open')
    assert.ok(a.session(b.peerId) != null, 'the session stays')
  })

  it('close() while the first send is opening the stream: the send rejects and the new stream is reset', async () => {
    const { a, b } = await sessionPair(net)
    const P = protocol()
    const atA = await recorder(a, P)
    const atB = await recorder(b, P)
    // send() is opening the stream when close() runs, in the same tick
    const sent = atA.channel.send(b.peerId, text('during close'))
    const closing = atA.channel.close()
    const err = await rejection(sent)
    assert.equal(err.name, 'NotStartedError')
    await closing
    await until(() => streamsOf(a, b, P).length === 0 && streamsOf(b, a, P).length === 0, 5_000, 'no streams of the protocol left')
    await sleep(100)
    assert.deepEqual(atB.got, [])
  })

  it('streams end with the session, and send then rejects with NoSessionError', async () => {
    const { a, b } = await sessionPair(net)
    const P = protocol()
    const atA = await recorder(a, P)
    const atB = await recorder(b, P)
    await atA.channel.send(b.peerId, text('a→b'))
    await atB.channel.send(a.peerId, text('b→a'))
    await until(() => atA.got.length === 1 && atB.got.length === 1, 5_000, 'both messages')
    const streams = [...streamsOf(a, b, P), ...streamsOf(b, a, P)]
    assert.equal(streams.length, 4)

    const closedAtB = nextEvent(b, 'session:close')
    await a.disconnect(b.peerId)
    await closedAtB
    await until(() => streams.every(s => s.status !== 'open'), 5_000, 'every stream of the protocol ended')

    const err = await rejection(atA.channel.send(b.peerId, text('after')))
    assert.equal(err.name, NoSessionError.name)
    const stranger = await net.node()
    assert.equal((await rejection(atA.channel.send(stranger.peerId, text('x')))).name, NoSessionError.name)

    // a new session gets a new stream
    await a.connect(b.getMultiaddrs()[0])
    await until(() => b.session(a.peerId) != null, 5_000, 'new session at b')
    await atA.channel.send(b.peerId, text('new session'))
    await until(() => atB.got.length === 2, 5_000, 'message over the new session')
    assert.equal(streamsOf(a, b, P, 'outbound').length, 1)
  })

  it('libp2p refuses a peer\'s inbound streams beyond MAX_INBOUND_NOTIFICATION_STREAMS', async () => {
    const { a, b } = await sessionPair(net)
    const P = protocol()
    const atB = await recorder(b, P)
    const streams: Stream[] = []
    for (let i = 1; i <= MAX_INBOUND_NOTIFICATION_STREAMS; i++) {
      const stream = await a.openStream(b.peerId, P)
      await writeMessage(stream, text(`s${i}`), { maxMessageBytes: 100 })
      await until(() => atB.got.length === i, 5_000, `message on stream ${i}`)
      streams.push(stream)
    }
    const extra = await a.openStream(b.peerId, P)
    await writeMessage(extra, text('extra'), { maxMessageBytes: 100 }).catch(() => {})
    await until(() => extra.status !== 'open', 3_000, 'the extra stream reset by b')
    await sleep(100)
    assert.deepEqual(atB.got, Array.from({ length: MAX_INBOUND_NOTIFICATION_STREAMS }, (_, i) => `s${i + 1}`))
    assert.ok(streams.every(stream => stream.status === 'open'), 'the streams within the limit stay')
    assert.equal(streamsOf(b, a, P, 'inbound').length, MAX_INBOUND_NOTIFICATION_STREAMS)
  })

})
