/**
 * peergate's keep-alive (src/node/keep-alive.ts), in place of libp2p's
 * connection monitor: a round trip per connection per interval by yamux's
 * ping frame, no stream, and a connection whose peer stops answering is
 * aborted within the interval plus the deadline. Real libp2p nodes on
 * 127.0.0.1, the keep-alive on a short interval so that rounds come quickly;
 * the frozen peer is a real `peergate start` process under SIGSTOP.
 * (createPeerNode's wiring is in test/dial/peer-loss.test.ts: a frozen peer's
 * session ends within PEER_LOSS_BOUND_MS.)
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { keepAlive, roundTrip } from '../../src/node/keep-alive.js'
import { pingService } from '../../src/node/ping-service.js'
import { TestNetwork, nextEvent, until } from '../utils/nodes.js'
import { freePort, startCli, type CliNode } from '../utils/processes.js'
import type { Connection, Libp2p } from '@libp2p/interface'
import type { Ping } from '@libp2p/ping'

const INTERVAL_MS = 200
const MIN_TIMEOUT_MS = 500
/** timers on a loaded test machine run late */
const SLACK_MS = 3_000

const net = new TestNetwork()
const nodes: Libp2p[] = []
const processes: CliNode[] = []
after(async () => {
  for (const peer of processes) {
    peer.child.kill('SIGCONT')
    peer.child.kill('SIGKILL')
  }
  await Promise.all(nodes.map(async node => { await node.stop() }))
  await net.cleanup()
})

/** A libp2p node whose only connection monitor is the keep-alive, every INTERVAL_MS; it answers pings as peergate does */
async function monitored (): Promise<Libp2p<{ ping: Ping }>> {
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux({ enableKeepAlive: false })],
    connectionManager: { inboundConnectionThreshold: Infinity },
    connectionMonitor: { enabled: false },
    services: {
      ping: pingService(),
      keepAlive: keepAlive({ interval: INTERVAL_MS, timeout: { minTimeout: MIN_TIMEOUT_MS, maxTimeout: 2 * MIN_TIMEOUT_MS } })
    }
  })
  nodes.push(node)
  return node
}

/** Counts the streams opened on `connection` from now on */
function countStreams (connection: Connection): () => number {
  let opened = 0
  const newStream = connection.newStream
  connection.newStream = async (...args) => {
    opened++
    return newStream(...args)
  }
  return () => opened
}

describe('keep-alive', () => {
  it('measures a round trip on every connection each interval by a ping frame, without a stream', async () => {
    const a = await monitored()
    const b = await monitored()
    const connection = await a.dial(b.getMultiaddrs()[0])
    const streams = countStreams(connection)
    const theirs = await until(() => b.getConnections().length === 1, 5_000, 'b to have the connection').then(() => b.getConnections()[0])
    const theirStreams = countStreams(theirs)
    await until(() => connection.rtt != null && theirs.rtt != null, 5 * INTERVAL_MS + SLACK_MS, 'both ends to measure a round trip')
    // five more rounds on each end
    await new Promise(resolve => setTimeout(resolve, 5 * INTERVAL_MS))
    assert.equal(streams(), 0, 'a opened no stream')
    assert.equal(theirStreams(), 0, 'b opened no stream')
    assert.equal(connection.streams.length + theirs.streams.length, 0, 'no stream on the connection')
    assert.equal(connection.status, 'open')
    assert.ok(connection.rtt! >= 0 && connection.rtt! < MIN_TIMEOUT_MS, `rtt ${connection.rtt} ms`)
  })

  it('a caller that gives up waiting does not cost the connection when the answer comes after all', async () => {
    const a = await monitored()
    const b = await monitored()
    const connection = await a.dial(b.getMultiaddrs()[0])
    // given up before the answer can come back
    await assert.rejects(roundTrip(connection, { signal: AbortSignal.abort() }))
    // the late answer comes back before the next one (the frames arrive in
    // order on the connection), and the next round trip works on the same connection
    assert.ok(await roundTrip(connection, { signal: AbortSignal.timeout(5_000) }) >= 0)
    assert.equal(connection.status, 'open')
  })

  it('falls back to a ping stream where the connection shows no muxer ping', async () => {
    const a = await monitored()
    const b = await monitored()
    const connection = await a.dial(b.getMultiaddrs()[0])
    const streams = countStreams(connection)
    // the connection as another libp2p version might keep it: no `muxer` field
    const hidden = Object.create(connection, { muxer: { value: undefined } }) as Connection
    const rtt = await roundTrip(hidden, { signal: AbortSignal.timeout(5_000) })
    assert.ok(rtt >= 0)
    assert.equal(streams(), 1, 'one ping stream')
    assert.equal(connection.status, 'open')
  })

  it('aborts a connection whose peer stops answering (SIGSTOP) within the interval plus the deadline', async (t) => {
    const port = await freePort()
    const peer = await startCli(['--data-dir', await net.dir(), '--listen', `/ip4/127.0.0.1/tcp/${port}`, '--chain-id', 'test-chain', '--no-api', '--max-outbound', '0'])
    processes.push(peer)
    const a = await monitored()
    const connection = await a.dial(multiaddr(`/ip4/127.0.0.1/tcp/${port}/p2p/${String(peer.ready.peerId)}`))
    await until(() => connection.rtt != null, 5 * INTERVAL_MS + SLACK_MS, 'a first round trip')
    const closed = nextEvent<Connection>(a, 'connection:close', (c) => c.id === connection.id, INTERVAL_MS + 2 * MIN_TIMEOUT_MS + SLACK_MS)
    const frozenAt = Date.now()
    peer.child.kill('SIGSTOP')
    try {
      await closed
      const elapsed = Date.now() - frozenAt
      // the interval, then the deadline (at most twice the minimum here)
      assert.ok(elapsed <= INTERVAL_MS + 2 * MIN_TIMEOUT_MS + SLACK_MS, `aborted ${elapsed} ms after the freeze`)
      t.diagnostic(`aborted ${elapsed} ms after the freeze`)
    } finally {
      peer.child.kill('SIGCONT')
    }
  })
})
