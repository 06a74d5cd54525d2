/**
 * The reports peergate's protocols make to the peer score, on real nodes: a
 * frame over its limit or a malformed Status is reported, a stream that
 * merely ends early is not
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { PeerAction, writeMessage } from '../../src/index.js'
import { encodeFrame } from '../../src/wire/index.js'
import { STATUS_PROTOCOL } from '../../src/status/index.js'
import { TestNetwork, until } from '../utils/nodes.js'
import { drain, recorder, sessionPair, text } from '../utils/protocols.js'
import type { PeerNode } from '../../src/index.js'

const net = new TestNetwork()
after(async () => { await net.cleanup() })

let n = 0
const protocol = (): string => `/test-chain/report-${++n}/1.0.0`

/** the reasons of the reports `node` holds about `peer` */
function reasons (node: PeerNode, peer: PeerNode): string[] {
  return node.peerScore(peer.peerId)?.events.map(event => `${event.reason} ${event.action}`) ?? []
}

describe('protocol violations reach the peer score', async () => {
  const { a, b } = await sessionPair(net)

  it('a request over maxRequestBytes: INVALID_REQUEST, and protocol:malformed-request (LOW_TOLERANCE); a stream that ends before its request: no report', async () => {
    const P = protocol()
    await b.handleRequests(P, () => text('ok'), { maxRequestBytes: 16 })
    const early = await a.openStream(b.peerId, P)
    await early.close()
    assert.equal((await drain(early)).bytes[0], 0x01, 'INVALID_REQUEST')
    assert.deepEqual(reasons(b, a), [])

    const stream = await a.openStream(b.peerId, P)
    await writeMessage(stream, new Uint8Array(100), { maxMessageBytes: 1000 })
    await stream.close()
    assert.equal((await drain(stream)).bytes[0], 0x01, 'INVALID_REQUEST')
    await until(() => reasons(b, a).length === 1, 5_000, 'the report')
    assert.deepEqual(reasons(b, a), [`protocol:malformed-request ${PeerAction.LOW_TOLERANCE}`])
    assert.ok(Math.abs((b.peerScore(a.peerId)?.score ?? 0) - -10) < 0.01)
  })

  it('a notification over maxMessageBytes: protocol:malformed-notification', async () => {
    const P = protocol()
    const atA = await recorder(a, P, { maxMessageBytes: 1000 })
    await recorder(b, P, { maxMessageBytes: 100 })
    const before = reasons(b, a).length
    await atA.channel.send(b.peerId, new Uint8Array(500))
    await until(() => reasons(b, a).length === before + 1, 5_000, 'the report')
    assert.equal(reasons(b, a).at(-1), `protocol:malformed-notification ${PeerAction.LOW_TOLERANCE}`)
    // two LOW reports, some decay between them
    assert.ok((b.peerScore(a.peerId)?.score ?? 0) < -19.9)
  })

  it('a malformed Status request: status:malformed', async () => {
    const { a, b } = await sessionPair(net)
    const stream = await a.openStream(b.peerId, STATUS_PROTOCOL)
    // field 1 with wire type 7: no protobuf
    stream.send(encodeFrame(Uint8Array.of(0x0f, 0x01)))
    await stream.close()
    await drain(stream)
    await until(() => reasons(b, a).length === 1, 5_000, 'the report')
    assert.deepEqual(reasons(b, a), [`status:malformed ${PeerAction.LOW_TOLERANCE}`])
  })
})
