import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { PeerAction, RemoteResultError, ResultCode, STATUS_PROTOCOL, createNodeMetrics } from '../../src/index.js'
import { TestNetwork, until } from '../utils/nodes.js'
import { rejection, recorder, str, text } from '../utils/protocols.js'
import type { PeerNode, PeerReportDetail } from '../../src/index.js'

const net = new TestNetwork()
after(async () => { await net.cleanup() })

let n = 0
/** a fresh protocol id per test, so handlers never mix */
const protocol = (): string => `/test-chain/limited-${++n}/1.0.0`

/** the `peer:report`s `node` announces from now on */
function reportsOf (node: PeerNode): PeerReportDetail[] {
  const seen: PeerReportDetail[] = []
  node.addEventListener('peer:report', (evt) => { seen.push(evt.detail) })
  return seen
}

/** what each of `requests` came to, in order: the payload's text, or the result code it was refused with */
async function outcomes (node: PeerNode, to: PeerNode, P: string, requests: Uint8Array[]): Promise<string[]> {
  const seen: string[] = []
  for (const data of requests) {
    try {
      seen.push(str((await node.request(to.peerId, P, data)).payload))
    } catch (err: any) {
      assert.equal(err.name, RemoteResultError.name, `a result code, not ${err.name}: ${err.message}`)
      seen.push(err.code)
    }
  }
  return seen
}

/*
 * Rate limits per peer and protocol between real nodes (src/ratelimit/): a
 * session peer over a protocol's limit is refused and reported, one within
 * it is served, and another peer is not affected.
 */
describe('rate limits per peer and protocol', async () => {
  // b serves; a goes over its limits; c is another session peer of b
  const b = await net.node({ handshake: { statusRateLimit: { limit: 2, periodMs: 60_000 } } })
  const a = await net.node()
  const c = await net.node()
  await a.connect(b.getMultiaddrs()[0])
  await c.connect(b.getMultiaddrs()[0])
  await until(() => b.session(a.peerId) != null && b.session(c.peerId) != null, 5_000, 'sessions at b')
  const metrics = createNodeMetrics(b)
  after(() => { metrics.stop() })

  it('request/response: a peer over the limit gets RESOURCE_UNAVAILABLE for every request over it without the handler running, is reported each time and counted; another peer is served', async () => {
    const P = protocol()
    let handled = 0
    await b.handleRequests(P, () => { handled++; return text('ok') }, { rateLimit: { limit: 5, periodMs: 60_000 } })
    const reports = reportsOf(b)

    assert.deepEqual(await outcomes(a, b, P, Array.from({ length: 8 }, () => text('x'))), ['ok', 'ok', 'ok', 'ok', 'ok', ResultCode.RESOURCE_UNAVAILABLE, ResultCode.RESOURCE_UNAVAILABLE, ResultCode.RESOURCE_UNAVAILABLE])
    assert.equal(handled, 5, 'the handler never ran for a refused request')
    const err = await rejection(a.request(b.peerId, P, text('x')))
    assert.match(err.remoteMessage, /^rate limited: over 5 per 60 s$/)
    assert.equal(reports.length, 4)
    for (const report of reports) {
      assert.ok(report.peerId.equals(a.peerId))
      assert.equal(report.action, PeerAction.LOW_TOLERANCE)
      assert.equal(report.reason, `rate-limit:${P}`)
    }

    assert.deepEqual(await outcomes(c, b, P, Array.from({ length: 5 }, () => text('x'))), ['ok', 'ok', 'ok', 'ok', 'ok'], 'another peer has its own bucket')
    assert.equal(reports.length, 4)
    assert.match(await metrics.text(), new RegExp(`peergate_rate_limited_total\\{protocol="${P}"\\} 4`))
  })

  it('request/response counted in items: a request takes what its cost says, one over the whole limit is always refused, an uncountable one is INVALID_REQUEST', async () => {
    const P = protocol()
    const served: number[] = []
    await b.handleRequests(P, (request) => { served.push(request[0]); return text(`${request[0]} blocks`) }, {
      rateLimit: {
        limit: 10,
        periodMs: 60_000,
        action: PeerAction.MID_TOLERANCE,
        cost: (request) => {
          if (request.byteLength !== 1) {
            throw new Error('a count is one byte')
          }
          return request[0]
        }
      }
    })
    const reports = reportsOf(b)
    assert.deepEqual(await outcomes(a, b, P, [Uint8Array.of(8), Uint8Array.of(3), Uint8Array.of(2), Uint8Array.of(11), new Uint8Array()]),
      ['8 blocks', ResultCode.RESOURCE_UNAVAILABLE, '2 blocks', ResultCode.RESOURCE_UNAVAILABLE, ResultCode.INVALID_REQUEST])
    assert.deepEqual(served, [8, 2])
    assert.match((await rejection(a.request(b.peerId, P, Uint8Array.of(11)))).remoteMessage, /counts 11 units, more than the limit of 10 per 60 s/)
    assert.deepEqual(reports.map(r => [r.action, r.reason]), [[PeerAction.MID_TOLERANCE, `rate-limit:${P}`], [PeerAction.MID_TOLERANCE, `rate-limit:${P}`], [PeerAction.MID_TOLERANCE, `rate-limit:${P}`]])
  })

  it('notifications: messages over the limit are dropped before onMessage and reported; another peer\'s arrive', async () => {
    const P = protocol()
    const { got, sessions } = await recorder(b, P, { rateLimit: { limit: 3, periodMs: 60_000 } })
    const reports = reportsOf(b)
    const fromA = await a.notifications(P, { onMessage: () => {} })
    const fromC = await c.notifications(P, { onMessage: () => {} })
    for (let i = 0; i < 6; i++) {
      await fromA.send(b.peerId, text(`a${i}`))
    }
    await until(() => reports.length === 3, 5_000, 'three reports')
    for (let i = 0; i < 3; i++) {
      await fromC.send(b.peerId, text(`c${i}`))
    }
    await until(() => got.length === 6, 5_000, 'c\'s messages')
    assert.deepEqual(got, ['a0', 'a1', 'a2', 'c0', 'c1', 'c2'])
    assert.ok(sessions.slice(3).every(s => s.peerId.equals(c.peerId)))
    assert.ok(reports.every(r => r.peerId.equals(a.peerId) && r.reason === `rate-limit:${P}`))
    assert.match(await metrics.text(), new RegExp(`peergate_rate_limited_total\\{protocol="${P}"\\} 3`))
  })

  it('status: a peer asking for status more often than the limit has its request reset and is reported; another peer is answered', async () => {
    const reports = reportsOf(b)
    const results: string[] = []
    // b takes 2 per minute; a's rounds are 500 ms apart (STATUS_MIN_ROUND_GAP_MS), over b's 250 ms gap
    for (let i = 0; i < 3; i++) {
      results.push(await a.refreshStatus(b.peerId).then(() => 'answered', (err: Error) => err.name))
    }
    assert.deepEqual(results.slice(0, 2), ['answered', 'answered'])
    assert.notEqual(results[2], 'answered')
    assert.deepEqual(reports.map(r => [r.peerId.toString(), r.reason]), [[a.peerId.toString(), `rate-limit:${STATUS_PROTOCOL}`]])
    assert.ok(a.session(b.peerId) != null, 'one refused round does not end the session')
    await c.refreshStatus(b.peerId)
    assert.equal(reports.length, 1)
  })
})
