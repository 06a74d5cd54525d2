import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { LONG_BACKOFF_MS } from '../../src/addressbook/constants.js'
import { ReasonCode } from '../../src/index.js'
import { TestNetwork, nextEvent } from '../utils/nodes.js'
import type { DialEndDetail } from '../../src/dial/index.js'
import type { PeerNode, SessionRejectDetail } from '../../src/index.js'
import type { PeerId } from '@libp2p/interface'

const net = new TestNetwork()
after(async () => { await net.cleanup() })

/** every `session:reject` and `session:open` a node sees, and every dial its loop ends */
function record (node: PeerNode): { rejects: SessionRejectDetail[], opens: number, dials: DialEndDetail[] } {
  const seen = { rejects: [] as SessionRejectDetail[], opens: 0, dials: [] as DialEndDetail[] }
  node.libp2p.services.sessions.addEventListener('session:reject', evt => { seen.rejects.push(evt.detail) })
  node.libp2p.services.sessions.addEventListener('session:open', () => { seen.opens++ })
  node.libp2p.services.dial.addEventListener('dial:end', evt => { seen.dials.push(evt.detail) })
  return seen
}

describe('a DHT-only node (maxPeers 0)', () => {
  it('serves the DHT through which two nodes find each other, holds no session, dials nobody, and refuses a dialer with INBOUND_DISABLED once', { timeout: 30_000 }, async () => {
    // its own dial loop runs (every 100 ms), as it would in production
    const boot = await net.node({ limits: { maxPeers: 0 }, dial: { tickMs: 100 }, discovery: { intervalBelowTargetMs: 200, intervalAtTargetMs: 200 } })
    const atBoot = record(boot)
    assert.deepEqual(boot.status().sessions, { outbound: 0, inbound: 0, reserved: 0, targetOutbound: 0, maxInbound: 0, maxInboundPerIp: 4, ipLimitExempt: ['127.0.0.0/8'] })

    // two nodes that know only the DHT-only node; their loops are driven by hand
    const bootAddr = boot.getMultiaddrs()[0]
    const a = await net.node({ bootstrap: [bootAddr], limits: { maxPeers: 3 }, discovery: { intervalBelowTargetMs: 200 } })
    const c = await net.node({ bootstrap: [bootAddr], limits: { maxPeers: 3 }, discovery: { intervalBelowTargetMs: 200 } })
    const atA = record(a)

    // a's first tick dials its one contact, the DHT-only node: refused on the wire
    const refused = nextEvent<DialEndDetail>(a.libp2p.services.dial, 'dial:end', d => d.peerId.equals(boot.peerId))
    await a.libp2p.services.dial.tick()
    assert.equal((await refused).reason, ReasonCode.INBOUND_DISABLED)
    const reject = atA.rejects.find(r => r.peerId.equals(boot.peerId))
    assert.equal(reject?.reason, ReasonCode.INBOUND_DISABLED)
    assert.equal(reject?.side, 'remote', 'the reason came from the DHT-only node, on the wire')
    assert.match(reject?.message ?? '', /this node holds no sessions \(DHT only\)/)
    // ... and a's book leaves it alone for the long wait
    const backoff = a.backoffs().find(contact => contact.peerId.equals(boot.peerId))
    assert.equal(backoff?.backoffReason, ReasonCode.INBOUND_DISABLED)
    assert.ok((backoff?.nextAttempt ?? 0) >= Date.now() + LONG_BACKOFF_MS - 60_000, `next attempt in ${((backoff?.nextAttempt ?? 0) - Date.now()) / 1000} s`)

    // a and c find each other through the DHT-only node's DHT and make a session
    const deadline = Date.now() + 20_000
    while (sessionBetween(a, c.peerId) == null) {
      assert.ok(Date.now() < deadline, `no session between a and c: a knows ${a.contacts().map(x => `${x.peerId.toString().slice(-6)}/${x.source}`).join(', ')}`)
      await a.libp2p.services.dial.tick()
      await c.libp2p.services.dial.tick()
      await new Promise(resolve => setTimeout(resolve, 100))
    }
    const learnt = a.contacts().find(contact => contact.peerId.equals(c.peerId)) ?? c.contacts().find(contact => contact.peerId.equals(a.peerId))
    assert.ok(learnt != null && learnt.source !== 'bootstrap')

    // the DHT-only node never held a session nor dialed anyone for one, and
    // heard each dialer once, however many ticks the dialers ran
    assert.equal(atBoot.opens, 0)
    assert.equal(boot.sessions().length, 0)
    assert.deepEqual(atBoot.dials, [])
    assert.equal(boot.status().dialing, 0)
    const fromA = atBoot.rejects.filter(r => r.peerId.equals(a.peerId))
    assert.equal(fromA.length, 1, `a dialed the DHT-only node ${fromA.length} times`)
    assert.deepEqual(atBoot.rejects.map(r => [r.reason, r.side, r.direction]).filter(([reason]) => reason !== ReasonCode.INBOUND_DISABLED), [])
    assert.ok(atBoot.rejects.every(r => r.side === 'local' && r.direction === 'inbound'))
    assert.equal(atA.dials.filter(d => d.peerId.equals(boot.peerId)).length, 1)
  })

  it('is refused with reserved peers, which need sessions', async () => {
    const other = await net.node()
    await assert.rejects(net.node({ limits: { maxPeers: 0 }, reserved: [other.getMultiaddrs()[0]] }),
      (err: Error) => err.name === 'InvalidParametersError' && /reserved peers need sessions/.test(err.message))
  })

  it('refuses a reserved peer added at runtime, and leaves alone the ones a data dir stored when it held sessions', async () => {
    const other = await net.node()
    const dataDir = await net.dir()
    const before = await net.node({ dataDir })
    await before.addReserved(other.getMultiaddrs()[0])
    await before.stop()
    const boot = await net.node({ dataDir, limits: { maxPeers: 0 } })
    assert.deepEqual(boot.reserved(), [], 'the stored reserved peer is not taken up')
    await assert.rejects(boot.addReserved(other.getMultiaddrs()[0]),
      (err: Error) => err.name === 'InvalidParametersError' && /reserved peers need sessions/.test(err.message))
    await boot.stop()
    const after = await net.node({ dataDir })
    assert.deepEqual(after.reserved().map(peer => peer.peerId.toString()), [other.peerId.toString()], 'still stored for a node with sessions')
  })
})

function sessionBetween (node: PeerNode, peer: PeerId): unknown {
  return node.session(peer)
}
