/**
 * The dial manager against in-memory components: a fake session manager, a
 * handshake whose outcomes the test decides, and a real address book on a
 * MemoryDatastore. The real-node tests are in dial-manager.test.ts.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { NotFoundError } from '@libp2p/interface'
import { defaultLogger } from '@libp2p/logger'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { MemoryDatastore } from 'datastore-core'
import { TypedEventEmitter } from 'main-event'
import { AddressBookManager } from '../../src/addressbook/address-book-manager.js'
import { DialManager } from '../../src/dial/dial-manager.js'
import { HandshakeError, LocalReason, ReasonCode } from '../../src/index.js'
import { FakeHandshake, FakeSessions } from '../utils/fake-components.js'
import { TestClock, until } from '../utils/nodes.js'
import type { DialManagerComponents, DialManagerInit, Outcome, PeerAddress } from '../../src/index.js'
import type { Connection, Libp2pEvents, Peer, PeerId } from '@libp2p/interface'

const DAY_MS = 24 * 60 * 60 * 1000

async function randomPeer (): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

async function randomPeers (n: number): Promise<PeerId[]> {
  return Promise.all(Array.from({ length: n }, randomPeer))
}

function addressOf (i: number): ReturnType<typeof multiaddr> {
  return multiaddr(`/ip4/127.0.0.1/tcp/${5000 + i}`)
}

const ids = (peers: PeerId[]): string[] => peers.map(String)

/**
 * A started dial manager and address book over fake components. The book's
 * recordOutcome is watched: `outcomes` lists every call, from the dial
 * manager or from the book's own session listener.
 */
async function setUp (init: DialManagerInit = {}) {
  const clock = new TestClock()
  const peerId = await randomPeer()
  const logger = defaultLogger()
  const sessions = new FakeSessions()
  const handshake = new FakeHandshake(sessions)
  const events = new TypedEventEmitter<Libp2pEvents>()
  const peerStore = {
    merge: async () => ({}) as unknown as Peer,
    get: async (): Promise<Peer> => { throw new NotFoundError('not in the fake peer store') }
  }
  const bootstrapDials: PeerId[] = []
  const connectionManager: DialManagerComponents['connectionManager'] = {
    getConnections: () => [],
    openConnection: async (peer): Promise<Connection> => {
      bootstrapDials.push(peer as PeerId)
      throw new Error('no network here')
    }
  }
  const book = new AddressBookManager({ peerId, datastore: new MemoryDatastore(), peerStore, events, logger, sessions }, { now: clock.now, random: () => 0 })
  const outcomes: Array<[string, Outcome]> = []
  const recordOutcome = book.recordOutcome.bind(book)
  book.recordOutcome = async (peer, reason, options) => {
    outcomes.push([peer.toString(), reason])
    return recordOutcome(peer, reason, options)
  }
  const dial = new DialManager(
    { peerId, peerStore, connectionManager, logger, sessions, handshake, addressBook: book },
    { autoDial: false, discovery: false, now: clock.now, random: () => 0, ...init }
  )
  // as libp2p does: every start, then every afterStart
  await Promise.all([book.start(), dial.start()])
  await dial.afterStart()

  return {
    clock,
    peerId,
    sessions,
    handshake,
    book,
    dial,
    outcomes,
    bootstrapDials,
    async addContacts (peers: PeerId[]): Promise<void> {
      for (const [i, peer] of peers.entries()) {
        await book.add({ peerId: peer, multiaddrs: [addressOf(i)], source: 'dht' })
      }
    },
    /** peers handed to connect(), in order, since the last call */
    dialed: (() => {
      let seen = 0
      return (): string[] => {
        const calls = handshake.calls.slice(seen)
        seen = handshake.calls.length
        return calls.map(c => c.peerId.toString())
      }
    })(),
    async settled (): Promise<void> {
      await until(() => dial.status().dialing === 0, 5_000, 'dials to end')
      await book.flush()
    },
    async stop (): Promise<void> {
      // as libp2p does: every beforeStop at once, then every stop
      await Promise.all([book.beforeStop(), dial.beforeStop()])
      book.stop()
      dial.stop()
    }
  }
}

describe('dial manager on in-memory components', () => {
  it('reports a failed dial to the book once, with its reason; the book\'s policy decides the backoff', async () => {
    const t = await setUp()
    const [wrongChain, refused, duplicate] = await randomPeers(3)
    await t.addContacts([wrongChain, refused, duplicate])
    await t.dial.tick()
    assert.deepEqual(t.dialed().sort(), ids([wrongChain, refused, duplicate]).sort())

    t.handshake.fail(wrongChain, new HandshakeError(ReasonCode.WRONG_CHAIN, 'another chain', 'remote'))
    t.handshake.fail(refused, new Error('ECONNREFUSED'))
    t.handshake.fail(duplicate, new HandshakeError(ReasonCode.DUPLICATE, 'a session exists', 'local'))
    await t.settled()

    assert.deepEqual(t.outcomes.sort(), [
      [wrongChain.toString(), ReasonCode.WRONG_CHAIN],
      [refused.toString(), LocalReason.DIAL_FAILED],
      [duplicate.toString(), ReasonCode.DUPLICATE]
    ].sort())
    const now = t.clock.now()
    assert.deepEqual(pick(t.book.get(wrongChain)), { failures: 1, wait: DAY_MS, backoffReason: ReasonCode.WRONG_CHAIN })
    assert.deepEqual(pick(t.book.get(refused)), { failures: 1, wait: 1000, backoffReason: LocalReason.DIAL_FAILED })
    assert.deepEqual(pick(t.book.get(duplicate)), { failures: 0, wait: -now, backoffReason: undefined }, 'DUPLICATE changes nothing')

    function pick (contact: ReturnType<typeof t.book.get>): unknown {
      return { failures: contact?.failures, wait: (contact?.nextAttempt ?? 0) - now, backoffReason: contact?.backoffReason }
    }
    await t.stop()
  })

  it('a session reaches the book through session:open alone; the next dial expects its DID', async () => {
    const t = await setUp()
    const [peer] = await randomPeers(1)
    await t.addContacts([peer])
    await t.dial.tick()
    assert.deepEqual(t.handshake.calls, [{ peerId: peer, expectedDid: undefined }])
    t.handshake.succeed(peer, 'did:key:z6MkPeer')
    await t.settled()
    await until(() => t.book.get(peer)?.lastSession != null, 5_000, 'the session recorded')
    assert.equal(t.book.get(peer)?.did, 'did:key:z6MkPeer')
    assert.deepEqual(t.outcomes, [], 'a success is no outcome the dial manager reports')

    // a busy peer is not dialed again
    await t.dial.tick()
    assert.deepEqual(t.dialed(), [peer.toString()])

    t.sessions.close(peer, ReasonCode.CONNECTION_CLOSED)
    await t.book.flush()
    assert.deepEqual(t.outcomes, [[peer.toString(), LocalReason.SESSION_ENDED]], 'the book records a clean end itself')
    assert.equal(t.book.get(peer)?.nextAttempt, t.clock.now() + 1000)

    t.clock.advance(1000)
    await t.dial.tick()
    assert.deepEqual(t.handshake.calls.at(-1), { peerId: peer, expectedDid: 'did:key:z6MkPeer' })
    await t.stop()
  })

  it('a tick dials reserved peers that are down first, outside the limits and within the tick\'s budget, on their own backoff', async () => {
    const reservedPeers = await randomPeers(2)
    const reserved: PeerAddress[] = reservedPeers.map((peerId, i) => ({ peerId, multiaddrs: [addressOf(100 + i)] }))
    const t = await setUp({ reserved, maxDialsPerTick: 3 })
    t.sessions.sessionLimits = { ...t.sessions.sessionLimits, maxInbound: 0, maxOutbound: 5, inboundBurst: 0 }
    const contacts = await randomPeers(4)
    await t.addContacts(contacts)

    await t.dial.tick()
    const first = t.dialed()
    assert.deepEqual(first.slice(0, 2), ids(reservedPeers), 'reserved peers first')
    assert.equal(first.length, 3, 'three dials per tick in all')
    assert.ok(ids(contacts).includes(first[2]))
    assert.equal(t.dial.status().dialing, 3)

    // no outbound slot at all: reserved peers are still dialed
    t.sessions.sessionLimits = { ...t.sessions.sessionLimits, maxInbound: 0, maxOutbound: 0, inboundBurst: 0 }
    t.handshake.fail(reservedPeers[0], new Error('ECONNREFUSED'))
    await until(() => t.dial.status().dialing === 2, 5_000, 'the failed dial to end')
    await t.dial.tick()
    assert.deepEqual(t.dialed(), [], 'the failed reserved peer waits its own backoff; the other is still being dialed')
    t.clock.advance(1000)
    await t.dial.tick()
    assert.deepEqual(t.dialed(), [reservedPeers[0].toString()], 'after 1 s it is dialed again, with no outbound slot')
    assert.deepEqual(t.outcomes, [], 'reserved peers keep their backoff outside the book')
    await t.stop()
  })

  it('leaves out banned peers, peers with a handshake in flight and this node, however good their record', async () => {
    const t = await setUp()
    t.sessions.sessionLimits = { ...t.sessions.sessionLimits, maxInbound: 0, maxOutbound: 1, inboundBurst: 0 }
    const [banned, handshaking, plain] = await randomPeers(3)
    await t.addContacts([banned, handshaking, plain])
    await t.book.add({ peerId: t.peerId, multiaddrs: [addressOf(99)], source: 'manual' })
    // the best records: sessions, the most recent last
    await t.book.recordSession(plain, 'did:key:z6MkPlain')
    t.clock.advance(1)
    await t.book.recordSession(handshaking, 'did:key:z6MkHandshaking')
    t.clock.advance(1)
    await t.book.recordSession(banned, 'did:key:z6MkBanned')
    t.clock.advance(1)
    await t.book.recordSession(t.peerId, 'did:key:z6MkSelf')
    t.sessions.banned.set(banned.toString(), t.clock.now() + 60_000)
    t.sessions.handshaking.add(handshaking)

    await t.dial.tick()
    assert.deepEqual(t.dialed(), [plain.toString()])
    t.handshake.fail(plain, new Error('ECONNREFUSED'))
    await t.settled()

    t.sessions.banned.delete(banned.toString())
    t.sessions.handshaking.delete(handshaking)
    await t.dial.tick()
    assert.deepEqual(t.dialed(), [banned.toString()], 'once the ban is lifted, the best record goes first')
    await t.stop()
  })

  it('sheds inbound sessions over the limit, newest first, never a reserved peer', async () => {
    const [reservedPeer, ...inbound] = await randomPeers(5)
    const t = await setUp({ reserved: [{ peerId: reservedPeer, multiaddrs: [addressOf(1)] }] })
    t.sessions.sessionLimits = { ...t.sessions.sessionLimits, maxInbound: 2, maxOutbound: 0, inboundBurst: 2 }
    t.sessions.open(reservedPeer, { direction: 'inbound', since: 10 })
    inbound.forEach((peer, i) => t.sessions.open(peer, { direction: 'inbound', since: i }))
    await t.dial.tick()
    assert.deepEqual(t.sessions.disconnected.map(d => [d.peerId.toString(), d.reason]), [
      [inbound[3].toString(), ReasonCode.TOO_MANY_PEERS],
      [inbound[2].toString(), ReasonCode.TOO_MANY_PEERS]
    ])
    assert.deepEqual(t.dialed(), [], 'the reserved peer has a session')
    await t.stop()
  })

  it('stop cancels dials in flight without counting them against their contacts', async () => {
    const t = await setUp()
    const contacts = await randomPeers(3)
    await t.addContacts(contacts)
    await t.dial.tick()
    assert.equal(t.handshake.waiting().length, 3)
    await t.stop()
    assert.equal(t.handshake.waiting().length, 0, 'every connect() was aborted')
    assert.equal(t.dial.status().dialing, 0)
    assert.deepEqual(t.outcomes, [])
    for (const peer of contacts) {
      assert.deepEqual([t.book.get(peer)?.failures, t.book.get(peer)?.nextAttempt], [0, 0])
    }
  })

  it('adds bootstrap peers to the book once started, and asks a full bootstrap node for a DHT connection again', async () => {
    const [boot] = await randomPeers(1)
    const t = await setUp({ bootstrap: [{ peerId: boot, multiaddrs: [addressOf(7)] }] })
    assert.equal(t.book.get(boot)?.source, 'bootstrap')
    assert.deepEqual(ids(t.bootstrapDials), [boot.toString()], 'a DHT connection at start')

    await t.dial.tick()
    t.handshake.fail(boot, new HandshakeError(ReasonCode.TOO_MANY_PEERS, 'full', 'remote'))
    await t.settled()
    assert.deepEqual(ids(t.bootstrapDials), [boot.toString(), boot.toString()], 'and again after TOO_MANY_PEERS')
    assert.deepEqual(t.outcomes, [[boot.toString(), ReasonCode.TOO_MANY_PEERS]])

    // one that holds enough sessions from this node's IP serves its DHT too
    await t.book.clearBackoff([boot])
    await t.dial.tick()
    t.handshake.fail(boot, new HandshakeError(ReasonCode.TOO_MANY_FROM_IP, 'too many inbound sessions from 127.0.0.1 (limit 4 per IP address)', 'remote'))
    await t.settled()
    assert.deepEqual(ids(t.bootstrapDials), [boot.toString(), boot.toString(), boot.toString()], 'and again after TOO_MANY_FROM_IP')
    assert.deepEqual(t.outcomes.map(([, reason]) => reason), [ReasonCode.TOO_MANY_PEERS, ReasonCode.TOO_MANY_FROM_IP])
    await t.stop()
  })

  it('rejects bad settings with InvalidParametersError', async () => {
    const table: DialManagerInit[] = [
      { tickMs: 0 },
      { tickMs: Number.NaN },
      { dialTimeoutMs: -1 },
      { maxDialsPerTick: -1 },
      { maxDialsPerTick: Number.NaN }
    ]
    const components = { logger: defaultLogger() } as unknown as DialManagerComponents
    for (const init of table) {
      assert.throws(() => new DialManager(components, init), { name: 'InvalidParametersError' }, JSON.stringify(init))
    }
  })
})
