import { InvalidParametersError } from '@libp2p/interface'
import { MAX_DID_BYTES } from '../did/constants.js'
import { didSizeBytes, isDidSizeAllowed } from '../did/did-size.js'
import { isOutcome } from '../reason/index.js'
import { backoff, banBackoff, resolveBackoff, type BackoffState, type ResolvedBackoff } from './backoff.js'
import { ContactColumns } from './columns.js'
import {
  ADDRESS_BOOK_PREFIX,
  DEFAULT_MAX_CONTACTS,
  MAX_MULTIADDR_SIZE_BYTES
} from './constants.js'
import { mergeMultiaddrs, sameSequence, sameSet } from './multiaddrs.js'
import { isStorageWriteError } from '../storage/index.js'
import { SOURCE_CODES, contactKey, decodeContact, encodeContact } from './record.js'
import { RecordChunks, copyContact, makeContact, resetBackoff, type StoredContact } from './stored-contact.js'
import type { AddressBook, AddressBookInit, Contact, NewContact } from './index.js'
import type { Outcome } from '../reason/index.js'
import type { DialCandidates } from './candidates.js'
import type { AbortOptions, ComponentLogger, Logger, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Datastore } from 'interface-datastore'

/** What the persistent book needs: where it keeps its records, and a logger */
export interface PersistentAddressBookComponents {
  datastore: Datastore
  logger: ComponentLogger
}

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
 * stored record equals the in-memory one.
 *
 * A write that fails leaves the change in memory and the contact unsaved: it
 * is written again after the book's next successful write, when writes
 * recover (`saveUnsaved`, which the address book service calls on its
 * datastore's `storage:ok`) and at stop. A write the datastore refused
 * (`StorageWriteError`: a full disk, a read-only file system, which the
 * monitored datastore has reported) does not fail the call that scheduled
 * it: the node carries on from memory. Any other failure (an abort, a
 * closed datastore) rejects that call.
 */
export class PersistentAddressBook implements AddressBook {
  private readonly datastore: Datastore
  protected readonly log: Logger
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
  /** peer id strings whose last write failed: memory holds what their records lack */
  private readonly unsaved = new Set<string>()
  /** the write of the unsaved contacts in flight, started after a successful write */
  private retrying?: Promise<void>

  constructor (components: PersistentAddressBookComponents, init: AddressBookInit = {}) {
    this.datastore = components.datastore
    this.log = components.logger.forComponent('peergate:addressbook')
    this.maxContacts = init.maxContacts ?? DEFAULT_MAX_CONTACTS
    if (!Number.isSafeInteger(this.maxContacts) || this.maxContacts < 1) {
      throw new InvalidParametersError(`maxContacts must be an integer ≥ 1, got ${this.maxContacts}`)
    }
    this.backoff = resolveBackoff(init.backoff)
    this.now = init.now ?? Date.now
    this.random = init.random ?? Math.random
  }

  get size (): number {
    return this.contacts.size
  }

  /**
   * Replaces the in-memory book with the stored records; call once before
   * use (the address book service does in `start()`). A record that cannot
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

  async recordOutcome (peer: PeerId, reason: Outcome, options?: AbortOptions): Promise<Contact | undefined> {
    checkReason(reason)
    return this.mutate(peer, options, (contact, now) => {
      return applyBackoff(contact, backoff(reason, contact, this.backoff, this.random(), now))
    })
  }

  async recordBan (peer: PeerId, until: number, options?: AbortOptions): Promise<Contact | undefined> {
    return this.mutate(peer, options, (contact) => applyBackoff(contact, banBackoff(contact, until)))
  }

  async recordScore (peer: PeerId, score: number, at: number, options?: AbortOptions): Promise<Contact | undefined> {
    return this.mutate(peer, options, (contact) => {
      if (contact.score === score && contact.scoreAt === at) {
        return false
      }
      contact.score = score
      contact.scoreAt = at
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

  backoffs (): Contact[] {
    const now = this.clock()
    const waiting: Contact[] = []
    this.forEach(contact => {
      if (contact.nextAttempt > now) {
        waiting.push(copyContact(contact))
      }
    })
    return waiting
  }

  async clearBackoff (peers?: PeerId | PeerId[], options?: AbortOptions): Promise<Contact[]> {
    const ids = peers == null ? [...this.contacts.keys()] : (Array.isArray(peers) ? peers : [peers]).map(peer => peer.toString())
    const cleared: string[] = []
    for (const id of ids) {
      const contact = this.contacts.get(id)
      if (contact != null && (contact.nextAttempt !== 0 || contact.failures !== 0 || contact.backoffReason != null)) {
        resetBackoff(contact)
        cleared.push(id)
      }
    }
    if (cleared.length > 0) {
      await this.persistMany(cleared, options)
    }
    return cleared.map(id => copyContact(this.contacts.get(id) as Contact))
  }

  /** resolves once every write scheduled so far has settled (for shutdown and tests) */
  async flush (): Promise<void> {
    await Promise.all(this.writes.values())
  }

  /** contacts whose last write failed: memory holds changes their records lack */
  get unsavedCount (): number {
    return this.unsaved.size
  }

  /**
   * Writes the contacts whose last write failed, as memory holds them now
   * (deleted when they are gone), in one batch; resolves at once when there
   * are none
   */
  async saveUnsaved (options?: AbortOptions): Promise<void> {
    if (this.unsaved.size === 0) {
      return
    }
    const ids = [...this.unsaved]
    this.log('writing %d contacts kept unsaved while writes failed', ids.length)
    await this.persistMany(ids, options)
  }

  /** the injected clock, in whole ms since the epoch */
  protected clock (): number {
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

  /** applies `change` to a contact and writes it, unless `change` returns false (nothing changed) */
  private async mutate (peer: PeerId, options: AbortOptions | undefined, change: (contact: Contact, now: number) => boolean | void): Promise<Contact | undefined> {
    const id = peer.toString()
    const contact = this.contacts.get(id)
    if (contact == null) {
      return undefined
    }
    const changed = change(contact, this.clock()) !== false
    const result = copyContact(contact)
    if (changed) {
      await this.persist(id, options)
    }
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
    const result = (previous.length === 0 ? Promise.resolve() : Promise.all(previous)).then(write).then(() => {
      this.saved(ids)
    }, (err) => {
      for (const id of ids) {
        this.unsaved.add(id)
      }
      if (!isStorageWriteError(err)) {
        throw err
      }
      // the monitored datastore reported it; memory keeps the change
      this.log.trace('%d contacts kept unsaved - %e', ids.length, err)
    })
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

  /** these contacts are written: when others are unsaved, writes work again, so they are written too */
  private saved (ids: string[]): void {
    for (const id of ids) {
      this.unsaved.delete(id)
    }
    if (this.unsaved.size > 0 && this.retrying == null) {
      this.retrying = this.saveUnsaved()
        .catch(err => { this.log.error('could not write the contacts kept unsaved - %e', err) })
        .finally(() => { this.retrying = undefined })
    }
  }
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

function checkNewContact (contact: NewContact): void {
  checkDid(contact.did)
  if (SOURCE_CODES[contact.source] == null) {
    throw new InvalidParametersError(`unknown contact source ${String(contact.source)}`)
  }
}

function checkDid (did: string | undefined): void {
  // the handshake's limit: every DID that can make a session can be recorded
  if (did != null && !isDidSizeAllowed(did)) {
    throw new InvalidParametersError(`a DID must be 1 to ${MAX_DID_BYTES} bytes of UTF-8, got ${didSizeBytes(did)}`)
  }
}

function checkReason (reason: Outcome): void {
  if (!isOutcome(reason)) {
    throw new InvalidParametersError(`a backoff reason is a ReasonCode or LocalReason, got ${JSON.stringify(String(reason).slice(0, 64))}`)
  }
}

/** sets a contact's backoff to `change`; false when there is none (nothing changed) */
function applyBackoff (contact: Contact, change: BackoffState | undefined): boolean {
  if (change == null) {
    return false
  }
  contact.failures = change.failures
  contact.nextAttempt = change.nextAttempt
  contact.backoffReason = change.backoffReason
  return true
}
