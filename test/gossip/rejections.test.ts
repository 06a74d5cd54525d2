import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { RejectionBook } from '../../src/gossip/rejections.js'
import { testPeerId } from '../utils/fake-view.js'
import type { PeerId } from '@libp2p/interface'

describe('the rejection book', () => {
  it('counts rejections per peer, with its DID, last topic and time', async () => {
    const [p, q] = [await testPeerId(), await testPeerId()]
    const book = new RejectionBook(10)
    const steps: Array<[PeerId, string, number, number]> = [
      // peer, topic, at, its count after
      [p, 'blocks', 1_000, 1],
      [q, 'txs', 1_500, 1],
      [p, 'txs', 2_000, 2],
      [p, 'blocks', 3_000, 3]
    ]
    for (const [peer, topic, at, count] of steps) {
      const record = book.record(peer, `did:${peer.toString()}`, topic, at)
      assert.equal(record.rejected, count)
      assert.equal(record.lastTopic, topic)
      assert.equal(record.lastRejected, at)
    }
    assert.deepEqual(book.get(p), { peerId: p, did: `did:${p.toString()}`, rejected: 3, lastRejected: 3_000, lastTopic: 'blocks' })
    assert.deepEqual(book.list().map(record => record.peerId), [p, q], 'the most recently rejected first')
  })

  it('forgets the peer rejected longest ago beyond its limit', async () => {
    const peers = await Promise.all([1, 2, 3, 4].map(async () => testPeerId()))
    const book = new RejectionBook(3)
    book.record(peers[0], 'did:0', 't', 1)
    book.record(peers[1], 'did:1', 't', 2)
    book.record(peers[2], 'did:2', 't', 3)
    book.record(peers[0], 'did:0', 't', 4)   // peers[0] is the newest again
    book.record(peers[3], 'did:3', 't', 5)   // peers[1] goes
    assert.equal(book.get(peers[1]), undefined)
    assert.deepEqual(book.list().map(record => record.peerId), [peers[3], peers[0], peers[2]])
    assert.equal(book.get(peers[0])?.rejected, 2)
  })

  it('hands out copies', async () => {
    const p = await testPeerId()
    const book = new RejectionBook(3)
    book.record(p, 'did:p', 't', 1)
    const copy = book.get(p)
    assert.ok(copy != null)
    copy.rejected = 99
    assert.equal(book.get(p)?.rejected, 1)
  })
})
