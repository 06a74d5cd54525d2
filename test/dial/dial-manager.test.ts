import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { defaultLogger } from '@libp2p/logger'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { LevelDatastore } from 'datastore-level'
import { ReasonCode } from '../../src/index.js'
import { PersistentAddressBook } from '../../src/addressbook/index.js'
import { TestClock, TestNetwork, blackHole, closedPort, nextEvent, until } from '../utils/nodes.js'
import { newSigner } from '../utils/rogue.js'
import type { Contact, PeerNode, PeerNodeOptions, SessionCloseDetail } from '../../src/index.js'
import type { PeerId } from '@libp2p/interface'

const DAY_MS = 24 * 60 * 60 * 1000
const net = new TestNetwork()
after(async () => { await net.cleanup() })

async function randomPeer (): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

/** a node whose dial loop only runs when the test calls tick(), on a test clock */
async function manualNode (clock: TestClock, options: PeerNodeOptions = {}): Promise<PeerNode> {
  return net.node({
    discovery: false,
    ...options,
    dial: { autoDial: false, now: clock.now, random: () => 0, ...options.dial }
  })
}

function contactOf (node: PeerNode, peer: PeerId): Contact {
  const contact = node.contacts().find(c => c.peerId.equals(peer))
  assert.ok(contact != null, 'contact is in the book')
  return contact
}

/**
 * A contact of `node` whose DID the book learned in a session, then the same
 * peer id at the same address presenting another DID
 */
async function movedDid (node: PeerNode): Promise<{ first: PeerNode, moved: PeerNode }> {
  const key = await generateKeyPair('Ed25519')
  const listen = [`/ip4/127.0.0.1/tcp/${await closedPort()}`]
  const first = await net.node({ privateKey: key, listen })
  await node.addContact(first.getMultiaddrs()[0])
  await tickAndSettle(node)
  await until(() => contactOf(node, first.peerId).did === first.did, 5_000, 'DID learned')
  await node.disconnect(first.peerId)
  await first.stop()
  const moved = await net.node({ privateKey: key, listen, did: { signer: await newSigner() } })
  return { first, moved }
}

/** runs one tick and waits for the dials it started to end */
async function tickAndSettle (node: PeerNode): Promise<void> {
  await node.libp2p.services.dial.tick()
  await until(() => node.status().dialing === 0, 10_000, 'dials to end')
}

describe('dial manager', () => {
  it('starts at most K dials per tick, never two of one contact, and stop cancels them without backoff', async () => {
    const hole = await blackHole()
    const clock = new TestClock()
    const dataDir = await net.dir()
    const node = await manualNode(clock, {
      dataDir,
      limits: { maxOutboundSessions: 10 },
      dial: { maxDialsPerTick: 4, dialTimeoutMs: 60_000 }
    })
    const contacts: string[] = []
    for (let i = 0; i < 12; i++) {
      const peer = await randomPeer()
      contacts.push(peer.toString())
      await node.addContact(`/ip4/127.0.0.1/tcp/${hole.port}/p2p/${peer.toString()}`)
    }

    const dial = node.libp2p.services.dial
    await dial.tick()
    assert.equal(node.status().dialing, 4)
    await until(() => hole.accepted() === 4, 5_000, 'four TCP connections')
    await dial.tick()
    assert.equal(node.status().dialing, 8)
    await dial.tick()
    assert.equal(node.status().dialing, 10, 'the outbound target caps dials in flight')
    await dial.tick()
    assert.equal(node.status().dialing, 10)
    await until(() => hole.accepted() === 10, 5_000, 'ten TCP connections')
    assert.equal(hole.accepted(), 10, 'no contact was dialed twice')

    await node.stop()
    await hole.close()
    const datastore = new LevelDatastore(join(dataDir, 'datastore'))
    await datastore.open()
    const book = new PersistentAddressBook({ datastore, logger: defaultLogger() })
    await book.load()
    assert.equal(book.size, 12)
    for (const contact of book.list()) {
      assert.equal(contact.failures, 0, 'a cancelled dial is not a failure')
      assert.equal(contact.nextAttempt, 0)
    }
    await datastore.close()
  })

  it('backs off failed dials: doubling from 1 s up to the cap, and an address update resets it', async () => {
    const clock = new TestClock()
    const node = await manualNode(clock, { addressBook: { backoff: { initialMs: 1_000, maxMs: 4_000 } } })
    const peer = await randomPeer()
    const start = clock.now()
    await node.addContact(`/ip4/127.0.0.1/tcp/${await closedPort()}/p2p/${peer.toString()}`)

    const expected = [1_000, 2_000, 4_000, 4_000]
    for (let i = 0; i < expected.length; i++) {
      await tickAndSettle(node)
      const contact = contactOf(node, peer)
      assert.equal(contact.failures, i + 1)
      assert.equal(contact.nextAttempt - clock.now(), expected[i], `wait after failure ${i + 1}`)
      assert.equal(contact.backoffReason, 'DIAL_FAILED')

      // not before its time
      clock.advance(expected[i] - 1)
      await tickAndSettle(node)
      assert.equal(contactOf(node, peer).failures, i + 1)
      clock.advance(1)
    }
    assert.ok(clock.now() > start)

    // a new address: the backoff is over at once
    await node.addContact(`/ip4/127.0.0.1/tcp/${await closedPort()}/p2p/${peer.toString()}`)
    const reset = contactOf(node, peer)
    assert.equal(reset.failures, 0)
    assert.equal(reset.nextAttempt, 0)
  })

  it('waits a random 1-5 s before redialing a peer whose session ended cleanly', async () => {
    const clock = new TestClock()
    const node = await manualNode(clock, { dial: { random: () => 0.5 } })
    const peer = await net.node()
    await node.addContact(peer.getMultiaddrs()[0])
    await tickAndSettle(node)
    assert.equal(node.sessions().length, 1)
    await until(() => contactOf(node, peer.peerId).lastSession != null, 5_000, 'session recorded')
    assert.equal(contactOf(node, peer.peerId).did, peer.did)

    const closed = nextEvent<SessionCloseDetail>(node, 'session:close')
    await peer.disconnect(node.peerId)
    const heard = await closed
    assert.deepEqual([heard.reason, heard.side], [ReasonCode.DISCONNECT_REQUESTED, 'remote'], 'the peer\'s Goodbye')
    await until(() => contactOf(node, peer.peerId).nextAttempt > 0, 5_000, 'clean-close wait recorded')
    const contact = contactOf(node, peer.peerId)
    assert.equal(contact.nextAttempt - clock.now(), 3_000, '1 s + 0.5 × 4 s')
    assert.equal(contact.failures, 0)
  })

  it('puts a peer whose DID moved on the 24 h backoff', async () => {
    const clock = new TestClock()
    const node = await manualNode(clock)
    const { first, moved } = await movedDid(node)
    assert.ok(moved.peerId.equals(first.peerId))
    assert.notEqual(moved.did, first.did)
    clock.advance(10_000)
    const rejected = nextEvent<{ reason: ReasonCode }>(node, 'session:reject')
    await tickAndSettle(node)
    assert.equal((await rejected).reason, ReasonCode.UNEXPECTED_DID)
    const contact = contactOf(node, moved.peerId)
    assert.equal(contact.backoffReason, ReasonCode.UNEXPECTED_DID)
    assert.equal(contact.nextAttempt - clock.now(), DAY_MS)
    assert.equal(node.sessions().length, 0)
  })

  it('an explicit connect() accepts a moved DID unless the caller names the DID it expects; the contact learns the new DID', async () => {
    const clock = new TestClock()
    const node = await manualNode(clock)
    const { first, moved } = await movedDid(node)

    await assert.rejects(node.connect(moved.getMultiaddrs()[0], { expectedDid: first.did }), (err: any) => err.reason === ReasonCode.UNEXPECTED_DID)
    const session = await node.connect(moved.getMultiaddrs()[0])
    assert.equal(session.did, moved.did)
    await until(() => contactOf(node, moved.peerId).did === moved.did, 5_000, 'the contact to hold the new DID')
  })

  it('rejects a manually added node of another chain and puts it on the 24 h backoff', async () => {
    const clock = new TestClock()
    const node = await manualNode(clock)
    const stranger = await net.node({ chain: { chainId: 'other-chain' } })
    await node.addContact(stranger.getMultiaddrs()[0])
    await tickAndSettle(node)
    const contact = contactOf(node, stranger.peerId)
    assert.equal(contact.backoffReason, ReasonCode.WRONG_CHAIN)
    assert.equal(contact.nextAttempt - clock.now(), DAY_MS)
    assert.equal(node.sessions().length, 0)
    // and it stays put
    clock.advance(DAY_MS - 1)
    await tickAndSettle(node)
    assert.equal(contactOf(node, stranger.peerId).failures, 1)
  })

  it('does not dial a banned peer until its ban expires', async () => {
    const clock = new TestClock()
    const node = await manualNode(clock)
    const peer = await net.node()
    await node.addContact(peer.getMultiaddrs()[0])
    await node.ban(peer.peerId, 60_000)
    await tickAndSettle(node)
    assert.equal(node.sessions().length, 0)
    assert.equal(contactOf(node, peer.peerId).failures, 0, 'not even tried')
    await node.unban(peer.peerId)
    await tickAndSettle(node)
    assert.equal(node.sessions().length, 1)
  })

  it('sheds inbound sessions over the limit with TOO_MANY_PEERS; reserved peers stay', async () => {
    const reservedPeer = await net.node()
    const hub = await net.node({
      limits: { maxInboundSessions: 2, inboundBurst: 3, maxOutboundSessions: 0 },
      reserved: [reservedPeer.getMultiaddrs()[0]],
      discovery: false,
      dial: { autoDial: false }
    })
    // the reserved peer selects the hub too: it is outside the limits
    const burst = await Promise.all([0, 1, 2, 3].map(async () => net.node()))
    const dropped: string[] = []
    hub.addEventListener('session:close', (evt) => {
      if (evt.detail.reason === ReasonCode.TOO_MANY_PEERS) {
        dropped.push(evt.detail.session.peerId.toString())
      }
    })
    await reservedPeer.connect(hub.getMultiaddrs()[0])
    for (const node of burst) {
      await node.connect(hub.getMultiaddrs()[0])
    }
    await until(() => hub.sessions().length === 5, 5_000, 'five inbound sessions')

    await hub.libp2p.services.dial.tick()
    await until(() => hub.sessions().length === 3, 5_000, 'shed to the limit')
    assert.equal(dropped.length, 2)
    assert.ok(hub.sessions().some(s => s.peerId.equals(reservedPeer.peerId)), 'the reserved peer stays')
    // the newest went first
    assert.deepEqual(dropped.sort(), [burst[2].peerId.toString(), burst[3].peerId.toString()].sort())
  })

  it('keeps a reserved peer connected on its own short backoff', async () => {
    const port = await closedPort()
    const key = await generateKeyPair('Ed25519')
    const peerId = peerIdFromPrivateKey(key)
    const node = await net.node({
      reserved: [multiaddr(`/ip4/127.0.0.1/tcp/${port}/p2p/${peerId.toString()}`)],
      limits: { maxOutboundSessions: 0 },
      discovery: false,
      dial: { tickMs: 100 }
    })
    // the reserved peer comes up later, where the node keeps looking for it
    const reserved = await net.node({ privateKey: key, listen: [`/ip4/127.0.0.1/tcp/${port}`] })
    await until(() => node.sessions().some(s => s.peerId.equals(reserved.peerId)), 10_000, 'reserved peer connected despite no outbound slots')
    const { outbound, inbound, reserved: reservedSessions } = node.status().sessions
    assert.deepEqual({ outbound, inbound, reserved: reservedSessions }, { outbound: 0, inbound: 0, reserved: 1 }, 'a reserved peer is counted apart')
  })
})
