import { InvalidMessageError } from '@libp2p/interface'
import { peerIdFromMultihash } from '@libp2p/peer-id'
import { Key } from 'interface-datastore'
import { isOutcome } from '../reason/index.js'
import * as Digest from 'multiformats/hashes/digest'
import { ADDRESS_BOOK_PREFIX, MAX_MULTIADDRS_PER_CONTACT, MAX_RECORD_SIZE_BYTES } from './constants.js'
import { ContactRecord, ContactSource as ContactSourceCode } from './pb/addressbook.js'
import { StoredContact } from './stored-contact.js'
import type { ContactColumns } from './columns.js'
import type { RecordChunks } from './stored-contact.js'
import type { Contact, ContactSource } from './index.js'
import type { PeerId } from '@libp2p/interface'

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

/**
 * The bytes of an Ed25519 peer id as every node writes them: the identity
 * multihash (00, 36 bytes) of the key's protobuf (type 1, a 32-byte key).
 * Any 32 bytes are an Ed25519 public key to libp2p (it checks no point).
 */
const ED25519_PEER_ID = { prefix: Uint8Array.of(0x00, 0x24, 0x08, 0x01, 0x12, 0x20), bytes: 38 }

/** The bytes of an RSA key's peer id: the sha2-256 multihash (12, 32 bytes) of the key */
const RSA_PEER_ID = { prefix: Uint8Array.of(0x12, 0x20), bytes: 34 }

function hasShape (bytes: Uint8Array, shape: { prefix: Uint8Array, bytes: number }): boolean {
  return bytes.byteLength === shape.bytes && shape.prefix.every((byte, i) => bytes[i] === byte)
}

/**
 * Checks at load that a record's peer id bytes decode into a peer id when the
 * contact's `peerId` is first read (StoredContact decodes it then, to keep a
 * load fast): an Ed25519 or RSA peer id by its shape alone; any other (a
 * secp256k1 key, whose point must be on the curve) decoded here.
 *
 * @throws {InvalidMessageError} when they are not a peer id (libp2p's URL peer ids are not one here)
 */
function checkPeerIdBytes (bytes: Uint8Array): void {
  if (hasShape(bytes, ED25519_PEER_ID) || hasShape(bytes, RSA_PEER_ID)) {
    return
  }
  let peer: PeerId
  try {
    peer = peerIdFromMultihash(Digest.decode(bytes))
  } catch (err: any) {
    throw new InvalidMessageError(`record holds no peer id: ${err.message}`)
  }
  if (peer.type === 'url') {
    throw new InvalidMessageError('record holds a URL, not a peer id')
  }
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
    backoffReason: contact.backoffReason,
    score: contact.score,
    scoreAt: contact.score == null ? undefined : contact.scoreAt
  })
}

/**
 * Decodes the record filed under the peer id string `id` into a contact
 * holding a new slot of `columns`, its peer id and addresses left undecoded
 * in a copy of the record in `chunks`
 *
 * @throws {InvalidMessageError} when the record is too large, does not decode,
 * names an unknown source, holds no peer id (bytes its `peerId` could not be
 * decoded from) or another peer id than its key
 */
export function decodeContact (id: string, bytes: Uint8Array, columns: ContactColumns, chunks: RecordChunks): StoredContact {
  if (bytes.byteLength > MAX_RECORD_SIZE_BYTES) {
    throw new InvalidMessageError(`record of ${bytes.byteLength} bytes exceeds ${MAX_RECORD_SIZE_BYTES}`)
  }
  let record: ContactRecord
  try {
    record = ContactRecord.decode(bytes, { limits: { multiaddrs: MAX_MULTIADDRS_PER_CONTACT } })
  } catch (err: any) {
    // protons' own errors: a field cut short, a wire type it cannot skip, too many addresses, a source it does not know
    throw new InvalidMessageError(`undecodable record: ${err.message}`)
  }
  if (!endsWithBase58Of(id, record.peerId)) {
    throw new InvalidMessageError('record holds another peer id than its key')
  }
  checkPeerIdBytes(record.peerId)
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
    backoffReason: record.backoffReason != null && isOutcome(record.backoffReason) ? record.backoffReason : undefined,
    // a score needs the time it decays from; one that is no number is as good as none
    ...storedScore(record.score, record.scoreAt)
  }, chunks.copy(bytes))
}

/**
 * a stored score and its time, when both are there and the score is a
 * finite number (the score service keeps it within its range as it reads it)
 */
function storedScore (score: number | undefined, scoreAt: number | undefined): { score?: number, scoreAt?: number } {
  if (score == null || scoreAt == null || !Number.isFinite(score)) {
    return {}
  }
  return { score, scoreAt }
}
