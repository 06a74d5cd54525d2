/*
 * Reading one address book record back (src/addressbook/record.ts), by
 * tables: the damaged records test/addressbook/record.fuzz.ts found, each
 * refused at load with InvalidMessageError as decodeContact documents, and
 * every kind of peer id a record may hold read without failing.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generateKeyPair, publicKeyFromRaw } from '@libp2p/crypto/keys'
import { peerIdFromMultihash, peerIdFromPublicKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { base58btc } from 'multiformats/bases/base58'
import { sha256 } from 'multiformats/hashes/sha2'
import { fromString as uint8ArrayFromString } from 'uint8arrays/from-string'
import { ContactColumns } from '../../src/addressbook/columns.js'
import { MAX_MULTIADDRS_PER_CONTACT } from '../../src/addressbook/constants.js'
import { ContactRecord, ContactSource } from '../../src/addressbook/pb/addressbook.js'
import { decodeContact, encodeContact } from '../../src/addressbook/record.js'
import { RecordChunks } from '../../src/addressbook/stored-contact.js'
import type { PeerId } from '@libp2p/interface'

const unhex = (value: string): Uint8Array => uint8ArrayFromString(value.replace(/\s+/g, ''), 'base16')

const PEER = peerIdFromPublicKey(publicKeyFromRaw(new Uint8Array(32).fill(3)))

const load = (id: string, bytes: Uint8Array): ReturnType<typeof decodeContact> => decodeContact(id, bytes, new ContactColumns(1), new RecordChunks())

/** A record of `peerIdBytes`, filed under the key those bytes name: a damaged key and record that agree */
function underItsOwnKey (peerIdBytes: Uint8Array): { id: string, bytes: Uint8Array } {
  return {
    id: base58btc.encode(peerIdBytes).slice(1),
    bytes: ContactRecord.encode({ peerId: peerIdBytes as Uint8Array<ArrayBuffer>, multiaddrs: [], source: ContactSource.CONTACT_SOURCE_DHT })
  }
}

describe('decodeContact', () => {
  it('refuses a damaged record with InvalidMessageError, whatever protons throws on it', () => {
    const tooMany = ContactRecord.encode({
      peerId: PEER.toMultihash().bytes as Uint8Array<ArrayBuffer>,
      multiaddrs: Array.from({ length: MAX_MULTIADDRS_PER_CONTACT + 1 }, () => multiaddr('/ip4/127.0.0.1/tcp/1').bytes),
      source: ContactSource.CONTACT_SOURCE_DHT
    })
    const cases: Array<[string, Uint8Array]> = [
      // these escaped as protons' own errors (RangeError, Error, MaxLengthError)
      ['cut short inside its peer id (RangeError: index out of range)', unhex('0a 26 00 24 08 01')],
      ['a field of wire type 7 (RangeError)', unhex('0a 01 01 0f')],
      ['a varint cut short (RangeError: Could not decode varint)', unhex('38 ff')],
      ['a source the enum does not define (Error: Invalid enum value)', unhex('20 09')],
      [`more than ${MAX_MULTIADDRS_PER_CONTACT} addresses (MaxLengthError)`, tooMany]
    ]
    for (const [name, bytes] of cases) {
      assert.throws(() => load(PEER.toString(), bytes), { name: 'InvalidMessageError' }, name)
    }
  })

  it('refuses peer id bytes that name their key but are no peer id, at load: reading the contact\'s peer id later threw', () => {
    const key = new Uint8Array(32).fill(9)
    const cases: Array<[string, Uint8Array]> = [
      // these loaded, and reading `peerId` (as the book's list() does) threw InvalidMultihashError
      ['a multihash of another code than identity or sha2-256 (01)', Uint8Array.of(0x01, 0x24, 0x08, 0x01, 0x12, 0x20, ...key)],
      // … or TypeError: Invalid URL (libp2p reads an identity multihash whose key does not decode as a URL)
      ['an identity multihash that holds no public key', Uint8Array.of(0x00, 0x05, 0x08, 0x01, 0x12, 0x01, 0x07)],
      ['a secp256k1 key off the curve', Uint8Array.of(0x00, 0x25, 0x08, 0x02, 0x12, 0x21, 0x02, ...new Uint8Array(32).fill(0xff))],
      // this one loaded as libp2p's URL peer id
      ['an identity multihash that holds a URL', Uint8Array.of(0x00, 0x12, ...new TextEncoder().encode('https://peer.test/'))],
      // and this one threw multiformats' Error: Incorrect length
      ['a multihash whose length is not its digest\'s', Uint8Array.of(0x00, 0x24, 0x08, 0x01, 0x12, 0x20, ...key.subarray(1))]
    ]
    for (const [name, peerIdBytes] of cases) {
      const { id, bytes } = underItsOwnKey(peerIdBytes)
      assert.throws(() => load(id, bytes), { name: 'InvalidMessageError' }, name)
    }
  })

  it('reads every kind of peer id a record may hold: Ed25519, secp256k1 and RSA\'s', async () => {
    const peers: PeerId[] = [
      PEER,
      peerIdFromPublicKey((await generateKeyPair('secp256k1')).publicKey),
      peerIdFromMultihash(await sha256.digest(Uint8Array.of(1, 2, 3)))
    ]
    for (const peer of peers) {
      const written = { peerId: peer, multiaddrs: [multiaddr('/ip4/127.0.0.1/tcp/4001')], source: 'dht' as const, firstSeen: 1, lastSeen: 2, failures: 0, nextAttempt: 0 }
      const read = load(peer.toString(), encodeContact(written))
      assert.equal(read.peerId.toString(), peer.toString(), peer.type)
      assert.equal(read.peerId.type, peer.type)
    }
  })
})

describe('a contact\'s peer score in its record', () => {
  const base = { peerId: PEER, multiaddrs: [multiaddr('/ip4/127.0.0.1/tcp/1')], source: 'dht' as const, firstSeen: 1, lastSeen: 2, failures: 0, nextAttempt: 0 }
  const id = PEER.toString()

  it('round-trips a score with the time it decays from, a negative, a fraction and a time in the future (a ban) included', () => {
    for (const [score, scoreAt] of [[-21.5, 1_700_000_000_000], [-100, 4_000_000_000_000], [7.25, 5]]) {
      const loaded = load(id, encodeContact({ ...base, score, scoreAt }))
      assert.equal(loaded.score, score)
      assert.equal(loaded.scoreAt, scoreAt)
    }
  })

  it('reads a record written before scores (no fields 11 and 12) as unscored, and one with a score but no time as unscored', () => {
    const old = ContactRecord.encode({ peerId: PEER.toMultihash().bytes as Uint8Array<ArrayBuffer>, multiaddrs: [], did: '', source: ContactSource.CONTACT_SOURCE_DHT, firstSeen: 1, lastSeen: 2, failures: 0, nextAttempt: 0 })
    assert.equal(load(id, old).score, undefined)
    assert.equal(load(id, old).scoreAt, undefined)
    const noTime = ContactRecord.encode({ ...ContactRecord.decode(old), score: -30 })
    assert.equal(load(id, noTime).score, undefined)
    // an unscored contact writes neither field: its record is byte for byte the old one
    assert.deepEqual(encodeContact(base), encodeContact({ ...base, score: undefined, scoreAt: 123 }))
    assert.equal(ContactRecord.decode(encodeContact(base)).score, undefined)
  })
})
