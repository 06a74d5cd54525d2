import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { ReasonCode } from '../../src/index.js'
import { TestNetwork, nextEvent } from '../utils/nodes.js'
import type { Session } from '../../src/index.js'

const net = new TestNetwork()
after(async () => { await net.cleanup() })

test('backoffs lists the contacts waiting, clearBackoff clears one or all', async () => {
  const node = await net.node({ discovery: false, dial: { autoDial: false } })
  const [a, b] = await Promise.all([net.node(), net.node()])
  await node.addContact([a.getMultiaddrs()[0], b.getMultiaddrs()[0]])
  const book = node.libp2p.services.addressBook
  await book.recordOutcome(a.peerId, ReasonCode.WRONG_CHAIN)
  await book.recordOutcome(b.peerId, ReasonCode.TIMEOUT)
  assert.deepEqual(node.backoffs().map(c => [c.peerId.toString(), c.backoffReason]).sort(),
    [[a.peerId.toString(), ReasonCode.WRONG_CHAIN], [b.peerId.toString(), ReasonCode.TIMEOUT]].sort())

  const cleared = await node.clearBackoff(a.peerId)
  assert.deepEqual(cleared.map(c => c.peerId.toString()), [a.peerId.toString()])
  assert.equal(cleared[0].nextAttempt, 0)
  assert.equal(cleared[0].failures, 0)
  assert.equal(cleared[0].backoffReason, undefined)
  assert.deepEqual(node.backoffs().map(c => c.peerId.toString()), [b.peerId.toString()])

  assert.deepEqual((await node.clearBackoff()).map(c => c.peerId.toString()), [b.peerId.toString()])
  assert.deepEqual(node.backoffs(), [])
  assert.deepEqual(await node.clearBackoff(), [], 'nothing left to clear')
})

test('bans lists the bans in force', async () => {
  const node = await net.node({ discovery: false })
  const peer = await net.node()
  assert.deepEqual([...node.bans()], [])
  await node.ban(peer.peerId, 60_000)
  const bans = node.bans()
  assert.deepEqual([...bans.keys()], [peer.peerId.toString()])
  assert.ok(bans.get(peer.peerId.toString())! > Date.now())
  await node.unban(peer.peerId)
  assert.deepEqual([...node.bans()], [])
})

test('a bootstrap peer is dialed at start despite a day of stored backoff', async () => {
  const peer = await net.node()
  const dataDir = await net.dir()
  const first = await net.node({ dataDir, discovery: false, dial: { autoDial: false } })
  await first.addContact(peer.getMultiaddrs()[0])
  await first.libp2p.services.addressBook.recordOutcome(peer.peerId, ReasonCode.WRONG_CHAIN)
  assert.equal(first.backoffs().length, 1)
  await first.stop()

  const opened = nextEvent<Session>(peer, 'session:open')
  const second = await net.node({ dataDir, discovery: false, bootstrap: [peer.getMultiaddrs()[0]], dial: { tickMs: 100 } })
  const session = await opened
  assert.equal(session.did, second.did)
  assert.deepEqual(second.backoffs(), [])
})

test('a data dir keeps to its chain: createPeerNode refuses another chain id or genesis', async () => {
  const dataDir = await net.dir()
  const first = await net.node({ dataDir, chain: { chainId: 'chain-a' } })
  await first.stop()
  await assert.rejects(net.node({ dataDir, chain: { chainId: 'chain-b' } }),
    (err: Error) => err.name === 'InvalidParametersError' && /belongs to chain "chain-a" \(genesis 0x[0-9a-f]{64}\), not "chain-b"/.test(err.message))
  await assert.rejects(net.node({ dataDir, chain: { chainId: 'chain-a', genesisHash: new Uint8Array(32) } }),
    (err: Error) => err.name === 'InvalidParametersError' && /not "chain-a" \(genesis 0x0{64}\)/.test(err.message))
  const again = await net.node({ dataDir, chain: { chainId: 'chain-a' } })
  assert.equal(again.peerId.toString(), first.peerId.toString())
})
