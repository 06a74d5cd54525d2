import { peerIdFromMultihash } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import * as Digest from 'multiformats/hashes/digest'
import { NO_SESSION } from './candidates.js'
import { MAX_MULTIADDRS_PER_CONTACT } from './constants.js'
import { ContactRecord } from './pb/addressbook.js'
import { ContactColumns } from './columns.js'
import { ownBytes, ownPeerId } from '../wire/index.js'
import type { Contact, ContactSource } from './index.js'
import type { Outcome } from '../reason/index.js'
import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/**
 * A contact as the book holds it. Loading 100,000 records must stay within a
 * second and a dial tick must scan them in milliseconds, so the costly parts
 * are decoded on first use: the peer id (its public key) and the addresses
 * stay in a copy of the stored record (RecordChunks) until someone reads
 * them; and the fields a dial tick
 * compares live in a slot of the book's columns, read and written through
 * accessors, so that every change keeps the columns in step.
 */
export class StoredContact implements Contact {
  did: string | undefined
  source: ContactSource
  firstSeen: number
  backoffReason: Outcome | undefined
  score: number | undefined
  scoreAt: number | undefined
  /** the columns holding this contact's dial fields: its book's, or its own once removed */
  private columns: ContactColumns
  /** its slot in `columns`; ContactColumns moves it */
  slot: number
  private peerIdValue: PeerId | undefined
  /**
   * the addresses' bytes, each in a buffer of its own: a Multiaddr kept here
   * would pin whatever its bytes were cut from (see ownBytes), so `multiaddrs`
   * makes new ones on each read
   */
  private addressBytes: Uint8Array[] | undefined
  /** the record this contact was loaded from, while its peer id or addresses are undecoded */
  private record: Uint8Array | undefined
  private recordOffset: number
  private recordLength: number

  constructor (columns: ContactColumns, fields: Omit<Contact, 'peerId' | 'multiaddrs'>, origin: Pick<Contact, 'peerId' | 'multiaddrs'> | RecordCopy) {
    this.did = fields.did
    this.source = fields.source
    this.firstSeen = fields.firstSeen
    this.backoffReason = fields.backoffReason
    this.score = fields.score
    this.scoreAt = fields.scoreAt
    this.columns = columns
    this.slot = columns.append(this, fields)
    if ('chunk' in origin) {
      this.record = origin.chunk
      this.recordOffset = origin.offset
      this.recordLength = origin.length
    } else {
      this.peerIdValue = ownPeerId(origin.peerId)
      this.addressBytes = origin.multiaddrs.map(ma => ownBytes(ma.bytes))
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
      // checked at load (decodeContact): the bytes are a peer id that names the record's key;
      // copied, so that the chunk can go once its contacts are all decoded
      this.peerIdValue = peerIdFromMultihash(Digest.decode(ownBytes(this.loadedRecord().peerId)))
      this.dropRecordOnceDecoded()
    }
    return this.peerIdValue
  }

  get multiaddrs (): Multiaddr[] {
    if (this.addressBytes == null) {
      this.addressBytes = this.loadedRecord().multiaddrs.map(ownBytes)
      this.dropRecordOnceDecoded()
    }
    return decodeMultiaddrs(this.addressBytes)
  }

  set multiaddrs (multiaddrs: Multiaddr[]) {
    this.addressBytes = multiaddrs.map(ma => ownBytes(ma.bytes))
    this.dropRecordOnceDecoded()
  }

  /** the record this contact was loaded from, decoded again (it decoded at load) */
  private loadedRecord (): ContactRecord {
    const bytes = this.record?.subarray(this.recordOffset, this.recordOffset + this.recordLength) ?? new Uint8Array()
    return ContactRecord.decode(bytes, { limits: { multiaddrs: MAX_MULTIADDRS_PER_CONTACT } })
  }

  private dropRecordOnceDecoded (): void {
    if (this.peerIdValue != null && this.addressBytes != null) {
      this.record = undefined
    }
  }
}

/** where a loaded record was copied: bytes offset to offset + length of chunk */
export interface RecordCopy {
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
export class RecordChunks {
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
export function makeContact (columns: ContactColumns, fields: Contact): StoredContact {
  return new StoredContact(columns, fields, fields)
}

export function copyContact (contact: Contact): Contact {
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
    backoffReason: contact.backoffReason,
    // only a scored contact has these
    ...(contact.score == null ? {} : { score: contact.score, scoreAt: contact.scoreAt })
  }
}

export function resetBackoff (contact: Contact): void {
  contact.failures = 0
  contact.nextAttempt = 0
  contact.backoffReason = undefined
}
