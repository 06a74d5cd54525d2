import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp, type TCPSocketOptions } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { HandshakeStage, ReasonCode } from '../../src/index.js'
import { TestNetwork, nextEvent, until } from '../utils/nodes.js'
import { openHandshake } from '../utils/rogue.js'
import type { PeerNode, SessionRejectDetail } from '../../src/index.js'
import type { Libp2p } from '@libp2p/interface'

const net = new TestNetwork()
const raw: Libp2p[] = []
after(async () => {
  await Promise.allSettled(raw.map(async n => n.stop()))
  await net.cleanup()
})

/** A plain libp2p node whose connections come from `ip` (any address of 127.0.0.0/8 is loopback) */
async function plainFrom (ip: string): Promise<Libp2p> {
  const node = await createLibp2p({
    transports: [tcp({ dialOpts: { localAddress: ip } as TCPSocketOptions })],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()]
  })
  raw.push(node)
  return node
}

/** What the remote's reject said, read from a raw handshake stream that never sent anything */
async function rejectOf (channel: Awaited<ReturnType<typeof openHandshake>>['channel']): Promise<{ reason: ReasonCode, message: string }> {
  try {
    await channel.read(HandshakeStage.AwaitResponderHello, {})
  } catch (err: any) {
    return { reason: err.reason, message: err.message }
  }
  throw new Error('expected a reject')
}

describe('inbound handshakes in flight', () => {
  it('a peer that sends no hello is dropped at the first-message deadline, well before the handshake deadline', async () => {
    const node = await net.node({ handshake: { firstMessageTimeout: 300, timeout: 10_000 } })
    const stalled = await plainFrom('127.0.0.1')
    const started = Date.now()
    const { channel } = await openHandshake(stalled, node.getMultiaddrs()[0])
    const reject = await rejectOf(channel)
    const elapsed = Date.now() - started
    assert.equal(reject.reason, ReasonCode.TIMEOUT)
    assert.match(reject.message, /no hello within 300 ms/)
    assert.ok(elapsed >= 250 && elapsed < 3_000, `dropped after ${elapsed} ms`)
    await until(() => node.libp2p.services.handshake.inboundInFlight() === 0, 5_000, 'no handshake in flight')
  })

  it('a newcomer from a full IP takes the place of its oldest stalled handshake', async () => {
    const node = await net.node({ handshake: { maxInboundHandshakesPerIp: 2 } })
    const ip = '127.0.0.21'
    const first = await openHandshake(await plainFrom(ip), node.getMultiaddrs()[0])
    await openHandshake(await plainFrom(ip), node.getMultiaddrs()[0])
    await until(() => node.libp2p.services.handshake.inboundInFlight() === 2, 5_000, 'two handshakes in flight')
    await openHandshake(await plainFrom(ip), node.getMultiaddrs()[0])
    const shed = await rejectOf(first.channel)
    assert.equal(shed.reason, ReasonCode.TIMEOUT)
    assert.match(shed.message, /its place was needed/)
    assert.equal(node.libp2p.services.handshake.inboundInFlight(), 2)

    // another IP is not affected by this one's share
    const other = await openHandshake(await plainFrom('127.0.0.22'), node.getMultiaddrs()[0])
    await until(() => node.libp2p.services.handshake.inboundInFlight() === 3, 5_000, 'a handshake from another IP')
    other.stream.abort(new Error('done'))
  })

  it('handshakes hold no session slot: concurrent newcomers to a full node get TOO_MANY_PEERS once the slots are taken, at admission or at commit', async () => {
    const small = await net.node({ limits: { maxInboundSessions: 1, inboundBurst: 0 } })
    const initiators: PeerNode[] = []
    for (let i = 0; i < 3; i++) {
      initiators.push(await net.node())
    }
    const rejects: SessionRejectDetail[] = []
    small.addEventListener('session:reject', (evt) => { rejects.push(evt.detail) })
    const outcomes = await Promise.allSettled(initiators.map(async n => n.connect(small.getMultiaddrs()[0])))
    assert.equal(outcomes.filter(o => o.status === 'fulfilled').length, 1)
    for (const o of outcomes) {
      if (o.status === 'rejected') {
        assert.equal(o.reason.reason, ReasonCode.TOO_MANY_PEERS, o.reason.message)
      }
    }
    assert.equal(small.sessions().length, 1)
    await until(() => rejects.length === 2, 5_000, 'two rejects at the full node')
    assert.ok(rejects.every(r => r.reason === ReasonCode.TOO_MANY_PEERS && r.side === 'local'))
    // a late peer is still refused, and hears why
    const late = await net.node()
    const atLate = nextEvent<SessionRejectDetail>(late, 'session:reject')
    await assert.rejects(late.connect(small.getMultiaddrs()[0]), (err: any) => err.reason === ReasonCode.TOO_MANY_PEERS)
    assert.equal((await atLate).side, 'remote')
  })
})
