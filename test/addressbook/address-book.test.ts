import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { defaultLogger } from '@libp2p/logger'
import { peerIdFromMultihash, peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { LevelDatastore } from 'datastore-level'
import { base58btc } from 'multiformats/bases/base58'
import * as Digest from 'multiformats/hashes/digest'
import { Key } from 'interface-datastore'
import { PersistentAddressBook } from '../../src/addressbook/address-book.js'
import { cleanCloseBackoffMs, failureBackoffMs, resolveBackoff, type ResolvedBackoff } from '../../src/addressbook/backoff.js'
import { ADDRESS_BOOK_PREFIX, MAX_MULTIADDRS_PER_CONTACT, MAX_RECORD_SIZE_BYTES } from '../../src/addressbook/constants.js'
import { ContactRecord, ContactSource } from '../../src/addressbook/pb/addressbook.js'
import { dialCandidates, NO_SESSION } from '../../src/addressbook/candidates.js'
import { selectDials } from '../../src/dial/select.js'
import { LocalReason, ReasonCode } from '../../src/reason/index.js'
import { collectGarbage, LARGE_BUFFER_BYTES, peerIdWithDigestInLargeBuffer, settledArrayBuffers } from '../utils/memory.js'
import { seededRandom } from '../utils/random.js'
import type { AddressBookInit, Contact } from '../../src/addressbook/index.js'
import type { DialCandidates } from '../../src/addressbook/candidates.js'
import type { PeerId } from '@libp2p/interface'

const T0 = 1_700_000_000_000

async function newPeerId (): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

function addr (port: number): ReturnType<typeof multiaddr> {
  return multiaddr(`/ip4/127.0.0.1/tcp/${port}`)
}

/** a contact with comparable plain values */
function view (contact: Contact | undefined): unknown {
  if (contact == null) {
    return undefined
  }
  return { ...contact, peerId: contact.peerId.toString(), multiaddrs: contact.multiaddrs.map(ma => ma.toString()) }
}

/** a fake clock and random draw, and a way to open books on LevelDB directories */
class Harness {
  now = T0
  draw = 0
  private readonly stores: LevelDatastore[] = []
  private readonly dirs: string[] = []

  async dir (): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'peergate-addressbook-'))
    this.dirs.push(dir)
    return dir
  }

  async open (dir: string): Promise<LevelDatastore> {
    const datastore = new LevelDatastore(dir)
    await datastore.open()
    this.stores.push(datastore)
    return datastore
  }

  async book (datastore: LevelDatastore, init: AddressBookInit = {}): Promise<PersistentAddressBook> {
    const book = new PersistentAddressBook({ datastore, logger: defaultLogger() }, {
      now: () => this.now,
      random: () => this.draw,
      ...init
    })
    await book.load()
    return book
  }

  /** the book as a fresh instance reads it back from the same directory */
  async reopen (dir: string, datastore: LevelDatastore, init: AddressBookInit = {}): Promise<{ datastore: LevelDatastore, book: PersistentAddressBook }> {
    await datastore.close()
    const reopened = await this.open(dir)
    return { datastore: reopened, book: await this.book(reopened, init) }
  }

  async cleanUp (): Promise<void> {
    for (const store of this.stores) {
      await store.close().catch(() => {})
    }
    for (const dir of this.dirs) {
      await rm(dir, { recursive: true, force: true })
    }
  }
}

/**
 * The datastore with its first puts and deletes held back, each less than the
 * one before, so that writes issued together would land in reverse order
 * unless the book orders them
 */
function withReorderedWrites (datastore: LevelDatastore): LevelDatastore {
  let writes = 0
  return new Proxy(datastore, {
    get (target, property) {
      if (property === 'put' || property === 'delete') {
        const write = target[property].bind(target) as (...args: unknown[]) => Promise<unknown>
        return async (...args: unknown[]) => {
          await new Promise(resolve => setTimeout(resolve, Math.max(0, 30 - writes++)))
          return write(...args)
        }
      }
      const value = Reflect.get(target, property, target)
      return typeof value === 'function' ? value.bind(target) : value
    }
  })
}


/** the dial fields of entry `i` of the columns */
function columnsAt (candidates: DialCandidates, i: number): unknown {
  return {
    nextAttempt: candidates.nextAttempt[i],
    lastSession: candidates.lastSession[i] === NO_SESSION ? undefined : candidates.lastSession[i],
    failures: candidates.failures[i],
    lastSeen: candidates.lastSeen[i]
  }
}

function dialFields (contact: Contact | undefined): unknown {
  return contact == null ? undefined : { nextAttempt: contact.nextAttempt, lastSession: contact.lastSession, failures: contact.failures, lastSeen: contact.lastSeen }
}

type Operation = 'add' | 'addMany' | 'update' | 'updateDid' | 'remove' | 'failure' | 'session' | 'cleanClose' | 'longBackoff' | 'reload'

function sameAddresses (a: Contact, b: Contact): boolean {
  const texts = new Set(a.multiaddrs.map(String))
  return texts.size === new Set(b.multiaddrs.map(String)).size && b.multiaddrs.every(ma => texts.has(ma.toString()))
}

/**
 * The dial fields of a contact after `op` changed it, worked out from what
 * it was (`prev`, undefined when new) and, for address changes, what its
 * addresses became (`after`)
 */
function expectedDialFields (op: Operation, prev: Contact | undefined, after: Contact, now: number, draw: number, backoff: ResolvedBackoff): unknown {
  if (prev == null) {
    assert.ok(op === 'add' || op === 'addMany', `${op} does not create a contact`)
    return { nextAttempt: 0, lastSession: undefined, failures: 0, lastSeen: now }
  }
  const fields = { nextAttempt: prev.nextAttempt, lastSession: prev.lastSession, failures: prev.failures, lastSeen: prev.lastSeen }
  const reset = { failures: 0, nextAttempt: 0 }
  switch (op) {
    case 'add':
    case 'addMany':
      return { ...fields, lastSeen: now, ...(sameAddresses(prev, after) ? {} : reset) }
    case 'update':
      return { ...fields, ...(sameAddresses(prev, after) ? {} : reset) }
    case 'failure':
      return { ...fields, failures: prev.failures + 1, nextAttempt: now + Math.ceil(failureBackoffMs(prev.failures + 1, backoff, draw)) }
    case 'session':
      return { ...fields, ...reset, lastSession: now, lastSeen: now }
    case 'cleanClose':
      return { ...fields, nextAttempt: now + Math.ceil(cleanCloseBackoffMs(backoff, draw)) }
    case 'longBackoff':
      return { ...fields, failures: prev.failures + 1, nextAttempt: now + backoff.longMs }
    default:
      return fields
  }
}

/** the book's own object for `peer`, as a dial tick gets it */
function liveContact (book: PersistentAddressBook, peer: PeerId): Contact | undefined {
  const candidates = book.candidates()
  for (let i = 0; i < candidates.size; i++) {
    if (candidates.contact(i).peerId.equals(peer)) {
      return candidates.contact(i)
    }
  }
  return undefined
}

/** what a selection depends on: who, and the order of the priorities */
function picksView (picks: Contact[]): { ids: string[], keys: unknown[] } {
  return { ids: picks.map(c => c.peerId.toString()).sort(), keys: picks.map(dialFields) }
}

/**
 * The book's columns hold exactly its contacts, each entry equal to its
 * contact, and a selection over them matches one over a plain list of the
 * same contacts
 */
function assertColumnsInStep (book: PersistentAddressBook, now: number, maxDials: number, step: string): void {
  const candidates = book.candidates()
  assert.equal(candidates.size, book.size, `${step}: one entry per contact`)
  const listed = book.list()
  const ids: string[] = []
  for (let i = 0; i < candidates.size; i++) {
    const contact = candidates.contact(i)
    ids.push(contact.peerId.toString())
    assert.deepEqual(columnsAt(candidates, i), dialFields(contact), `${step}: entry ${i} equals its contact`)
    assert.deepEqual(columnsAt(candidates, i), dialFields(book.get(contact.peerId)), `${step}: entry ${i} equals the book's record`)
  }
  assert.deepEqual(ids.sort(), listed.map(c => c.peerId.toString()), `${step}: the entries are the book's contacts`)

  const [busy, banned] = listed
  const input = {
    now,
    busy: new Set(busy == null ? [] : [busy.peerId.toString()]),
    bans: new Map(banned == null ? [] : [[banned.peerId.toString(), now + 1]])
  }
  for (const max of [maxDials, listed.length + 1]) {
    const fromColumns = picksView(selectDials({ ...input, maxDials: max, contacts: candidates }))
    const fromList = picksView(selectDials({ ...input, maxDials: max, contacts: dialCandidates(listed) }))
    assert.deepEqual(fromColumns.keys, fromList.keys, `${step}: the same priorities picked, at most ${max}`)
    if (max > listed.length) {
      assert.deepEqual(fromColumns.ids, fromList.ids, `${step}: the same contacts picked`)
    }
  }
}

async function storedKeys (datastore: LevelDatastore): Promise<string[]> {
  const keys: string[] = []
  for await (const key of datastore.queryKeys({ prefix: `${ADDRESS_BOOK_PREFIX}/` })) {
    keys.push(key.toString())
  }
  return keys.sort()
}

describe('address book', () => {
  const h = new Harness()
  let peers: PeerId[]

  before(async () => {
    peers = await Promise.all(Array.from({ length: 8 }, newPeerId))
  })

  after(async () => {
    await h.cleanUp()
  })

  it('adds, gets, lists, updates and removes contacts', async () => {
    const datastore = await h.open(await h.dir())
    const book = await h.book(datastore)
    const [a, b] = peers

    const added = await book.add({ peerId: a, multiaddrs: [addr(4001)], source: 'bootstrap' })
    assert.deepEqual(view(added), {
      peerId: a.toString(),
      multiaddrs: ['/ip4/127.0.0.1/tcp/4001'],
      did: undefined,
      source: 'bootstrap',
      firstSeen: T0,
      lastSeen: T0,
      lastSession: undefined,
      failures: 0,
      nextAttempt: 0,
      backoffReason: undefined
    })
    assert.equal(book.size, 1)
    assert.deepEqual(view(book.get(a)), view(added))
    assert.equal(book.get(b), undefined)

    h.now = T0 + 10
    const refreshed = await book.add({ peerId: a, multiaddrs: [addr(4002)], source: 'dht', did: 'did:key:z6MkA' })
    assert.deepEqual(refreshed.multiaddrs.map(String), ['/ip4/127.0.0.1/tcp/4001', '/ip4/127.0.0.1/tcp/4002'])
    assert.equal(refreshed.source, 'bootstrap', 'the first source is kept')
    assert.equal(refreshed.firstSeen, T0)
    assert.equal(refreshed.lastSeen, T0 + 10)
    assert.equal(refreshed.did, 'did:key:z6MkA')
    const again = await book.add({ peerId: a, multiaddrs: [], source: 'manual', did: 'did:key:z6MkOther' })
    assert.equal(again.did, 'did:key:z6MkA', 'add does not replace a known DID')

    await book.add({ peerId: b, multiaddrs: [addr(5001)], source: 'inbound' })
    const listed = book.list()
    assert.deepEqual(listed.map(c => c.peerId.toString()), [a.toString(), b.toString()].sort())
    let n = 0
    book.forEach(() => { n++ })
    assert.equal(n, 2)

    listed[0].failures = 99
    listed[0].multiaddrs.push(addr(9))
    assert.notEqual(book.get(listed[0].peerId)?.failures, 99, 'list returns copies')

    const updated = await book.update(a, { multiaddrs: [addr(6001)], did: 'did:key:z6MkNew' })
    assert.deepEqual(updated?.multiaddrs.map(String), ['/ip4/127.0.0.1/tcp/6001'])
    assert.equal(updated?.did, 'did:key:z6MkNew')

    await book.remove(a)
    assert.equal(book.get(a), undefined)
    assert.equal(book.size, 1)
    await book.remove(a)
    assert.deepEqual(await storedKeys(datastore), [`${ADDRESS_BOOK_PREFIX}/${b.toString()}`])
  })

  it('keeps the newest addresses, at most MAX_MULTIADDRS_PER_CONTACT', async () => {
    const book = await h.book(await h.open(await h.dir()))
    const [a] = peers
    const many = Array.from({ length: MAX_MULTIADDRS_PER_CONTACT + 4 }, (_, i) => addr(7000 + i))
    await book.add({ peerId: a, multiaddrs: many.slice(0, 3), source: 'dht' })
    const contact = await book.add({ peerId: a, multiaddrs: many.slice(3), source: 'dht' })
    assert.deepEqual(contact.multiaddrs.map(String), many.slice(-MAX_MULTIADDRS_PER_CONTACT).map(String))
    const refreshed = await book.add({ peerId: a, multiaddrs: [many[5], many[5]], source: 'dht' })
    assert.equal(refreshed.multiaddrs.length, MAX_MULTIADDRS_PER_CONTACT)
    assert.equal(refreshed.multiaddrs.at(-1)?.toString(), many[5].toString(), 'a refreshed address becomes the newest')
  })

  it('keeps a contact\'s peer id and addresses in bytes of their own, not the large buffers libp2p decoded them from', async () => {
    const book = await h.book(await h.open(await h.dir()))
    const gc = collectGarbage()
    const CONTACTS = 200
    const before = await settledArrayBuffers(gc)
    const added: PeerId[] = []
    for (let i = 0; i < CONTACTS; i++) {
      // as libp2p hands them over: views into one large read each (an identify message, a DHT response, a pool slab)
      const read = new Uint8Array(LARGE_BUFFER_BYTES)
      const idBytes = (await newPeerId()).toMultihash().bytes
      const addrBytes = addr(8000 + i).bytes
      read.set(idBytes, 100)
      read.set(addrBytes, 200)
      // half decoded from a multihash; half made from a public key (exact
      // multihash bytes, but a digest that is a view into a 64 KiB buffer)
      const peer = i % 2 === 0
        ? peerIdFromMultihash(Digest.decode(read.subarray(100, 100 + idBytes.byteLength)))
        : await peerIdWithDigestInLargeBuffer()
      await book.add({ peerId: peer, multiaddrs: [multiaddr(read.subarray(200, 200 + addrBytes.byteLength))], source: 'dht' })
      added.push(peerIdFromString(peer.toString()))
    }
    const held = await settledArrayBuffers(gc) - before
    // without copies the book would hold every read: CONTACTS × 64 KiB = 12.5 MiB
    assert.ok(held < CONTACTS * LARGE_BUFFER_BYTES / 8, `the book holds ${(held / 2 ** 20).toFixed(1)} MiB of buffers for ${CONTACTS} contacts`)
    for (const [i, peer] of added.entries()) {
      assert.deepEqual(book.get(peer)?.multiaddrs.map(String), [addr(8000 + i).toString()])
    }
  })

  it('records survive close, reopen and load', async () => {
    const dir = await h.dir()
    const datastore = await h.open(dir)
    const book = await h.book(datastore)
    const [a, b, c] = peers
    await book.add({ peerId: a, multiaddrs: [addr(4001), addr(4002)], source: 'bootstrap' })
    await book.add({ peerId: b, multiaddrs: [multiaddr('/dns4/example.com/tcp/443')], source: 'dht', did: 'did:key:z6MkB' })
    await book.add({ peerId: c, multiaddrs: [], source: 'inbound' })
    await book.recordOutcome(a, ReasonCode.TIMEOUT)
    await book.recordSession(b, 'did:key:z6MkB2')
    await book.recordOutcome(b, LocalReason.SESSION_ENDED)
    const before = book.list().map(view)

    const { book: reloaded } = await h.reopen(dir, datastore)
    assert.equal(reloaded.size, 3)
    assert.deepEqual(reloaded.list().map(view), before)
  })

  it('doubles the failure wait from 1 s up to the 1 h cap on the injected clock', async () => {
    const book = await h.book(await h.open(await h.dir()))
    const [a] = peers
    await book.add({ peerId: a, multiaddrs: [addr(4001)], source: 'dht' })
    h.draw = 0
    const expected = [1000, 2000, 4000, 8000, 16_000, 32_000, 64_000, 128_000, 256_000, 512_000, 1_024_000, 2_048_000, 3_600_000, 3_600_000, 3_600_000]
    for (const [i, waitMs] of expected.entries()) {
      h.now = T0 + i * 10_000_000
      const contact = await book.recordOutcome(a, ReasonCode.TIMEOUT)
      assert.equal(contact?.failures, i + 1)
      assert.equal(contact?.nextAttempt, h.now + waitMs, `failure ${i + 1}`)
      assert.equal(contact?.backoffReason, 'TIMEOUT')
    }
    h.draw = 0.5
    const jittered = await book.recordOutcome(a, ReasonCode.BAD_SIGNATURE)
    assert.equal(jittered?.nextAttempt, h.now + 3_240_000, 'half the 20 % jitter')
    assert.equal(jittered?.backoffReason, 'BAD_SIGNATURE')
    h.draw = 0

    const session = await book.recordSession(a, 'did:key:z6MkA')
    assert.deepEqual([session?.failures, session?.nextAttempt, session?.backoffReason, session?.lastSession, session?.lastSeen, session?.did],
      [0, 0, undefined, h.now, h.now, 'did:key:z6MkA'])
    const first = await book.recordOutcome(a, ReasonCode.TIMEOUT)
    assert.equal(first?.nextAttempt, h.now + 1000, 'a session restarts the doubling')
  })

  it('waits a random 1 s to 5 s after a clean close, failures unchanged', async () => {
    const book = await h.book(await h.open(await h.dir()))
    const [a] = peers
    await book.add({ peerId: a, multiaddrs: [addr(4001)], source: 'dht' })
    await book.recordOutcome(a, ReasonCode.TIMEOUT)
    for (const [draw, waitMs] of [[0, 1000], [0.5, 3000], [0.999, 4996]]) {
      h.draw = draw
      const contact = await book.recordOutcome(a, LocalReason.SESSION_ENDED)
      assert.equal(contact?.nextAttempt, h.now + waitMs, `draw ${draw}`)
      assert.equal(contact?.backoffReason, 'SESSION_ENDED')
      assert.equal(contact?.failures, 1)
    }
    h.draw = 0
  })

  it('backs off 24 h after a DID mismatch or another chain', async () => {
    const book = await h.book(await h.open(await h.dir()))
    const [a] = peers
    await book.add({ peerId: a, multiaddrs: [addr(4001)], source: 'dht' })
    h.draw = 0.7
    const contact = await book.recordOutcome(a, ReasonCode.WRONG_CHAIN)
    h.draw = 0
    assert.equal(contact?.nextAttempt, h.now + 86_400_000)
    assert.equal(contact?.failures, 1)
    assert.equal(contact?.backoffReason, 'WRONG_CHAIN')
  })

  it('resets the backoff when the addresses change, via add or update', async () => {
    const datastore = await h.open(await h.dir())
    const book = await h.book(datastore)
    const [a] = peers
    await book.add({ peerId: a, multiaddrs: [addr(4001)], source: 'dht' })
    await book.recordOutcome(a, ReasonCode.TIMEOUT)
    await book.recordOutcome(a, ReasonCode.TIMEOUT)

    const same = await book.add({ peerId: a, multiaddrs: [addr(4001)], source: 'dht' })
    assert.equal(same.failures, 2, 'a known address keeps the backoff')
    assert.equal(same.nextAttempt, h.now + 2000)

    const moved = await book.add({ peerId: a, multiaddrs: [addr(4002)], source: 'dht' })
    assert.deepEqual([moved.failures, moved.nextAttempt, moved.backoffReason], [0, 0, undefined])

    await book.recordOutcome(a, ReasonCode.WRONG_GENESIS)
    const sameSet = await book.update(a, { multiaddrs: [addr(4002), addr(4001)] })
    assert.equal(sameSet?.failures, 1, 'the same addresses in another order keep the backoff')
    const replaced = await book.update(a, { multiaddrs: [addr(4003)] })
    assert.deepEqual([replaced?.failures, replaced?.nextAttempt, replaced?.backoffReason], [0, 0, undefined])
    const didOnly = await book.update(a, { did: 'did:key:z6MkA' })
    assert.equal(didOnly?.did, 'did:key:z6MkA')
    assert.deepEqual(didOnly?.multiaddrs.map(String), ['/ip4/127.0.0.1/tcp/4003'])
  })

  it('records every outcome through one policy: DUPLICATE changes nothing and writes nothing', async () => {
    const datastore = await h.open(await h.dir())
    let puts = 0
    const counted = new Proxy(datastore, {
      get (target, property) {
        if (property === 'put') {
          puts++
        }
        const value = Reflect.get(target, property, target)
        return typeof value === 'function' ? value.bind(target) : value
      }
    })
    const book = await h.book(counted)
    const [a] = peers
    await book.add({ peerId: a, multiaddrs: [addr(4001)], source: 'dht' })
    const failed = await book.recordOutcome(a, LocalReason.DIAL_FAILED)
    assert.deepEqual([failed?.failures, failed?.nextAttempt, failed?.backoffReason], [1, h.now + 1000, LocalReason.DIAL_FAILED])
    const written = puts
    const duplicate = await book.recordOutcome(a, ReasonCode.DUPLICATE)
    assert.deepEqual(view(duplicate), view(failed))
    assert.deepEqual(view(book.get(a)), view(failed))
    assert.equal(puts, written, 'no write')
  })

  it('returns undefined and writes nothing for an unknown peer', async () => {
    const datastore = await h.open(await h.dir())
    const book = await h.book(datastore)
    const [a, stranger] = peers
    await book.add({ peerId: a, multiaddrs: [addr(4001)], source: 'dht' })
    assert.equal(await book.update(stranger, { did: 'did:key:z6MkX' }), undefined)
    assert.equal(await book.recordOutcome(stranger, ReasonCode.TIMEOUT), undefined)
    assert.equal(await book.recordSession(stranger, 'did:key:z6MkX'), undefined)
    assert.equal(await book.recordOutcome(stranger, LocalReason.SESSION_ENDED), undefined)
    assert.equal(await book.recordOutcome(stranger, ReasonCode.WRONG_CHAIN), undefined)
    await book.remove(stranger)
    assert.deepEqual(await storedKeys(datastore), [`${ADDRESS_BOOK_PREFIX}/${a.toString()}`])
    assert.equal(book.size, 1)
  })

  it('when full, evicts no-session contacts first, then the most failing, then the stalest', async () => {
    const dir = await h.dir()
    const datastore = await h.open(dir)
    const book = await h.book(datastore, { maxContacts: 3 })
    const [withSession, failing, stale, d, e, f] = peers

    h.now = T0
    await book.add({ peerId: stale, multiaddrs: [addr(1)], source: 'dht' })
    h.now = T0 + 1000
    await book.add({ peerId: withSession, multiaddrs: [addr(2)], source: 'bootstrap' })
    await book.recordOutcome(withSession, ReasonCode.TIMEOUT)
    await book.recordOutcome(withSession, ReasonCode.TIMEOUT)
    await book.recordOutcome(withSession, ReasonCode.TIMEOUT)
    await book.recordSession(withSession, 'did:key:z6MkS')
    await book.recordOutcome(withSession, ReasonCode.TIMEOUT)
    await book.recordOutcome(withSession, ReasonCode.TIMEOUT)
    await book.recordOutcome(withSession, ReasonCode.TIMEOUT)
    await book.add({ peerId: failing, multiaddrs: [addr(3)], source: 'dht' })
    await book.recordOutcome(failing, ReasonCode.TIMEOUT)
    await book.recordOutcome(failing, ReasonCode.TIMEOUT)

    const ids = (): string[] => book.list().map(c => c.peerId.toString()).sort()

    h.now = T0 + 2000
    await book.add({ peerId: d, multiaddrs: [addr(4)], source: 'dht' })
    assert.deepEqual(ids(), [withSession, stale, d].map(String).sort(), 'the failing contact goes first')

    h.now = T0 + 3000
    await book.add({ peerId: e, multiaddrs: [addr(5)], source: 'dht' })
    assert.deepEqual(ids(), [withSession, d, e].map(String).sort(), 'then the stalest')

    h.now = T0 + 4000
    await book.add({ peerId: f, multiaddrs: [addr(6)], source: 'dht' })
    assert.deepEqual(ids(), [withSession, e, f].map(String).sort(), 'a contact that had a session survives')

    await book.add({ peerId: f, multiaddrs: [addr(7)], source: 'dht' })
    assert.equal(book.size, 3, 'refreshing a known contact evicts nothing')

    const { book: reloaded } = await h.reopen(dir, datastore, { maxContacts: 3 })
    assert.deepEqual(reloaded.list().map(c => c.peerId.toString()).sort(), ids(), 'evictions reach the datastore')
  })

  it('trims to maxContacts on load, worst first', async () => {
    const dir = await h.dir()
    const datastore = await h.open(dir)
    const book = await h.book(datastore, { maxContacts: 10 })
    const [a, b, c] = peers
    await book.addMany([
      { peerId: a, multiaddrs: [addr(1)], source: 'dht' },
      { peerId: b, multiaddrs: [addr(2)], source: 'dht' },
      { peerId: c, multiaddrs: [addr(3)], source: 'dht' }
    ])
    await book.recordSession(a, 'did:key:z6MkA')
    await book.recordOutcome(c, ReasonCode.TIMEOUT)
    const { datastore: reopened, book: small } = await h.reopen(dir, datastore, { maxContacts: 1 })
    assert.deepEqual(small.list().map(c => c.peerId.toString()), [a.toString()])
    assert.deepEqual(await storedKeys(reopened), [`${ADDRESS_BOOK_PREFIX}/${a.toString()}`])
  })

  it('skips unreadable records on load and loads the rest', async () => {
    const dir = await h.dir()
    const datastore = await h.open(dir)
    const book = await h.book(datastore)
    const [a, b, c, d] = peers
    await book.add({ peerId: a, multiaddrs: [addr(4001)], source: 'bootstrap' })
    await book.add({ peerId: b, multiaddrs: [addr(4002)], source: 'dht' })
    const good = book.list().map(view)

    const prefix = ADDRESS_BOOK_PREFIX
    const valid = (peer: PeerId, source = ContactSource.CONTACT_SOURCE_DHT): Uint8Array => ContactRecord.encode({
      peerId: peer.toMultihash().bytes as Uint8Array<ArrayBuffer>,
      multiaddrs: [addr(1).bytes],
      source,
      firstSeen: T0,
      lastSeen: T0,
      failures: 0,
      nextAttempt: 0
    })
    await datastore.put(new Key(`${prefix}/garbage`), Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x12]))
    await datastore.put(new Key(`${prefix}/${c.toString()}`), Uint8Array.from([0x0a, 0x03, 0x00, 0x01, 0x02]))
    await datastore.put(new Key(`${prefix}/${c.toString()}x`), valid(c))
    await datastore.put(new Key(`${prefix}/${peers[4].toString()}`), valid(peers[5]))
    await datastore.put(new Key(`${prefix}/unknown-source`), Uint8Array.from([...valid(d), 0x20, 0x09]))
    await datastore.put(new Key(`${prefix}/oversized`), new Uint8Array(MAX_RECORD_SIZE_BYTES + 1))
    const tooMany = ContactRecord.encode({
      peerId: d.toMultihash().bytes as Uint8Array<ArrayBuffer>,
      multiaddrs: Array.from({ length: MAX_MULTIADDRS_PER_CONTACT + 1 }, (_, i) => addr(i).bytes),
      source: ContactSource.CONTACT_SOURCE_DHT
    })
    await datastore.put(new Key(`${prefix}/${d.toString()}`), tooMany)
    await datastore.put(new Key(`${prefix}/empty`), new Uint8Array(0))
    // peer id bytes that name their own key but are no peer id (a multihash of code 01): it loaded, and list() threw on it
    const noPeerId = Uint8Array.of(0x01, 0x24, 0x08, 0x01, 0x12, 0x20, ...new Uint8Array(32).fill(9))
    await datastore.put(new Key(`${prefix}/${base58btc.encode(noPeerId).slice(1)}`), ContactRecord.encode({ peerId: noPeerId, multiaddrs: [], source: ContactSource.CONTACT_SOURCE_DHT }))
    await datastore.put(new Key(`${prefix}x/${d.toString()}`), valid(d))

    const { book: reloaded } = await h.reopen(dir, datastore)
    assert.deepEqual(reloaded.list().map(view), good)

    const recovered = await reloaded.add({ peerId: c, multiaddrs: [addr(4003)], source: 'manual' })
    assert.equal(recovered.failures, 0, 'a peer whose record was unreadable can be added again')
  })

  it('rejects bad settings with InvalidParametersError', async () => {
    const datastore = await h.open(await h.dir())
    for (const maxContacts of [0, -1, 1.5, Number.NaN]) {
      assert.throws(() => new PersistentAddressBook({ datastore, logger: defaultLogger() }, { maxContacts }), { name: 'InvalidParametersError' }, String(maxContacts))
    }
    assert.throws(() => new PersistentAddressBook({ datastore, logger: defaultLogger() }, { backoff: { jitter: 2 } }), { name: 'InvalidParametersError' })
  })

  it('rejects a DID or reason too long to store, before changing anything', async () => {
    const book = await h.book(await h.open(await h.dir()), { maxContacts: 1 })
    const [a, b] = peers
    await book.add({ peerId: a, multiaddrs: [addr(1)], source: 'dht' })
    await assert.rejects(book.add({ peerId: b, multiaddrs: [], source: 'dht', did: 'x'.repeat(5000) }), { name: 'InvalidParametersError' })
    await assert.rejects(book.add({ peerId: b, multiaddrs: [], source: 'nowhere' as 'dht' }), { name: 'InvalidParametersError' })
    assert.deepEqual(book.list().map(c => c.peerId.toString()), [a.toString()], 'nothing was evicted')
    await assert.rejects(book.recordOutcome(a, 'R'.repeat(65) as ReasonCode), { name: 'InvalidParametersError' })
    assert.equal(book.get(a)?.failures, 0)
  })

  it('takes a DID of 1 to 2048 UTF-8 bytes, the handshake\'s limit, and stores it whole', async () => {
    const dir = await h.dir()
    const datastore = await h.open(dir)
    const book = await h.book(datastore)
    const [a, b] = peers
    await book.add({ peerId: a, multiaddrs: [addr(1)], source: 'dht' })
    const cases: Array<[string, string, boolean]> = [
      ['1 byte', 'x', true],
      ['1512 ASCII bytes (over the old limit of 1024 characters)', 'did:example:' + 'a'.repeat(1500), true],
      ['2048 ASCII bytes', 'did:example:' + 'a'.repeat(2036), true],
      ['2048 bytes in 2-byte characters (1030 characters)', 'did:example:' + 'é'.repeat(1018), true],
      ['2049 ASCII bytes', 'did:example:' + 'a'.repeat(2037), false],
      ['2049 bytes, 1031 characters', 'did:example:' + 'é'.repeat(1018) + 'a', false],
      ['empty', '', false]
    ]
    for (const [name, did, ok] of cases) {
      if (ok) {
        assert.equal((await book.recordSession(a, did))?.did, did, name)
      } else {
        await assert.rejects(book.recordSession(a, did), { name: 'InvalidParametersError' }, name)
        await assert.rejects(book.add({ peerId: b, multiaddrs: [], source: 'dht', did }), { name: 'InvalidParametersError' }, name)
      }
    }
    const longest = 'did:example:' + 'é'.repeat(1018)
    await book.recordSession(a, longest)
    const { book: reloaded } = await h.reopen(dir, datastore)
    assert.equal(reloaded.get(a)?.did, longest, 'the longest DID survives a reload')
  })

  it('serialises concurrent writes of one contact: the stored record equals the in-memory one', async () => {
    const dir = await h.dir()
    const datastore = await h.open(dir)
    const book = await h.book(withReorderedWrites(datastore))
    const [a, b] = peers
    await book.add({ peerId: a, multiaddrs: [addr(4001)], source: 'dht' })
    await book.add({ peerId: b, multiaddrs: [addr(5001)], source: 'dht' })

    const pending: Array<Promise<unknown>> = []
    for (let i = 0; i < 50; i++) {
      h.now = T0 + i
      h.draw = (i % 10) / 10
      pending.push(book.recordOutcome(a, ReasonCode.TIMEOUT))
      pending.push(book.add({ peerId: a, multiaddrs: [addr(4001 + (i % 3))], source: 'dht' }))
      if (i % 7 === 0) {
        pending.push(book.recordSession(a, `did:key:z6Mk${i}`))
      }
      if (i % 5 === 0) {
        pending.push(book.recordOutcome(a, LocalReason.SESSION_ENDED))
        pending.push(book.update(b, { multiaddrs: [addr(5000 + i)] }))
      }
      if (i === 20) {
        pending.push(book.remove(b))
      }
      if (i === 30) {
        pending.push(book.add({ peerId: b, multiaddrs: [addr(5999)], source: 'manual' }))
        pending.push(book.recordOutcome(a, ReasonCode.WRONG_CHAIN))
      }
    }
    h.draw = 0
    await Promise.all(pending)
    await book.flush()
    const inMemory = book.list().map(view)

    const { book: reloaded } = await h.reopen(dir, datastore)
    assert.deepEqual(reloaded.list().map(view), inMemory)
  })

  it('keeps its dial columns in step with its contacts through every kind of change', async () => {
    const random = seededRandom(0x5eed)
    const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)]
    const addrs = (): Array<ReturnType<typeof multiaddr>> => Array.from({ length: Math.floor(random() * 3) }, () => addr(4000 + Math.floor(random() * 4)))
    const pool = [...peers, ...await Promise.all(Array.from({ length: 8 }, newPeerId))]
    const backoff = resolveBackoff()
    const dir = await h.dir()
    let datastore = await h.open(dir)
    let book = await h.book(datastore, { maxContacts: 10 })
    const counts = new Map<Operation, number>()

    for (let step = 0; step < 400; step++) {
      h.now += Math.floor(random() * 3000)
      h.draw = random()
      const now = h.now
      const peer = pick(pool)
      const op = pick<Operation>(['add', 'add', 'addMany', 'update', 'updateDid', 'remove', 'failure', 'failure', 'session', 'cleanClose', 'longBackoff', 'reload'])
      counts.set(op, (counts.get(op) ?? 0) + 1)
      const before = new Map(book.list().map(c => [c.peerId.toString(), c]))
      const held = liveContact(book, peer)
      const heldBefore = dialFields(held)
      const touched = new Set([peer.toString()])
      switch (op) {
        case 'add':
          await book.add({ peerId: peer, multiaddrs: addrs(), source: 'dht' })
          break
        case 'addMany': {
          const batch = Array.from({ length: 1 + Math.floor(random() * 6) }, () => ({ peerId: pick(pool), multiaddrs: addrs(), source: 'dht' as const }))
          touched.clear()
          batch.forEach(c => touched.add(c.peerId.toString()))
          await book.addMany(batch)
          break
        }
        case 'update':
          await book.update(peer, { multiaddrs: addrs() })
          break
        case 'updateDid':
          await book.update(peer, { did: `did:key:z6Mk${step}` })
          break
        case 'remove':
          await book.remove(peer)
          assert.deepEqual(dialFields(held), heldBefore, 'a removed contact keeps its values for whoever holds it')
          break
        case 'failure':
          await book.recordOutcome(peer, ReasonCode.TIMEOUT)
          break
        case 'session':
          await book.recordSession(peer, `did:key:z6Mk${step}`)
          break
        case 'cleanClose':
          await book.recordOutcome(peer, LocalReason.SESSION_ENDED)
          break
        case 'longBackoff':
          await book.recordOutcome(peer, ReasonCode.WRONG_CHAIN)
          break
        case 'reload': {
          touched.clear()
          const reopened = await h.reopen(dir, datastore, { maxContacts: 4 + Math.floor(random() * 8) })
          datastore = reopened.datastore
          book = reopened.book
          break
        }
      }

      // the model: what each change does to the dial fields, from the contacts as they were
      for (const contact of book.list()) {
        const id = contact.peerId.toString()
        const prev = before.get(id)
        const expected = touched.has(id) ? expectedDialFields(op, prev, contact, now, h.draw, backoff) : dialFields(prev)
        assert.deepEqual(dialFields(contact), expected, `step ${step} (${op}): ${id === peer.toString() ? 'the target' : 'another contact'}`)
      }
      assertColumnsInStep(book, now - Math.floor(random() * 20_000), 1 + Math.floor(random() * 4), `step ${step} (${op})`)
    }
    assert.ok(book.size > 0)
    assert.ok([...counts.values()].every(n => n > 10), 'every kind of change ran')
    h.now = T0
    h.draw = 0
  })

  it('addMany writes many contacts in one batch and refreshes known ones', async () => {
    const dir = await h.dir()
    const datastore = await h.open(dir)
    const book = await h.book(datastore)
    await book.add({ peerId: peers[0], multiaddrs: [addr(1)], source: 'bootstrap' })
    await book.recordOutcome(peers[0], ReasonCode.TIMEOUT)
    h.now = T0 + 50
    await book.addMany(peers.map((peerId, i) => ({ peerId, multiaddrs: [addr(i + 1)], source: 'dht' as const })))
    assert.equal(book.size, peers.length)
    const first = book.get(peers[0])
    assert.deepEqual([first?.source, first?.failures, first?.lastSeen], ['bootstrap', 1, T0 + 50])
    const inMemory = book.list().map(view)
    const { book: reloaded } = await h.reopen(dir, datastore)
    assert.deepEqual(reloaded.list().map(view), inMemory)
  })
})
