/**
 * The address book service keeping itself: it loads on start, learns from
 * sessions, identify and discovery, and writes out before stop. In-memory
 * components: a fake session manager, an event target for libp2p's events
 * and a MemoryDatastore.
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
import { LocalReason, ReasonCode } from '../../src/index.js'
import { DISCOVERY_REFRESH_MS, PersistentAddressBook } from '../../src/addressbook/index.js'
import { FakeSessions } from '../utils/fake-components.js'
import { TestClock, until } from '../utils/nodes.js'
import type { IdentifyResult, Libp2pEvents, Peer, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

async function randomPeer (): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

function addr (port: number): Multiaddr {
  return multiaddr(`/ip4/127.0.0.1/tcp/${port}`)
}

/** a started book over fake components; `listening` is what the fake peer store knows of a peer's addresses */
async function setUp (datastore = new MemoryDatastore()) {
  const clock = new TestClock()
  const peerId = await randomPeer()
  const sessions = new FakeSessions()
  const events = new TypedEventEmitter<Libp2pEvents>()
  const listening = new Map<string, Multiaddr[]>()
  const peerStore = {
    get: async (peer: PeerId): Promise<Peer> => {
      const addresses = listening.get(peer.toString())
      if (addresses == null) {
        throw new NotFoundError('not identified')
      }
      return { addresses: addresses.map(multiaddr => ({ multiaddr, isCertified: false })) } as unknown as Peer
    }
  }
  let writes = 0
  const counted = new Proxy(datastore, {
    get (target, property) {
      if (property === 'put') {
        writes++
      }
      const value = Reflect.get(target, property, target)
      return typeof value === 'function' ? value.bind(target) : value
    }
  })
  const book = new AddressBookManager({ peerId, datastore: counted, peerStore, events, logger: defaultLogger(), sessions }, { now: clock.now, random: () => 0.5 })
  await book.start()
  return { clock, peerId, sessions, events, listening, book, datastore, writes: () => writes }
}

/** what a fresh book reads back from the datastore */
async function reread (datastore: MemoryDatastore): Promise<PersistentAddressBook> {
  const book = new PersistentAddressBook({ datastore, logger: defaultLogger() })
  await book.load()
  return book
}

describe('address book service', () => {
  it('loads in start() and has written everything out once beforeStop() resolves', async () => {
    const datastore = new MemoryDatastore()
    const [a, b] = await Promise.all([randomPeer(), randomPeer()])
    const before = await reread(datastore)
    await before.add({ peerId: a, multiaddrs: [addr(1)], source: 'bootstrap' })

    const t = await setUp(datastore)
    assert.equal(t.book.get(a)?.source, 'bootstrap', 'the stored contact is there after start')
    t.sessions.open(b, { direction: 'outbound', remoteAddr: addr(2), did: 'did:key:z6MkB' })
    await t.book.beforeStop()
    t.book.stop()
    const after = await reread(datastore)
    assert.equal(after.get(b)?.did, 'did:key:z6MkB', 'the session recorded by an event is stored')
  })

  it('a session that opens: created with the address dialed, or with the listen addresses of an inbound peer; backoff cleared, DID kept', async () => {
    const t = await setUp()
    const [outbound, inbound, unidentified] = await Promise.all([randomPeer(), randomPeer(), randomPeer()])
    await t.book.add({ peerId: outbound, multiaddrs: [addr(1)], source: 'dht' })
    await t.book.recordOutcome(outbound, ReasonCode.TIMEOUT)
    t.listening.set(inbound.toString(), [addr(20), addr(21)])

    t.sessions.open(outbound, { direction: 'outbound', remoteAddr: addr(2), did: 'did:key:z6MkOut' })
    t.sessions.open(inbound, { direction: 'inbound', remoteAddr: addr(40000), did: 'did:key:z6MkIn' })
    t.sessions.open(unidentified, { direction: 'inbound', remoteAddr: addr(40001), did: 'did:key:z6MkNew' })
    await t.book.beforeStop()

    const out = t.book.get(outbound)
    assert.deepEqual([out?.multiaddrs.map(String), out?.failures, out?.nextAttempt, out?.lastSession, out?.did],
      [[addr(1), addr(2)].map(String), 0, 0, t.clock.now(), 'did:key:z6MkOut'])
    assert.equal(out?.source, 'dht', 'the first source stays')
    assert.deepEqual([t.book.get(inbound)?.source, t.book.get(inbound)?.multiaddrs.map(String)], ['inbound', [addr(20), addr(21)].map(String)])
    assert.deepEqual(t.book.get(unidentified)?.multiaddrs, [], 'an ephemeral port is no address to keep')
  })

  it('a session that ends: a clean end waits a little; this node\'s shutdown and other ends change nothing', async () => {
    const t = await setUp()
    const table: Array<[ReasonCode, boolean]> = [
      [ReasonCode.CONNECTION_CLOSED, true],
      [ReasonCode.DISCONNECT_REQUESTED, true],
      [ReasonCode.TOO_MANY_PEERS, true],
      [ReasonCode.SHUTDOWN, false],
      [ReasonCode.BANNED, false]
    ]
    for (const [reason, clean] of table) {
      const peer = await randomPeer()
      t.sessions.open(peer, { did: 'did:key:z6MkEnd' })
      await until(() => t.book.get(peer)?.lastSession != null, 5_000, 'the session recorded')
      const opened = t.book.get(peer)
      t.sessions.close(peer, reason)
      await t.book.flush()
      const ended = t.book.get(peer)
      if (clean) {
        // 1 s + 0.5 × 4 s
        assert.deepEqual([ended?.nextAttempt, ended?.failures, ended?.backoffReason], [t.clock.now() + 3000, 0, LocalReason.SESSION_ENDED], reason)
      } else {
        assert.deepEqual(ended, opened, reason)
      }
    }
    await t.book.beforeStop()
  })

  it('identify of a session peer replaces its addresses; of any other peer, nothing', async () => {
    const t = await setUp()
    const [session, stranger] = await Promise.all([randomPeer(), randomPeer()])
    await t.book.add({ peerId: session, multiaddrs: [addr(1)], source: 'dht' })
    await t.book.add({ peerId: stranger, multiaddrs: [addr(2)], source: 'dht' })
    t.sessions.open(session, { remoteAddr: addr(1) })
    await until(() => t.book.get(session)?.lastSession != null, 5_000, 'the session recorded')
    const identify = (peerId: PeerId, listenAddrs: Multiaddr[]): void => {
      t.events.safeDispatchEvent('peer:identify', { detail: { peerId, listenAddrs, protocols: [] } as unknown as IdentifyResult })
    }
    identify(session, [addr(11)])
    identify(stranger, [addr(12)])
    await t.book.beforeStop()
    assert.deepEqual(t.book.get(session)?.multiaddrs.map(String), [addr(11).toString()])
    assert.deepEqual(t.book.get(stranger)?.multiaddrs.map(String), [addr(2).toString()])
  })

  it('discovery adds dht contacts; a known one is written back only with a new address or after DISCOVERY_REFRESH_MS', async () => {
    const t = await setUp()
    const peer = await randomPeer()
    assert.equal(await t.book.discovered({ id: t.peerId, multiaddrs: [addr(1)] }), undefined, 'not this node')
    assert.equal(await t.book.discovered({ id: peer, multiaddrs: [] }), undefined, 'not without an address')
    assert.equal(t.book.size, 0)

    t.events.safeDispatchEvent('peer:discovery', { detail: { id: peer, multiaddrs: [addr(1)] } })
    await t.book.flush()
    assert.equal(t.book.get(peer)?.source, 'dht', 'peer:discovery reaches the book')
    const seen = t.book.get(peer)?.lastSeen
    const writes = t.writes()

    t.clock.advance(DISCOVERY_REFRESH_MS - 1)
    assert.equal(await t.book.discovered({ id: peer, multiaddrs: [addr(1)] }), undefined)
    assert.equal(t.writes(), writes, 'met again within the refresh time: no write')
    assert.equal(t.book.get(peer)?.lastSeen, seen)
    assert.equal((await t.book.discovered({ id: peer, multiaddrs: [addr(2)] }))?.multiaddrs.length, 2, 'a new address is written at once')
    assert.equal(t.writes(), writes + 1)
    t.clock.advance(DISCOVERY_REFRESH_MS)
    assert.equal((await t.book.discovered({ id: peer, multiaddrs: [addr(2)] }))?.lastSeen, t.clock.now(), 'written back once the refresh time has passed')
    assert.equal(t.writes(), writes + 2)
    await t.book.beforeStop()
  })

  it('stops listening in beforeStop()', async () => {
    const t = await setUp()
    await t.book.beforeStop()
    t.book.stop()
    const peer = await randomPeer()
    t.sessions.open(peer)
    t.events.safeDispatchEvent('peer:discovery', { detail: { id: await randomPeer(), multiaddrs: [addr(1)] } })
    await t.book.flush()
    assert.equal(t.book.size, 0)
  })
})
