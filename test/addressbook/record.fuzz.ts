/*
 * The fuzz properties of the address book's records as read back from disk
 * (src/addressbook/record.ts, stored-contact.ts): a record damaged in any
 * way is refused at load with InvalidMessageError (the book skips it), and a
 * record that loads never fails later, when its lazily decoded peer id and
 * addresses are read. Run by record.fuzz.test.ts.
 */
import assert from 'node:assert/strict'
import { InvalidMessageError } from '@libp2p/interface'
import { generateKeyPair, publicKeyFromRaw } from '@libp2p/crypto/keys'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { base58btc } from 'multiformats/bases/base58'
import { sha256 } from 'multiformats/hashes/sha2'
import { peerIdFromMultihash } from '@libp2p/peer-id'
import { ContactColumns } from '../../src/addressbook/columns.js'
import { MAX_MULTIADDRS_PER_CONTACT } from '../../src/addressbook/constants.js'
import { ContactRecord } from '../../src/addressbook/pb/addressbook.js'
import { decodeContact, encodeContact } from '../../src/addressbook/record.js'
import { RecordChunks } from '../../src/addressbook/stored-contact.js'
import { LocalReason, REASON_CODES } from '../../src/reason/index.js'
import { fc, mutate, onlyThrows, plain, pool, property, utf8Text } from '../utils/fuzz.js'
import type { Contact } from '../../src/addressbook/index.js'
import type { PeerId } from '@libp2p/interface'

const INVALID = InvalidMessageError.name

/** Where loaded records are copied, shared as one load shares them (a new one per record would allocate 64 KiB each) */
const chunks = new RecordChunks()

/** Ed25519 peer ids, as peergate nodes have */
const ED25519_PEERS: PeerId[] = Array.from({ length: 6 }, (_, i) => peerIdFromPublicKey(publicKeyFromRaw(new Uint8Array(32).fill(i + 1))))

/** Peer ids of every kind a record can hold: Ed25519, secp256k1 (whose point a load checks: slow, so rarer), and RSA's (a sha256 multihash) */
const PEERS: PeerId[] = [
  ...ED25519_PEERS,
  peerIdFromPublicKey((await generateKeyPair('secp256k1')).publicKey),
  peerIdFromMultihash(await sha256.digest(Uint8Array.of(1, 2, 3)))
]

const anyPeer = fc.oneof({ weight: 14, arbitrary: fc.constantFrom(...ED25519_PEERS) }, { weight: 2, arbitrary: fc.constantFrom(...PEERS) })

const ADDRS = ['/ip4/127.0.0.1/tcp/4001', '/ip6/::1/tcp/4001', '/dns4/node.example/tcp/443/wss', '/ip4/10.0.0.1/udp/4001/quic-v1', '/ip4/1.2.3.4/tcp/1']

const anyContact: fc.Arbitrary<Contact> = fc.record({
  peerId: anyPeer,
  multiaddrs: fc.array(fc.constantFrom(...ADDRS).map(addr => multiaddr(addr)), { maxLength: 4 }),
  did: utf8Text(24),
  source: fc.constantFrom('bootstrap', 'dht', 'manual', 'inbound'),
  firstSeen: fc.maxSafeNat(),
  lastSeen: fc.maxSafeNat(),
  lastSession: fc.maxSafeNat(),
  failures: fc.oneof(fc.nat(10), fc.constant(2 ** 32 - 1)),
  nextAttempt: fc.maxSafeNat(),
  backoffReason: fc.constantFrom(...REASON_CODES, ...Object.values(LocalReason))
}, { requiredKeys: ['peerId', 'multiaddrs', 'source', 'firstSeen', 'lastSeen', 'failures', 'nextAttempt'] }).map(plain)

/** Records as a node writes them, with the key each is filed under */
const written = pool('contact records', anyContact.map(contact => ({ bytes: encodeContact(contact), id: contact.peerId.toString() })), 256)

/** The peer id string (the key a record is filed under) that the peer id bytes of `bytes` name, when they decode */
function keyNamedBy (bytes: Uint8Array): string | undefined {
  try {
    return base58btc.encode(ContactRecord.decode(bytes).peerId).slice(1)
  } catch {
    return undefined
  }
}

/**
 * A record, damaged or not, filed under the key of the contact it was
 * written for, under the key its own peer id bytes name (a damaged peer id
 * that still names its key: only a damaged key and record together do that),
 * or under another contact's key
 */
const records = fc.tuple(written, fc.uint8Array({ maxLength: 16 }), fc.uint8Array({ maxLength: 12 }), fc.nat(2), anyPeer)
  .map(([record, program, payload, keyKind, other]) => {
    // a program shorter than one edit leaves the record as it was written
    const bytes = mutate(record.bytes, program, payload)
    return { bytes, id: keyKind === 0 ? record.id : keyKind === 1 ? keyNamedBy(bytes) ?? record.id : other.toString() }
  })

/**
 * Any bytes under any key: a contact, or InvalidMessageError; a contact that
 * loads is the key's peer, and reading its peer id and addresses (decoded
 * only then) never throws
 */
export const record = property(import.meta.url, 'decodeContact', records, ({ bytes, id }) => {
  const contact = onlyThrows([INVALID], () => decodeContact(id, bytes, new ContactColumns(1), chunks))
  if (!(contact instanceof Error)) {
    assert.equal(contact.peerId.toString(), id)
    assert.ok(contact.multiaddrs.length <= MAX_MULTIADDRS_PER_CONTACT)
  }
})

/** Every contact reads back as it was written */
export const roundTrip = property(import.meta.url, 'ContactRecord round trip', anyContact, written => {
  const read = decodeContact(written.peerId.toString(), encodeContact(written), new ContactColumns(1), chunks)
  assert.ok(read.peerId.equals(written.peerId))
  assert.deepEqual(read.multiaddrs.map(String), written.multiaddrs.map(String))
  const fields = (c: Contact): Partial<Contact> => ({ did: c.did === '' ? undefined : c.did, source: c.source, firstSeen: c.firstSeen, lastSeen: c.lastSeen, lastSession: c.lastSession, failures: c.failures, nextAttempt: c.nextAttempt, backoffReason: c.backoffReason })
  assert.deepEqual(fields(read), fields(written))
}, { share: 0.02 })
