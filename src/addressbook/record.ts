import { InvalidMessageError } from '@libp2p/interface'
import { Key } from 'interface-datastore'
import { isOutcome } from '../reason/index.js'
import * as Digest from 'multiformats/hashes/digest'
import { ADDRESS_BOOK_PREFIX, MAX_MULTIADDRS_PER_CONTACT, MAX_RECORD_SIZE_BYTES } from './constants.js'
import { ContactRecord, ContactSource as ContactSourceCode } from './pb/addressbook.js'
import { StoredContact } from './stored-contact.js'
import type { ContactColumns } from './columns.js'
import type { RecordChunks } from './stored-contact.js'
import type { Contact, ContactSource } from './index.js'

export const SOURCE_CODES: Record<ContactSource, ContactSourceCode> = {
  bootstrap: ContactSourceCode.CONTACT_SOURCE_BOOTSTRAP,
  dht: ContactSourceCode.CONTACT_SOURCE_DHT,
  manual: ContactSourceCode.CONTACT_SOURCE_MANUAL,
  inbound: ContactSourceCode.CONTACT_SOURCE_INBOUND
}

const SOURCES = new Map<ContactSourceCode, ContactSource>(
  Object.entries(SOURCE_CODES).map(([source, code]) => [code, source as ContactSource])
)

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

export function contactKey (id: string): Key {
  return new Key(`${ADDRESS_BOOK_PREFIX}/${id}`)
}

export function encodeContact (contact: Contact): Uint8Array {
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
export function decodeContact (id: string, bytes: Uint8Array, columns: ContactColumns, chunks: RecordChunks): StoredContact {
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
    // a reason this version does not know (written by a newer one) is left out; the wait stands
    backoffReason: record.backoffReason != null && isOutcome(record.backoffReason) ? record.backoffReason : undefined
  }, chunks.copy(bytes))
}
