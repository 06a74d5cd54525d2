/**
 * The ping at session open (src/node/session-ping.ts) fills each side's RTT
 * without landing on the handshake's path: the initiator pings as soon as its
 * session opens, the responder (whose session opens before the handshake's
 * last message reaches the initiator) only SESSION_PING_RESPONDER_DELAY_MS
 * later. Real nodes on 127.0.0.1.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { SESSION_PING_RESPONDER_DELAY_MS } from '../../src/node/constants.js'
import { TestNetwork, nextEvent, until } from '../utils/nodes.js'

const net = new TestNetwork()
after(async () => { await net.cleanup() })

describe('ping at session open', () => {
  it('the initiator measures the RTT at once, the responder only after its delay', async () => {
    const responder = await net.node()
    const initiator = await net.node()
    // the responder's delay runs from its session:open, which comes before the
    // initiator's connect resolves (by a lot on a loaded machine): timed there
    let start = 0
    responder.addEventListener('session:open', () => { start = Date.now() }, { once: true })
    const opened = nextEvent(responder, 'session:open')
    await initiator.connect(responder.getMultiaddrs()[0])
    await opened
    const rtt = (node: typeof responder, peer: typeof initiator): number | undefined =>
      node.libp2p.getConnections(peer.peerId).find(c => c.rtt != null)?.rtt
    await until(() => rtt(initiator, responder) != null, 2_000, 'the initiator\'s RTT')
    // the responder has not pinged yet: its ping would have crossed the initiator's last handshake step
    assert.equal(rtt(responder, initiator), undefined, 'the responder pinged before its delay')
    assert.ok(Date.now() - start < SESSION_PING_RESPONDER_DELAY_MS, 'the initiator took longer than the responder\'s delay: the check above says nothing')
    await until(() => rtt(responder, initiator) != null, SESSION_PING_RESPONDER_DELAY_MS + 3_000, 'the responder\'s RTT')
    assert.ok(Date.now() - start >= SESSION_PING_RESPONDER_DELAY_MS - 50)
  })
})
