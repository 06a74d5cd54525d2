/**
 * What `message` holds (README, "What `message` holds"): in session:reject
 * this node's own text, which the rejected peer quotes after "remote rejected
 * with"; in session:close after a Goodbye the peer's detail verbatim (cut to
 * 256 bytes), and on the ending side the detail it was given.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { ReasonCode } from '../../src/index.js'
import { closeRecord, rejectRecord } from '../../src/api/reject-log.js'
import { TestNetwork, nextEvent, until } from '../utils/nodes.js'
import type { SessionCloseDetail, SessionRejectDetail } from '../../src/index.js'

const net = new TestNetwork()
after(async () => { await net.cleanup() })

describe('message', () => {
  it('session:reject: the rejecting node\'s own text, sent as the detail; the rejected node\'s own text quotes it', async () => {
    const a = await net.node()
    const b = await net.node({ chain: { chainId: 'other-chain' } })
    const atA = nextEvent<SessionRejectDetail>(a, 'session:reject', d => d.peerId.equals(b.peerId))
    const atB = nextEvent<SessionRejectDetail>(b, 'session:reject', d => d.peerId.equals(a.peerId))
    await assert.rejects(a.connect(b.getMultiaddrs()[0]))
    const [rejected, rejecting] = await Promise.all([atA, atB])
    assert.deepEqual([rejecting.reason, rejecting.side], [ReasonCode.WRONG_CHAIN, 'local'])
    assert.deepEqual([rejected.reason, rejected.side], [ReasonCode.WRONG_CHAIN, 'remote'])
    assert.ok(rejecting.message.length > 0 && !rejecting.message.startsWith('remote'), rejecting.message)
    assert.equal(rejected.message, `remote rejected with WRONG_CHAIN: ${rejecting.message}`)
    // /rejects carries the event's message unchanged
    assert.equal(rejectRecord(rejected, 0).message, rejected.message)
    assert.equal(rejectRecord(rejecting, 0).message, rejecting.message)
  })

  it('session:close: the peer\'s Goodbye detail verbatim, cut to 256 bytes; the ending side\'s the detail it was given; none without one', async () => {
    const b = await net.node()
    const cases: Array<[string, string | undefined, string | undefined]> = [
      ['a short note', 'your blocks do not verify', 'your blocks do not verify'],
      ['a note of 260 bytes (130 × é)', 'é'.repeat(130), 'é'.repeat(128)],
      ['no note', undefined, undefined]
    ]
    for (const [name, detail, heard] of cases) {
      const a = await net.node()
      await a.connect(b.getMultiaddrs()[0])
      await until(() => b.session(a.peerId) != null, 5_000, 'session at b')
      const atA = nextEvent<SessionCloseDetail>(a, 'session:close', d => d.session.peerId.equals(b.peerId))
      const atB = nextEvent<SessionCloseDetail>(b, 'session:close', d => d.session.peerId.equals(a.peerId))
      await a.disconnect(b.peerId, ReasonCode.APPLICATION_REJECTED, { appCode: 3, detail })
      const [local, remote] = await Promise.all([atA, atB])
      assert.deepEqual([local.side, local.message], ['local', detail], name)
      assert.deepEqual([remote.side, remote.reason, remote.appCode, remote.message], ['remote', ReasonCode.APPLICATION_REJECTED, 3, heard], name)
      assert.equal(closeRecord(remote, 0).message, heard, `${name}: /rejects`)
    }
  })
})
