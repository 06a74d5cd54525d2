/**
 * peergate's ping service (src/node/ping-service.ts): libp2p's ping, whose
 * responder lets go of each stream it answered. @libp2p/ping's responder
 * leaves an `AbortSignal.timeout` with a listener holding the stream behind
 * every ping until the timeout fires, and Node keeps that signal, and with
 * it the closed stream, alive until then: about one stream per session, as
 * the peers' connection monitors ping every 10 s (issue 22, memory per
 * session). Real libp2p nodes on 127.0.0.1, each responder with a timeout no
 * other timer in this process has, so that its timers can be told apart.
 */
import assert from 'node:assert/strict'
import { createHook } from 'node:async_hooks'
import { after, describe, it } from 'node:test'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { pingService } from '../../src/node/ping-service.js'
import { until } from '../utils/nodes.js'
import type { Ping } from '@libp2p/ping'
import type { Libp2p } from '@libp2p/interface'

const nodes: Libp2p[] = []
after(async () => { await Promise.all(nodes.map(async node => { await node.stop() })) })

async function pingNode (timeout?: number): Promise<Libp2p<{ ping: Ping }>> {
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: { inboundConnectionThreshold: Infinity },
    // the test's own pings only
    connectionMonitor: { enabled: false },
    services: { ping: pingService({ timeout }) }
  })
  nodes.push(node)
  return node
}

/** Counts the timers of `ms` milliseconds set from now on, and keeps those that have neither fired nor been cleared */
function pendingTimers (ms: number): { pending: Set<number>, created(): number, stop(): void } {
  const pending = new Set<number>()
  let created = 0
  const hook = createHook({
    init (id, type, _trigger, resource: any) {
      if (type === 'Timeout' && resource?._idleTimeout === ms) {
        pending.add(id)
        created++
      }
    },
    destroy (id) {
      pending.delete(id)
    }
  })
  hook.enable()
  return { pending, created: () => created, stop: () => { hook.disable() } }
}

describe('ping service', () => {
  it('answers a ping, and keeps nothing of it once the stream is done', async () => {
    // a timeout no other timer here has
    const timeoutMs = 7_777
    const responder = await pingNode(timeoutMs)
    const initiator = await pingNode()
    const timers = pendingTimers(timeoutMs)
    try {
      for (let i = 0; i < 3; i++) {
        const rtt = await initiator.services.ping.ping(responder.getMultiaddrs()[0])
        assert.ok(rtt >= 0)
      }
      // the responder did set a deadline per ping: the check below sees its timers
      assert.equal(timers.created(), 3)
      // @libp2p/ping's responder leaves each ping's timer (and with it the
      // stream) until the timeout, 7.8 s from now
      await until(() => timers.pending.size === 0, 2_000, 'the responder to clear its ping timers')
      await until(() => responder.getConnections().every(c => c.streams.length === 0), 2_000, 'the ping streams to close')
    } finally {
      timers.stop()
    }
  })

  it('pings a peer it has a connection to by a frame of that connection\'s muxer, with no stream', async () => {
    const responder = await pingNode()
    const initiator = await pingNode()
    await initiator.dial(responder.getMultiaddrs()[0])
    // a ping stream would now be refused (UnsupportedProtocolError); yamux answers its ping frame itself
    await responder.unhandle('/ipfs/ping/1.0.0')
    const rtt = await initiator.services.ping.ping(responder.peerId)
    assert.ok(rtt >= 0)
    assert.deepEqual(initiator.getConnections(responder.peerId).flatMap(c => c.streams.map(s => s.protocol)), [])
  })

  it('dials a peer it has no connection to and pings it over a stream of the ping protocol', async () => {
    const timeoutMs = 7_778
    const responder = await pingNode(timeoutMs)
    const initiator = await pingNode()
    await initiator.peerStore.merge(responder.peerId, { multiaddrs: responder.getMultiaddrs() })
    const timers = pendingTimers(timeoutMs)
    try {
      assert.ok(await initiator.services.ping.ping(responder.peerId) >= 0)
      // the responder's handler ran: it set its deadline
      assert.equal(timers.created(), 1)
    } finally {
      timers.stop()
    }
  })

  it('aborts a ping stream that stays open past the timeout', async () => {
    const responder = await pingNode(300)
    const initiator = await pingNode()
    const stream = await initiator.dialProtocol(responder.getMultiaddrs()[0], '/ipfs/ping/1.0.0')
    const closed = new Promise<void>(resolve => { stream.addEventListener('close', () => { resolve() }, { once: true }) })
    const start = Date.now()
    await closed
    assert.ok(Date.now() - start >= 250, 'closed before the timeout')
    // the responder reset it: it did not close it as after an echo
    assert.equal(stream.status, 'reset')
  })
})
