import { InvalidMessageError, InvalidParametersError } from '@libp2p/interface'
import { peerIdFromMultihash } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { Key } from 'interface-datastore'
import * as Digest from 'multiformats/hashes/digest'
import { NO_SESSION } from '../dial/select.js'
import { cleanCloseBackoffMs, failureBackoffMs, resolveBackoff, type ResolvedBackoff } from './backoff.js'
import {
  ADDRESS_BOOK_PREFIX,
  CLEAN_CLOSE_BACKOFF_REASON,
  DEFAULT_MAX_CONTACTS,
  MAX_BACKOFF_REASON_LENGTH,
  MAX_DID_LENGTH,
  MAX_FAILURE_COUNT,
  MAX_MULTIADDR_SIZE_BYTES,
  MAX_MULTIADDRS_PER_CONTACT,
  MAX_RECORD_SIZE_BYTES
} from './constants.js'
import { ContactRecord, ContactSource as ContactSourceCode } from './pb/addressbook.js'
import type { DialCandidates } from '../dial/select.js'
import type { AddressBook, AddressBookInit, BackoffReason, Contact, ContactSource, NewContact } from './index.js'
import type { AbortOptions, ComponentLogger, Logger, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Datastore } from 'interface-datastore'

export interface AddressBookComponents {
  datastore: Datastore
  logger: ComponentLogger
}

const SOURCE_CODES: Record<ContactSource, ContactSourceCode> = {
  bootstrap: ContactSourceCode.BOOTSTRAP,
  dht: ContactSourceCode.DHT,
  manual: ContactSourceCode.MANUAL,
  inbound: ContactSourceCode.INBOUND
}

const SOURCES = new Map<ContactSourceCode, ContactSource>(
  Object.entries(SOURCE_CODES).map(([source, code]) => [code, source as ContactSource])
)

/**
 * The address book kept in memory and mirrored to the datastore, one record
 * per contact.
 *
 * In memory, the numbers a dial tick compares (nextAttempt, lastSession,
 * failures, lastSeen) live in dense typed arrays, one slot per contact
 * (`ContactColumns`), which the contact objects read and write through
 * accessors: every change of a contact keeps them in step, and
 * `candidates()` hands them to the dial tick without visiting 100,000 objects.
 *
 * Every change updates the in-memory contact first, then writes that contact's
 * whole record with one `put` (atomic per key), so a kill -9 loses at most the
 * write in flight. Writes of one contact run one after the other and each
 * writes the contact as it is when the write starts, so once they settle the
 * stored record equals the in-memory one. A write that fails (datastore
 * closed, aborted) rejects the call that scheduled it; memory keeps the change
 * and the contact's next write stores it.
 */
export class PersistentAddressBook implements AddressBook {
  private readonly datastore: Datastore
  private readonly log: Logger
  private readonly maxContacts: number
  private readonly backoff: ResolvedBackoff
  private readonly now: () => number
  private readonly random: () => number
  /** by peer id string; each holds a slot of `columns` */
  private contacts = new Map<string, StoredContact>()
  /** the fields a dial tick compares, one slot per contact */
  private columns = new ContactColumns()
  /** per peer id string, the last write scheduled (never rejects); the next one chains on it */
  private readonly writes = new Map<string, Promise<void>>()

  constructor (components: AddressBookComponents, init: AddressBookInit = {}) {
    this.datastore = components.datastore
    this.log = components.logger.forComponent('peergate:addressbook')
    this.maxContacts = init.maxContacts ?? DEFAULT_MAX_CONTACTS
    if (!Number.isSafeInteger(this.maxContacts) || this.maxContacts < 1) {
      throw new RangeError(`maxContacts must be an integer ≥ 1, got ${this.maxContacts}`)
    }
    this.backoff = resolveBackoff(init.backoff)
    this.now = init.now ?? Date.now
    this.random = init.random ?? Math.random
  }

  get size (): number {
    return this.contacts.size
  }

  /**
   * Replaces the in-memory book with the stored records. A record that cannot
   * be read (oversized, corrupt, of an unknown source, filed under another
   * peer id) is logged and skipped, and stays in the datastore untouched.
   * When more than maxContacts records load, the worst are evicted.
   */
  async load (options?: AbortOptions): Promise<void> {
    const loaded = new Map<string, StoredContact>()
    const columns = new ContactColumns()
    const chunks = new RecordChunks()
    let skipped = 0
    for await (const { key, value } of this.datastore.query({ prefix: `${ADDRESS_BOOK_PREFIX}/` }, options)) {
      try {
        const id = key.toString().slice(ADDRESS_BOOK_PREFIX.length + 1)
        loaded.set(id, decodeContact(id, value, columns, chunks))
      } catch (err) {
        skipped++
        this.log.error('skipping unreadable address book record %s - %e', key.toString(), err)
      }
    }
    // contacts of the replaced book keep their values in the old columns, which nothing changes any more
    this.contacts = loaded
    this.columns = columns
    const evicted = this.trim()
    this.log('loaded %d contacts, skipped %d unreadable, evicted %d over the limit', this.contacts.size, skipped, evicted.length)
    if (evicted.length > 0) {
      await this.persistMany(evicted, options)
    }
  }

  get (peer: PeerId): Contact | undefined {
    const contact = this.contacts.get(peer.toString())
    return contact == null ? undefined : copyContact(contact)
  }

  /** copies of every contact, sorted by peer id string */
  list (): Contact[] {
    return [...this.contacts.entries()]
      .sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)
      .map(([, contact]) => copyContact(contact))
  }

  forEach (fn: (contact: Contact) => void): void {
    this.columns.forEach(fn)
  }

  candidates (): DialCandidates {
    return this.columns
  }

  async add (contact: NewContact, options?: AbortOptions): Promise<Contact> {
    checkNewContact(contact)
    const id = contact.peerId.toString()
    const writes: Array<Promise<void>> = []
    if (!this.contacts.has(id) && this.contacts.size >= this.maxContacts) {
      const evicted = this.evictOne()
      this.log('address book full, evicted %s', evicted)
      writes.push(this.persist(evicted, options))
    }
    const stored = this.upsert(id, contact, this.clock())
    const result = copyContact(stored)
    writes.push(this.persist(id, options))
    await Promise.all(writes)
    return result
  }

  /**
   * Adds or refreshes many contacts at once, as `add` does each, and writes
   * them with one datastore batch (for set-up and imports). When the book then
   * holds more than maxContacts, the worst contacts (new ones included) are
   * evicted.
   */
  async addMany (contacts: Iterable<NewContact>, options?: AbortOptions): Promise<void> {
    const all = [...contacts]
    all.forEach(checkNewContact)
    const now = this.clock()
    const ids = new Set<string>()
    for (const contact of all) {
      const id = contact.peerId.toString()
      this.upsert(id, contact, now)
      ids.add(id)
    }
    for (const id of this.trim()) {
      ids.add(id)
    }
    await this.persistMany([...ids], options)
  }

  async update (peer: PeerId, patch: { multiaddrs?: Multiaddr[], did?: string }, options?: AbortOptions): Promise<Contact | undefined> {
    const id = peer.toString()
    const contact = this.contacts.get(id)
    if (contact == null) {
      return undefined
    }
    checkDid(patch.did)
    let changed = false
    if (patch.multiaddrs != null) {
      const multiaddrs = mergeMultiaddrs([], this.acceptable(patch.multiaddrs, peer))
      if (!sameSet(contact.multiaddrs, multiaddrs)) {
        resetBackoff(contact)
        changed = true
      } else if (!sameSequence(contact.multiaddrs, multiaddrs)) {
        changed = true
      }
      contact.multiaddrs = multiaddrs
    }
    if (patch.did != null && patch.did !== contact.did) {
      contact.did = patch.did
      changed = true
    }
    const result = copyContact(contact)
    if (changed) {
      await this.persist(id, options)
    }
    return result
  }

  async remove (peer: PeerId, options?: AbortOptions): Promise<void> {
    const id = peer.toString()
    if (!this.forget(id)) {
      return
    }
    await this.persist(id, options)
  }

  async recordFailure (peer: PeerId, reason: BackoffReason, options?: AbortOptions): Promise<Contact | undefined> {
    checkReason(reason)
    return this.mutate(peer, options, (contact, now) => {
      contact.failures = Math.min(contact.failures + 1, MAX_FAILURE_COUNT)
      contact.nextAttempt = now + Math.ceil(failureBackoffMs(contact.failures, this.backoff, this.random()))
      contact.backoffReason = reason
    })
  }

  async recordSession (peer: PeerId, did: string, options?: AbortOptions): Promise<Contact | undefined> {
    checkDid(did)
    return this.mutate(peer, options, (contact, now) => {
      resetBackoff(contact)
      contact.lastSession = now
      contact.lastSeen = now
      contact.did = did
    })
  }

  async recordCleanClose (peer: PeerId, options?: AbortOptions): Promise<Contact | undefined> {
    return this.mutate(peer, options, (contact, now) => {
      contact.nextAttempt = now + Math.ceil(cleanCloseBackoffMs(this.backoff, this.random()))
      contact.backoffReason = CLEAN_CLOSE_BACKOFF_REASON
    })
  }

  async recordLongBackoff (peer: PeerId, reason: BackoffReason, options?: AbortOptions): Promise<Contact | undefined> {
    checkReason(reason)
    return this.mutate(peer, options, (contact, now) => {
      contact.failures = Math.min(contact.failures + 1, MAX_FAILURE_COUNT)
      contact.nextAttempt = now + Math.ceil(this.backoff.longMs)
      contact.backoffReason = reason
    })
  }

  /** resolves once every write scheduled so far has settled (for shutdown and tests) */
  async flush (): Promise<void> {
    await Promise.all(this.writes.values())
  }

  private clock (): number {
    return Math.floor(this.now())
  }

  /** removes a contact from memory (its slot too); false when unknown */
  private forget (id: string): boolean {
    const contact = this.contacts.get(id)
    if (contact == null) {
      return false
    }
    this.contacts.delete(id)
    contact.detach()
    return true
  }

  private async mutate (peer: PeerId, options: AbortOptions | undefined, change: (contact: Contact, now: number) => void): Promise<Contact | undefined> {
    const id = peer.toString()
    const contact = this.contacts.get(id)
    if (contact == null) {
      return undefined
    }
    change(contact, this.clock())
    const result = copyContact(contact)
    await this.persist(id, options)
    return result
  }

  /** adds or refreshes one checked contact in memory, as documented by AddressBook.add */
  private upsert (id: string, contact: NewContact, now: number): StoredContact {
    const incoming = this.acceptable(contact.multiaddrs, contact.peerId)
    const known = this.contacts.get(id)
    if (known == null) {
      const created = makeContact(this.columns, {
        peerId: contact.peerId,
        multiaddrs: mergeMultiaddrs([], incoming),
        did: contact.did,
        source: contact.source,
        firstSeen: now,
        lastSeen: now,
        lastSession: undefined,
        failures: 0,
        nextAttempt: 0,
        backoffReason: undefined
      })
      this.contacts.set(id, created)
      return created
    }
    const multiaddrs = mergeMultiaddrs(known.multiaddrs, incoming)
    if (!sameSet(known.multiaddrs, multiaddrs)) {
      resetBackoff(known)
    }
    known.multiaddrs = multiaddrs
    known.lastSeen = now
    if (known.did == null && contact.did != null) {
      known.did = contact.did
    }
    return known
  }

  /** drops (and logs) the addresses too long to store */
  private acceptable (multiaddrs: Multiaddr[], peer: PeerId): Multiaddr[] {
    return multiaddrs.filter(ma => {
      if (ma.bytes.byteLength <= MAX_MULTIADDR_SIZE_BYTES) {
        return true
      }
      this.log('ignoring an address of %d bytes for %p', ma.bytes.byteLength, peer)
      return false
    })
  }

  /** removes the worst contact from memory and returns its id; the book must not be empty */
  private evictOne (): string {
    let worstId: string | undefined
    let worst: Contact | undefined
    for (const [id, contact] of this.contacts) {
      if (worst == null || compareEviction(contact, worst) < 0) {
        worst = contact
        worstId = id
      }
    }
    if (worstId == null) {
      throw new RangeError('cannot evict from an empty address book')
    }
    this.forget(worstId)
    return worstId
  }

  /** evicts the worst contacts from memory until at most maxContacts remain; returns their ids */
  private trim (): string[] {
    const excess = this.contacts.size - this.maxContacts
    if (excess <= 0) {
      return []
    }
    const evicted = [...this.contacts.entries()]
      .sort(([, a], [, b]) => compareEviction(a, b))
      .slice(0, excess)
      .map(([id]) => id)
    for (const id of evicted) {
      this.forget(id)
    }
    return evicted
  }

  /** schedules a write of one contact as memory holds it when the write runs: a put, or a delete once it is gone */
  private async persist (id: string, options?: AbortOptions): Promise<void> {
    return this.schedule([id], async () => {
      const key = contactKey(id)
      const contact = this.contacts.get(id)
      if (contact == null) {
        await this.datastore.delete(key, options)
      } else {
        await this.datastore.put(key, encodeContact(contact), options)
      }
    })
  }

  /** as persist, for many contacts in one datastore batch */
  private async persistMany (ids: string[], options?: AbortOptions): Promise<void> {
    return this.schedule(ids, async () => {
      const batch = this.datastore.batch()
      for (const id of ids) {
        const contact = this.contacts.get(id)
        if (contact == null) {
          batch.delete(contactKey(id))
        } else {
          batch.put(contactKey(id), encodeContact(contact))
        }
      }
      await batch.commit(options)
    })
  }

  /** runs `write` after the writes already scheduled for these contacts; the result rejects when it fails */
  private async schedule (ids: string[], write: () => Promise<void>): Promise<void> {
    const previous: Array<Promise<void>> = []
    for (const id of ids) {
      const pending = this.writes.get(id)
      if (pending != null) {
        previous.push(pending)
      }
    }
    const result = (previous.length === 0 ? Promise.resolve() : Promise.all(previous)).then(write)
    // the chain only orders writes: a failure reaches the caller through `result`
    const settled = result.then(() => {}, () => {})
    for (const id of ids) {
      this.writes.set(id, settled)
    }
    void settled.then(() => {
      for (const id of ids) {
        if (this.writes.get(id) === settled) {
          this.writes.delete(id)
        }
      }
    })
    return result
  }
}

/** Slots the columns of a book start with; they double when full */
const INITIAL_COLUMN_SLOTS = 64

/**
 * The numbers a dial tick compares, for every contact of a book, in dense
 * typed arrays (one slot per contact, slots 0 to size - 1), plus the contacts
 * themselves by slot. Removing a contact moves the last slot into its place.
 * It is the book's `DialCandidates` view.
 */
class ContactColumns implements DialCandidates {
  size = 0
  nextAttempt: Float64Array
  /** NO_SESSION when never (so a session time of exactly -1 ms reads back as none) */
  lastSession: Float64Array
  failures: Uint32Array
  lastSeen: Float64Array
  private readonly contacts: StoredContact[] = []

  constructor (slots = INITIAL_COLUMN_SLOTS) {
    this.nextAttempt = new Float64Array(slots)
    this.lastSession = new Float64Array(slots)
    this.failures = new Uint32Array(slots)
    this.lastSeen = new Float64Array(slots)
  }

  contact (slot: number): Contact {
    return this.contacts[slot]
  }

  forEach (fn: (contact: Contact) => void): void {
    for (let slot = 0; slot < this.size; slot++) {
      fn(this.contacts[slot])
    }
  }

  /** a new slot holding `contact` with these numbers; returns it */
  append (contact: StoredContact, fields: DialFields): number {
    if (this.size === this.nextAttempt.length) {
      this.grow()
    }
    const slot = this.size++
    this.contacts.push(contact)
    this.nextAttempt[slot] = fields.nextAttempt
    this.lastSession[slot] = fields.lastSession ?? NO_SESSION
    this.failures[slot] = fields.failures
    this.lastSeen[slot] = fields.lastSeen
    return slot
  }

  /** frees `slot`: the contact of the last slot moves into it */
  release (slot: number): void {
    const last = --this.size
    const moved = this.contacts[last]
    this.contacts.pop()
    if (slot === last) {
      return
    }
    this.contacts[slot] = moved
    moved.slot = slot
    this.nextAttempt[slot] = this.nextAttempt[last]
    this.lastSession[slot] = this.lastSession[last]
    this.failures[slot] = this.failures[last]
    this.lastSeen[slot] = this.lastSeen[last]
  }

  private grow (): void {
    const slots = this.nextAttempt.length * 2
    this.nextAttempt = filledWith(new Float64Array(slots), this.nextAttempt)
    this.lastSession = filledWith(new Float64Array(slots), this.lastSession)
    this.failures = filledWith(new Uint32Array(slots), this.failures)
    this.lastSeen = filledWith(new Float64Array(slots), this.lastSeen)
  }
}

/** `target` with `source` copied to its start */
function filledWith<T extends Float64Array | Uint32Array> (target: T, source: ArrayLike<number>): T {
  target.set(source)
  return target
}

/** the fields a contact keeps in its book's columns */
type DialFields = Pick<Contact, 'nextAttempt' | 'lastSession' | 'failures' | 'lastSeen'>

/**
 * A contact as the book holds it. Loading 100,000 records must stay within a
 * second and a dial tick must scan them in milliseconds, so the costly parts
 * are decoded on first use: the peer id (its public key) and the addresses
 * stay in a copy of the stored record (RecordChunks) until someone reads
 * them; and the fields a dial tick
 * compares live in a slot of the book's columns, read and written through
 * accessors, so that every change keeps the columns in step.
 */
class StoredContact implements Contact {
  did: string | undefined
  source: ContactSource
  firstSeen: number
  backoffReason: BackoffReason | undefined
  /** the columns holding this contact's dial fields: its book's, or its own once removed */
  private columns: ContactColumns
  /** its slot in `columns`; ContactColumns moves it */
  slot: number
  private peerIdValue: PeerId | undefined
  private multiaddrsValue: Multiaddr[] | undefined
  /** the record this contact was loaded from, while its peer id or addresses are undecoded */
  private record: Uint8Array | undefined
  private recordOffset: number
  private recordLength: number

  constructor (columns: ContactColumns, fields: Omit<Contact, 'peerId' | 'multiaddrs'>, origin: Pick<Contact, 'peerId' | 'multiaddrs'> | RecordCopy) {
    this.did = fields.did
    this.source = fields.source
    this.firstSeen = fields.firstSeen
    this.backoffReason = fields.backoffReason
    this.columns = columns
    this.slot = columns.append(this, fields)
    if ('chunk' in origin) {
      this.record = origin.chunk
      this.recordOffset = origin.offset
      this.recordLength = origin.length
    } else {
      this.peerIdValue = origin.peerId
      this.multiaddrsValue = origin.multiaddrs
      this.recordOffset = 0
      this.recordLength = 0
    }
  }

  get nextAttempt (): number {
    return this.columns.nextAttempt[this.slot]
  }

  set nextAttempt (value: number) {
    this.columns.nextAttempt[this.slot] = value
  }

  get lastSession (): number | undefined {
    const value = this.columns.lastSession[this.slot]
    return value === NO_SESSION ? undefined : value
  }

  set lastSession (value: number | undefined) {
    this.columns.lastSession[this.slot] = value ?? NO_SESSION
  }

  get failures (): number {
    return this.columns.failures[this.slot]
  }

  set failures (value: number) {
    this.columns.failures[this.slot] = value
  }

  get lastSeen (): number {
    return this.columns.lastSeen[this.slot]
  }

  set lastSeen (value: number) {
    this.columns.lastSeen[this.slot] = value
  }

  /**
   * Takes the contact out of its book's columns into columns of its own, so
   * that whoever still holds it (a dial in flight) reads its last values
   */
  detach (): void {
    const own = new ContactColumns(1)
    const slot = this.slot
    const book = this.columns
    this.slot = own.append(this, this)
    this.columns = own
    book.release(slot)
  }

  get peerId (): PeerId {
    if (this.peerIdValue == null) {
      // checked at load: the peer id is a multihash that names the record's key
      this.peerIdValue = peerIdFromMultihash(Digest.decode(this.loadedRecord().peerId))
      this.dropRecordOnceDecoded()
    }
    return this.peerIdValue
  }

  get multiaddrs (): Multiaddr[] {
    if (this.multiaddrsValue == null) {
      this.multiaddrsValue = decodeMultiaddrs(this.loadedRecord().multiaddrs)
      this.dropRecordOnceDecoded()
    }
    return this.multiaddrsValue
  }

  set multiaddrs (multiaddrs: Multiaddr[]) {
    this.multiaddrsValue = multiaddrs
    this.dropRecordOnceDecoded()
  }

  /** the record this contact was loaded from, decoded again (it decoded at load) */
  private loadedRecord (): ContactRecord {
    const bytes = this.record?.subarray(this.recordOffset, this.recordOffset + this.recordLength) ?? new Uint8Array()
    return ContactRecord.decode(bytes, { limits: { multiaddrs: MAX_MULTIADDRS_PER_CONTACT } })
  }

  private dropRecordOnceDecoded (): void {
    if (this.peerIdValue != null && this.multiaddrsValue != null) {
      this.record = undefined
    }
  }
}

/** where a loaded record was copied: bytes offset to offset + length of chunk */
interface RecordCopy {
  chunk: Uint8Array
  offset: number
  length: number
}

/** Bytes of each chunk that RecordChunks packs loaded records into */
const RECORD_CHUNK_BYTES = 64 * 1024

/**
 * Copies of the records read by one load, packed into shared chunks: a loaded
 * contact keeps its undecoded peer id and addresses as a place in a chunk
 * rather than as buffers of its own. (Holding the datastore's buffer of every
 * record, plus a view per address, made up more than half of the heap after
 * loading 100,000 contacts and much of the garbage collector's work during
 * the load.) Chunks are never written again once filled.
 */
class RecordChunks {
  private chunk = new Uint8Array(RECORD_CHUNK_BYTES)
  private used = 0

  copy (bytes: Uint8Array): RecordCopy {
    if (this.used + bytes.byteLength > this.chunk.byteLength) {
      this.chunk = new Uint8Array(Math.max(RECORD_CHUNK_BYTES, bytes.byteLength))
      this.used = 0
    }
    const offset = this.used
    this.chunk.set(bytes, offset)
    this.used += bytes.byteLength
    return { chunk: this.chunk, offset, length: bytes.byteLength }
  }
}

/** stored addresses that no longer parse are dropped rather than breaking a dial tick */
function decodeMultiaddrs (stored: Uint8Array[]): Multiaddr[] {
  const out: Multiaddr[] = []
  for (const bytes of stored) {
    try {
      out.push(multiaddr(bytes))
    } catch {
      // an unreadable address is as good as none; the next identify refreshes the list
    }
  }
  return out
}

/** every contact added to the book is built here or by decodeContact, so that all share one class shape */
function makeContact (columns: ContactColumns, fields: Contact): StoredContact {
  return new StoredContact(columns, fields, fields)
}

function copyContact (contact: Contact): Contact {
  return {
    peerId: contact.peerId,
    multiaddrs: [...contact.multiaddrs],
    did: contact.did,
    source: contact.source,
    firstSeen: contact.firstSeen,
    lastSeen: contact.lastSeen,
    lastSession: contact.lastSession,
    failures: contact.failures,
    nextAttempt: contact.nextAttempt,
    backoffReason: contact.backoffReason
  }
}

function resetBackoff (contact: Contact): void {
  contact.failures = 0
  contact.nextAttempt = 0
  contact.backoffReason = undefined
}

/**
 * Eviction order: negative when `a` goes before `b`. A contact that never
 * had a session goes before one that had, then the one with more failures,
 * then the one seen longest ago.
 */
function compareEviction (a: Contact, b: Contact): number {
  const aHadSession = a.lastSession == null ? 0 : 1
  const bHadSession = b.lastSession == null ? 0 : 1
  if (aHadSession !== bHadSession) {
    return aHadSession - bHadSession
  }
  if (a.failures !== b.failures) {
    return b.failures - a.failures
  }
  return a.lastSeen - b.lastSeen
}

/**
 * `known` with `incoming` appended as the newest (an address already known
 * moves to the end), without duplicates, keeping the newest
 * MAX_MULTIADDRS_PER_CONTACT
 */
function mergeMultiaddrs (known: Multiaddr[], incoming: Multiaddr[]): Multiaddr[] {
  const fresh = new Map<string, Multiaddr>()
  for (const ma of incoming) {
    const text = ma.toString()
    fresh.delete(text)
    fresh.set(text, ma)
  }
  const merged = known.filter(ma => !fresh.has(ma.toString()))
  merged.push(...fresh.values())
  return merged.slice(-MAX_MULTIADDRS_PER_CONTACT)
}

function sameSet (a: Multiaddr[], b: Multiaddr[]): boolean {
  const texts = new Set(a.map(ma => ma.toString()))
  return texts.size === new Set(b.map(ma => ma.toString())).size && b.every(ma => texts.has(ma.toString()))
}

function sameSequence (a: Multiaddr[], b: Multiaddr[]): boolean {
  return a.length === b.length && a.every((ma, i) => ma.equals(b[i]))
}

function checkNewContact (contact: NewContact): void {
  checkDid(contact.did)
  if (SOURCE_CODES[contact.source] == null) {
    throw new InvalidParametersError(`unknown contact source ${String(contact.source)}`)
  }
}

function checkDid (did: string | undefined): void {
  if (did != null && (did === '' || did.length > MAX_DID_LENGTH)) {
    throw new InvalidParametersError(`a DID must have 1 to ${MAX_DID_LENGTH} characters, got ${did.length}`)
  }
}

function checkReason (reason: BackoffReason): void {
  if (reason.length > MAX_BACKOFF_REASON_LENGTH) {
    throw new InvalidParametersError(`a backoff reason must have at most ${MAX_BACKOFF_REASON_LENGTH} characters, got ${reason.length}`)
  }
}

const BASE58_ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
const BASE58_TAIL_DIGITS = 5
const BASE58_TAIL_MODULUS = 58 ** BASE58_TAIL_DIGITS

/**
 * Whether the base58btc string `name` ends with the last digits of `bytes` in
 * base58btc: the bytes' value modulo 58^5, one pass over them. It checks that
 * a record sits under its own peer id (a mismatch passes once in 6.5 × 10^8)
 * for a tenth of the cost of encoding the peer id, which would be the largest
 * part of a load. Every intermediate value stays below 2^38, exact in a double.
 */
function endsWithBase58Of (name: string, bytes: Uint8Array): boolean {
  if (name.length <= BASE58_TAIL_DIGITS) {
    return false
  }
  let tail = 0
  for (const byte of bytes) {
    tail = (tail * 256 + byte) % BASE58_TAIL_MODULUS
  }
  for (let i = 1; i <= BASE58_TAIL_DIGITS; i++) {
    if (name.charCodeAt(name.length - i) !== BASE58_ALPHABET.charCodeAt(tail % 58)) {
      return false
    }
    tail = Math.floor(tail / 58)
  }
  return true
}

function contactKey (id: string): Key {
  return new Key(`${ADDRESS_BOOK_PREFIX}/${id}`)
}

function encodeContact (contact: Contact): Uint8Array {
  return ContactRecord.encode({
    peerId: contact.peerId.toMultihash().bytes as Uint8Array<ArrayBuffer>,
    multiaddrs: contact.multiaddrs.map(ma => ma.bytes),
    did: contact.did ?? '',
    source: SOURCE_CODES[contact.source],
    firstSeen: contact.firstSeen,
    lastSeen: contact.lastSeen,
    lastSession: contact.lastSession,
    failures: contact.failures,
    nextAttempt: contact.nextAttempt,
    backoffReason: contact.backoffReason
  })
}

/**
 * Decodes the record filed under the peer id string `id` into a contact
 * holding a new slot of `columns`, its peer id and addresses left undecoded
 * in a copy of the record in `chunks`
 *
 * @throws {InvalidMessageError} when the record is too large, does not decode,
 * names an unknown source or another peer id than its key
 */
function decodeContact (id: string, bytes: Uint8Array, columns: ContactColumns, chunks: RecordChunks): StoredContact {
  if (bytes.byteLength > MAX_RECORD_SIZE_BYTES) {
    throw new InvalidMessageError(`record of ${bytes.byteLength} bytes exceeds ${MAX_RECORD_SIZE_BYTES}`)
  }
  const record = ContactRecord.decode(bytes, { limits: { multiaddrs: MAX_MULTIADDRS_PER_CONTACT } })
  if (!endsWithBase58Of(id, record.peerId)) {
    throw new InvalidMessageError('record holds another peer id than its key')
  }
  // a multihash; decoded into a peer id (and its public key) on first use
  Digest.decode(record.peerId)
  const source = SOURCES.get(record.source)
  if (source == null) {
    throw new InvalidMessageError(`record has unknown source ${record.source}`)
  }
  return new StoredContact(columns, {
    did: record.did === '' ? undefined : record.did,
    source,
    firstSeen: record.firstSeen,
    lastSeen: record.lastSeen,
    lastSession: record.lastSession,
    failures: record.failures,
    nextAttempt: record.nextAttempt,
    backoffReason: record.backoffReason
  }, chunks.copy(bytes))
}
