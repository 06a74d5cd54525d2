import assert from 'node:assert/strict'
import { test } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { defaultLogger } from '@libp2p/logger'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { MemoryDatastore } from 'datastore-core'
import { TypedEventEmitter } from 'main-event'
import { AddressBookManager } from '../../src/addressbook/address-book-manager.js'
import { ReasonCode } from '../../src/index.js'
import { DIAL_TICK_MS, DIAL_TIMEOUT_MS, MAX_DIALS_PER_TICK } from '../../src/dial/index.js'
import { DISCOVERY_INTERVAL_AT_TARGET_MS, DISCOVERY_INTERVAL_BELOW_TARGET_MS, DISCOVERY_QUERY_TIMEOUT_MS } from '../../src/dial/constants.js'
import { Discovery, RandomWalk } from '../../src/dial/discovery.js'
import { FakeSessions } from '../utils/fake-components.js'
import { readRepoFile } from '../utils/files.js'
import { TestClock, until } from '../utils/nodes.js'
import type { DiscoveryComponents } from '../../src/dial/discovery.js'
import type { DiscoveryInit } from '../../src/index.js'
import type { AbortOptions, Connection, Libp2pEvents, Peer, PeerId, PeerInfo } from '@libp2p/interface'
import type { KadDHT } from '@libp2p/kad-dht'

const log = defaultLogger().forComponent('test:random-walk')

/** A DHT whose lookups yield `peers`, then hang until aborted when `hang` */
function stubDht (peers: PeerInfo[], hang: boolean): KadDHT {
  return {
    async * getClosestPeers (_key: Uint8Array, options: AbortOptions = {}) {
      for (const peer of peers) {
        yield { name: 'PEER_RESPONSE', closer: [peer] }
      }
      if (hang) {
        await new Promise((resolve, reject) => {
          options.signal?.addEventListener('abort', () => { reject(options.signal?.reason) })
        })
      }
    }
  } as unknown as KadDHT
}

function walkOf (dht: KadDHT, queryTimeoutMs?: number): { walk: RandomWalk, met: PeerInfo[], empty: () => number } {
  const met: PeerInfo[] = []
  let empty = 0
  const walk = new RandomWalk(dht, log, {
    queryTimeoutMs,
    onPeer: (peer) => { met.push(peer) },
    onEmpty: () => { empty++ },
    belowTarget: () => true
  })
  return { walk, met, empty: () => empty }
}

test('a walk is given up at its query timeout; the peers it met by then count', async () => {
  const peer = { id: peerIdFromPrivateKey(await generateKeyPair('Ed25519')), multiaddrs: [] }

  const hanging = walkOf(stubDht([], true), 100)
  const started = Date.now()
  await hanging.walk.walk()
  const elapsed = Date.now() - started
  assert.ok(elapsed >= 90 && elapsed < 2_000, `gave up after ${elapsed} ms`)
  assert.equal(hanging.empty(), 1, 'a walk that met nobody asks for a reseed')

  const partial = walkOf(stubDht([peer], true), 100)
  await partial.walk.walk()
  assert.deepEqual(partial.met, [peer], 'a peer met before the timeout is handed on')
  assert.equal(partial.empty(), 0)
})

test('the default query timeout is DISCOVERY_QUERY_TIMEOUT_MS, 10 s', () => {
  assert.equal(DISCOVERY_QUERY_TIMEOUT_MS, 10_000)
  assert.equal(walkOf(stubDht([], false)).walk.queryTimeoutMs, DISCOVERY_QUERY_TIMEOUT_MS)
  assert.equal(walkOf(stubDht([], false), 250).walk.queryTimeoutMs, 250)
})

/** the number after `@default` in the doc comment right above `option` */
function documentedDefault (source: string, option: string): number {
  const match = new RegExp(`@default (\\d+)[^\\n]*\\n\\s*\\*/\\n\\s*${option}\\?:`).exec(source)
  assert.ok(match != null, `a @default for ${option}`)
  return Number(match[1])
}

test('the dial options\' documented defaults quote the constants, and so does the README', async () => {
  const source = await readRepoFile('src/dial/index.ts')
  assert.equal(documentedDefault(source, 'intervalBelowTargetMs'), DISCOVERY_INTERVAL_BELOW_TARGET_MS)
  assert.equal(documentedDefault(source, 'intervalAtTargetMs'), DISCOVERY_INTERVAL_AT_TARGET_MS)
  assert.equal(documentedDefault(source, 'queryTimeoutMs'), DISCOVERY_QUERY_TIMEOUT_MS)
  assert.equal(documentedDefault(source, 'tickMs'), DIAL_TICK_MS)
  assert.equal(documentedDefault(source, 'maxDialsPerTick'), MAX_DIALS_PER_TICK)
  assert.equal(documentedDefault(source, 'dialTimeoutMs'), DIAL_TIMEOUT_MS)

  const readme = await readRepoFile('README.md')
  const row = readme.split('\n').find(line => line.startsWith('| `discovery` |'))
  assert.ok(row != null)
  assert.ok(row.includes(`every ${DISCOVERY_INTERVAL_BELOW_TARGET_MS / 1000} s below the outbound target`), row)
  assert.ok(row.includes(`every ${DISCOVERY_INTERVAL_AT_TARGET_MS / 1000} s at it`), row)
  assert.ok(row.includes(`each lookup given up after ${DISCOVERY_QUERY_TIMEOUT_MS / 1000} s`), row)
  assert.ok(readme.includes(`| \`dial.tickMs\` / \`maxDialsPerTick\` / \`dialTimeoutMs\` | ${DIAL_TICK_MS} / ${MAX_DIALS_PER_TICK} / ${DIAL_TIMEOUT_MS} |`))
})

async function randomPeer (): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

/** Discovery over a real address book on a MemoryDatastore, a fake session manager and a connection manager that notes what it is asked to open */
async function discoveryOf (bootstrap: PeerId[], options: { dht?: KadDHT, walks?: DiscoveryInit | false, connected?: PeerId[] } = {}) {
  const clock = new TestClock()
  const sessions = new FakeSessions()
  const peerStore = {
    merge: async () => ({}) as unknown as Peer,
    get: async (): Promise<Peer> => { throw new Error('not in the fake peer store') }
  }
  const book = new AddressBookManager({
    peerId: await randomPeer(),
    datastore: new MemoryDatastore(),
    peerStore,
    events: new TypedEventEmitter<Libp2pEvents>(),
    logger: defaultLogger(),
    sessions
  }, { now: clock.now })
  await book.start()
  const opened: string[] = []
  const connected = new Set((options.connected ?? []).map(String))
  const components: DiscoveryComponents = {
    peerStore,
    connectionManager: {
      getConnections: (peer?: PeerId) => connected.has(String(peer)) ? [{ status: 'open' } as unknown as Connection] : [],
      openConnection: async (peer): Promise<Connection> => {
        opened.push(String(peer))
        throw new Error('no network here')
      }
    },
    sessions,
    addressBook: book,
    dht: options.dht
  }
  const discovery = new Discovery(components, log, {
    bootstrap: bootstrap.map((peerId, i) => ({ peerId, multiaddrs: [multiaddr(`/ip4/127.0.0.1/tcp/${4000 + i}`)] })),
    walks: options.walks ?? false,
    belowTarget: () => true,
    now: clock.now
  })
  return { clock, sessions, book, discovery, opened }
}

test('discovery: the bootstrap peers go into the book at start, backoff cleared, and the DHT is seeded with those it has no connection to, that are not banned nor of another chain in this run', async () => {
  const [plain, connected, banned, otherChain] = await Promise.all([randomPeer(), randomPeer(), randomPeer(), randomPeer()])
  const t = await discoveryOf([plain, connected, banned, otherChain], { connected: [connected] })
  t.sessions.banned.set(banned.toString(), t.clock.now() + 60_000)
  // known from an earlier run, at the address it is configured with, and
  // backed off then: the operator names it again, so it is tried again
  await t.book.add({ peerId: otherChain, multiaddrs: [multiaddr('/ip4/127.0.0.1/tcp/4003')], source: 'bootstrap' })
  await t.book.recordOutcome(otherChain, ReasonCode.WRONG_CHAIN)

  await t.discovery.start()
  assert.deepEqual([plain, connected, banned, otherChain].map(p => t.book.get(p)?.source), ['bootstrap', 'bootstrap', 'bootstrap', 'bootstrap'])
  assert.equal(t.book.get(otherChain)?.nextAttempt, 0, 'the earlier run\'s backoff is cleared')
  await until(() => t.opened.length === 2, 5_000, 'two bootstrap connections')
  assert.deepEqual(t.opened.slice().sort(), [plain, otherChain].map(String).sort())

  // in this run it says it is of another chain: left alone while that backoff lasts
  await t.book.recordOutcome(otherChain, ReasonCode.WRONG_CHAIN)
  t.discovery.reseed()
  await until(() => t.opened.length === 3, 5_000, 'a third bootstrap connection')
  assert.equal(t.opened[2], plain.toString())

  // a day later the other chain's backoff is over
  t.clock.advance(24 * 60 * 60 * 1000)
  t.discovery.reseed()
  await until(() => t.opened.length === 5, 5_000, 'two more bootstrap connections')
  assert.deepEqual(t.opened.slice(3).sort(), [plain, otherChain].map(String).sort())
  await t.discovery.stop()
  await t.book.beforeStop()
})

test('discovery: the peers a walk meets go into the book through the book, as dht contacts; a walk that meets nobody seeds the DHT again', async () => {
  const [boot, met] = await Promise.all([randomPeer(), randomPeer()])
  const walks = { intervalBelowTargetMs: 60_000 }
  const finding = await discoveryOf([boot], { dht: stubDht([{ id: met, multiaddrs: [multiaddr('/ip4/127.0.0.1/tcp/9000')] }], false), walks })
  await finding.discovery.start()
  await until(() => finding.book.get(met) != null, 5_000, 'the peer met to reach the book')
  assert.equal(finding.book.get(met)?.source, 'dht')
  await finding.discovery.stop()
  assert.deepEqual(finding.opened, [boot.toString()], 'no reseed after a walk that met someone')
  await finding.book.beforeStop()

  const empty = await discoveryOf([boot], { dht: stubDht([], false), walks })
  await empty.discovery.start()
  await until(() => empty.opened.length === 2, 5_000, 'a second bootstrap connection')
  await empty.discovery.stop()
  await empty.book.beforeStop()

  const off = await discoveryOf([boot], { dht: stubDht([{ id: met, multiaddrs: [multiaddr('/ip4/127.0.0.1/tcp/9000')] }], false), walks: false })
  await off.discovery.start()
  await new Promise(resolve => setTimeout(resolve, 50))
  assert.equal(off.book.get(met), undefined, 'walks turned off')
  await off.discovery.stop()
  await off.book.beforeStop()
})
