/**
 * Goodbye (PROTOCOL.md §11.1): every way this node ends a session tells the
 * peer why before hanging up, and the peer's session:close says so.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import * as lp from 'it-length-prefixed'
import { ReasonCode } from '../../src/index.js'
import { GOODBYE_PROTOCOL } from '../../src/session/constants.js'
import { Goodbye } from '../../src/session/pb/session.js'
import { TestNetwork, nextEvent, until } from '../utils/nodes.js'
import type { PeerNode, SessionCloseDetail } from '../../src/index.js'

const net = new TestNetwork()
after(async () => { await net.cleanup() })

/** Two nodes with a session, `a` having selected `b` */
async function pair (options: Parameters<TestNetwork['node']>[0] = {}): Promise<[PeerNode, PeerNode]> {
  const a = await net.node()
  const b = await net.node(options)
  await a.connect(b.getMultiaddrs()[0])
  await until(() => b.session(a.peerId) != null, 5_000, 'session at b')
  return [a, b]
}

function closeAt (node: PeerNode, peer: PeerNode): Promise<SessionCloseDetail> {
  return nextEvent<SessionCloseDetail>(node, 'session:close', d => d.session.peerId.equals(peer.peerId))
}

describe('Goodbye', () => {
  it('a disconnect with an application code reaches the peer: reason, code and note', async () => {
    const [a, b] = await pair()
    const atA = closeAt(a, b)
    const atB = closeAt(b, a)
    await a.disconnect(b.peerId, ReasonCode.APPLICATION_REJECTED, { appCode: 9, detail: 'your blocks do not verify' })
    const [local, remote] = await Promise.all([atA, atB])
    assert.deepEqual([local.reason, local.side, local.appCode], [ReasonCode.APPLICATION_REJECTED, 'local', 9])
    assert.deepEqual([remote.reason, remote.side, remote.appCode, remote.message], [ReasonCode.APPLICATION_REJECTED, 'remote', 9, 'your blocks do not verify'])
    await until(() => a.libp2p.getConnections(b.peerId).length === 0 && b.libp2p.getConnections(a.peerId).length === 0, 5_000, 'hung up')
    // what the remote held against this node backs the contact off for the long wait
    await until(() => b.contacts().find(c => c.peerId.equals(a.peerId))?.backoffReason === ReasonCode.APPLICATION_REJECTED, 5_000, 'backoff at b')
    // and the side that refused does not dial the peer again on its next tick either
    await until(() => a.contacts().find(c => c.peerId.equals(b.peerId))?.backoffReason === ReasonCode.APPLICATION_REJECTED, 5_000, 'backoff at a')
  })

  it('a ban says BANNED to the banned peer, whose book then waits the long backoff', async () => {
    const [a, b] = await pair()
    const atA = closeAt(a, b)
    await b.ban(a.did)
    const heard = await atA
    assert.deepEqual([heard.reason, heard.side], [ReasonCode.BANNED, 'remote'])
    await until(() => a.contacts().find(c => c.peerId.equals(b.peerId))?.backoffReason === ReasonCode.BANNED, 5_000, 'backoff at a')
    const contact = a.contacts().find(c => c.peerId.equals(b.peerId))
    assert.ok((contact?.nextAttempt ?? 0) > Date.now() + 60 * 60 * 1000, 'hours, not seconds')
  })

  it('a node that stops says SHUTDOWN to every session peer; they wait only a little before dialing it again', async () => {
    const [a, b] = await pair()
    const c = await net.node()
    await c.connect(b.getMultiaddrs()[0])
    await until(() => b.sessions().length === 2, 5_000, 'two sessions at b')
    const atA = closeAt(a, b)
    const atC = closeAt(c, b)
    const started = Date.now()
    await b.stop()
    assert.ok(Date.now() - started < 3_000, 'the goodbyes are bounded')
    for (const heard of await Promise.all([atA, atC])) {
      assert.deepEqual([heard.reason, heard.side], [ReasonCode.SHUTDOWN, 'remote'])
    }
    await until(() => a.contacts().find(c => c.peerId.equals(b.peerId))?.backoffReason === 'SESSION_ENDED', 5_000, 'short wait at a')
  })

  it('a session shed over the limit hears TOO_MANY_PEERS', async () => {
    const hub = await net.node({ limits: { maxInboundSessions: 1, maxOutboundSessions: 1, inboundBurst: 1 } })
    const first = await net.node()
    const second = await net.node()
    await first.connect(hub.getMultiaddrs()[0])
    await second.connect(hub.getMultiaddrs()[0])
    await until(() => hub.sessions().length === 2, 5_000, 'burst admitted')
    const atSecond = closeAt(second, hub)
    await hub.libp2p.services.dial.tick()
    const heard = await atSecond
    assert.deepEqual([heard.reason, heard.side], [ReasonCode.TOO_MANY_PEERS, 'remote'], 'the newest is shed and told why')
    assert.ok(first.session(hub.peerId) != null)
  })

  it('an unreadable Goodbye ends the session as a closed connection; a Goodbye from a peer without a session is refused', async () => {
    const [a, b] = await pair()
    const atB = closeAt(b, a)
    const raw = await a.libp2p.dialProtocol(b.peerId, GOODBYE_PROTOCOL)
    raw.send(lp.encode.single(Uint8Array.of(0xff, 0xff, 0xff)))
    await raw.close()
    const heard = await atB
    assert.deepEqual([heard.reason, heard.side], [ReasonCode.CONNECTION_CLOSED, 'remote'])
    assert.match(heard.message ?? '', /unreadable goodbye/)

    const node = await net.node()
    const plain = await net.plain()
    const stranger = await plain.dialProtocol(node.getMultiaddrs()[0], GOODBYE_PROTOCOL)
    stranger.send(lp.encode.single(Goodbye.encode({ reason: ReasonCode.BANNED })))
    await until(() => stranger.status !== 'open', 5_000, 'stream refused')
    assert.equal(node.sessions().length, 0)
  })
})
