import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { ReasonCode, createPeerNode } from '../../src/index.js'
import { SESSION_TAG, SESSION_TAG_VALUE } from '../../src/session/constants.js'
import { TestNetwork, eventually, nextEvent, until } from '../utils/nodes.js'
import { newSigner } from '../utils/rogue.js'
import type { PeerNode, Session, SessionCloseDetail } from '../../src/index.js'
import type { PeerId } from '@libp2p/interface'

const net = new TestNetwork()
after(async () => { await net.cleanup() })

async function sessionTag (node: PeerNode, peer: PeerNode): Promise<number | undefined> {
  const stored = await node.libp2p.peerStore.get(peer.peerId)
  return stored.tags.get(SESSION_TAG)?.value
}

describe('sessions', () => {
  it('open both ways, with events on both sides, and are listed', async () => {
    const a = await net.node()
    const b = await net.node()
    const c = await net.node()

    const handshakeAtB = nextEvent<{ peerId: PeerId, direction: string }>(b, 'handshake:start')
    const atB = nextEvent<Session>(b, 'session:open')
    const atA = nextEvent<Session>(a, 'session:open')
    const session = await a.connect(b.getMultiaddrs()[0])
    const [fromA, fromB] = [await atA, await atB]
    assert.equal(session, fromA)
    assert.equal(fromA.did, b.did)
    assert.equal(fromA.direction, 'outbound')
    assert.ok(fromA.peerId.equals(b.peerId))
    assert.equal(fromB.did, a.did)
    assert.equal(fromB.direction, 'inbound')
    assert.equal(fromB.chainVersion, '0.1.0')
    const handshake = await handshakeAtB
    assert.ok(handshake.peerId.equals(a.peerId))
    assert.equal(handshake.direction, 'inbound')

    // the other way round: c selects a
    await c.connect(a.getMultiaddrs()[0])
    await until(() => a.sessions().length === 2, 5_000, 'two sessions at a')

    assert.deepEqual(a.sessions().map(s => [s.peerId.toString(), s.direction]).sort(), [
      [b.peerId.toString(), 'outbound'],
      [c.peerId.toString(), 'inbound']
    ].sort())
    const roles = a.connections().map(info => info.role).sort()
    assert.deepEqual(roles, ['inbound-session', 'outbound-session'])

    // connect() to a peer that already is a session returns that session
    assert.equal(await a.connect(b.peerId), fromA)
  })

  it('tag session peers above kad-dht\'s kad-close tag, and drop the tag when they end', async () => {
    const a = await net.node()
    const b = await net.node()
    await a.connect(b.getMultiaddrs()[0])
    await until(() => b.sessions().length === 1, 5_000, 'session at b')
    assert.ok(SESSION_TAG_VALUE > 50)
    await eventually(async () => (await sessionTag(a, b)) === SESSION_TAG_VALUE, 'tag set at a')
    await eventually(async () => (await sessionTag(b, a)) === SESSION_TAG_VALUE, 'tag set at b')

    const closedAtA = nextEvent<SessionCloseDetail>(a, 'session:close')
    const closedAtB = nextEvent<SessionCloseDetail>(b, 'session:close')
    await a.disconnect(b.peerId)
    const [atA, atB] = await Promise.all([closedAtA, closedAtB])
    assert.deepEqual([atA.reason, atA.side], [ReasonCode.DISCONNECT_REQUESTED, 'local'])
    // b heard why in a's Goodbye
    assert.deepEqual([atB.reason, atB.side], [ReasonCode.DISCONNECT_REQUESTED, 'remote'])
    assert.equal(a.sessions().length, 0)
    assert.equal(b.sessions().length, 0)
    await eventually(async () => (await sessionTag(a, b)) == null, 'tag removed at a')
    await eventually(async () => (await sessionTag(b, a)) == null, 'tag removed at b')
  })

  it('a simultaneous dial in both directions gives exactly one session, the same on both sides', async () => {
    for (let round = 0; round < 5; round++) {
      const a = await net.node()
      const b = await net.node()
      const [sa, sb] = await Promise.all([
        a.connect(b.getMultiaddrs()[0]),
        b.connect(a.getMultiaddrs()[0])
      ])
      assert.equal(a.sessions().length, 1)
      assert.equal(b.sessions().length, 1)
      assert.notEqual(sa.direction, sb.direction, 'one side initiated the surviving handshake')
      // the same connection on both sides: its addresses mirror each other
      const aLocal = a.libp2p.getConnections(b.peerId).find(c => c.id === sa.connection.id)
      assert.ok(aLocal != null && aLocal.status === 'open')
      assert.equal(sb.connection.status, 'open')
      assert.equal(sa.connection.direction === 'outbound', sb.connection.direction === 'inbound')
    }
  })

  it('both selecting each other over one existing auxiliary connection gives one session on it', async () => {
    for (let round = 0; round < 5; round++) {
      const a = await net.node()
      const b = await net.node()
      const aux = await a.libp2p.dial(b.getMultiaddrs()[0])
      assert.deepEqual(a.connections().map(c => c.role), ['auxiliary'])
      // b selects a by peer id: the connection must be b's too (its upgrade may end after a's dial returned)
      await until(() => b.connections().length === 1, 5_000, 'the connection at b')
      const [sa, sb] = await Promise.all([a.connect(b.peerId), b.connect(a.peerId)])
      assert.equal(sa.connection.id, aux.id, 'the auxiliary connection was promoted')
      assert.notEqual(sa.direction, sb.direction)
      assert.equal(aux.status, 'open')
      assert.equal(a.sessions().length, 1)
      assert.equal(b.sessions().length, 1)
    }
  })

  it('keep a ban across a restart', async () => {
    const dataDir = await net.dir()
    const signer = await newSigner()
    const first = await net.node({ dataDir })
    await first.ban(signer.did, 60_000)
    await first.stop()

    const again = await net.node({ dataDir })
    assert.ok(again.libp2p.services.sessions.banExpiry(signer.did) != null)
    const banned = await net.node({ did: { signer } })
    await assert.rejects(banned.connect(again.getMultiaddrs()[0]), (err: any) => err.reason === ReasonCode.BANNED)
    await again.unban(signer.did)
    assert.equal((await banned.connect(again.getMultiaddrs()[0])).did, again.did)
  })

  it('survive a restart: same peer id and DID from the same data dir', async () => {
    const dataDir = await net.dir()
    const options = { dataDir, listen: ['/ip4/127.0.0.1/tcp/0'], chain: { chainId: 'test-chain' } }
    const first = await createPeerNode(options)
    const peerId = first.peerId.toString()
    const did = first.did
    await first.stop()

    const second = await createPeerNode(options)
    try {
      assert.equal(second.peerId.toString(), peerId)
      assert.equal(second.did, did)
      assert.notEqual(second.did, `did:key:${peerId}`)
      const other = await net.node()
      const session = await other.connect(second.getMultiaddrs()[0])
      assert.equal(session.did, did)
    } finally {
      await second.stop()
    }
  })
})
