/**
 * The status exchange's pure parts: the test vectors of docs/PROTOCOL.md
 * §15.7 (as literals, derived by hand from the encoding rules, never by the
 * code under test), strict decoding, and the revalidation verdict as a table.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { ReasonCode } from '../../src/index.js'
import { decodeStatus, encodeStatus, revalidationVerdict } from '../../src/status/index.js'
import { readRepoFile } from '../utils/files.js'
import type { LocalStatus } from '../../src/index.js'
import type { PublicKey } from '@libp2p/interface'

const CC = new Uint8Array(32).fill(0xcc)

/** §15.7: status → framed bytes (prefix, then the Status) */
const VECTORS: Array<[string, LocalStatus, string]> = [
  ['head 42', { head: { height: 42n, hash: CC } }, '26' + '0a24' + '082a' + '1220' + 'cc'.repeat(32)],
  ['head 42 and extra 01 02', { head: { height: 42n, hash: CC }, extra: Uint8Array.of(1, 2) }, '2a' + '0a24' + '082a' + '1220' + 'cc'.repeat(32) + '12020102'],
  ['no head, no extra', {}, '00'],
  ['a head at height 0 with an empty hash (present, not absent)', { head: { height: 0n, hash: new Uint8Array(0) } }, '02' + '0a00']
]

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')
const unhex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text.replace(/\s/g, ''), 'hex'))

describe('status message', () => {
  for (const [name, status, framed] of VECTORS) {
    it(`vector: ${name}`, () => {
      assert.equal(hex(encodeStatus(status)), framed)
      // the body decodes back to the status (the prefix is one byte here)
      const decoded = decodeStatus(unhex(framed).subarray(1))
      assert.deepEqual(decoded.head, status.head == null ? undefined : { height: status.head.height, hash: status.head.hash })
      assert.deepEqual([...decoded.extra], [...(status.extra ?? [])])
    })
  }

  it('the vectors are the ones in docs/PROTOCOL.md §15.7', async () => {
    const spec = await readRepoFile('docs/PROTOCOL.md')
    const section = spec.slice(spec.indexOf('### 15.7'))
    for (const [name, , framed] of VECTORS) {
      assert.ok(section.includes(framed), `${name}: ${framed} is in §15.7`)
    }
  })

  const MALFORMED: Array<[string, string, RegExp]> = [
    ['head sent as a varint', '08 01', /field 1 \(head\) has wire type 0 \(varint\), expected 2 \(length-delimited\)/],
    ['extra sent as a varint', '10 01', /field 2 \(extra\) has wire type 0/],
    ['head running past the end', '0a 05 08 2a', /field 1 \(head\) runs past the end/],
    ['height cut off at the end of head', '0a 01 08 12 00', /head\.height\) at offset 3 is truncated/],
    ['hash as a varint inside head', '0a 02 10 01', /field 2 \(head\.hash\) has wire type 0/],
    ['field number 0', '00 01', /field number 0/],
    ['a group', '0b', /wire type 3/],
    ['height over 64 bits', '0a 0b 08 ff ff ff ff ff ff ff ff ff 02', /overflows 64 bits/]
  ]
  for (const [name, bytes, problem] of MALFORMED) {
    it(`refuses ${name}: ${bytes}`, () => {
      assert.throws(() => decodeStatus(unhex(bytes)), (err: Error) => {
        assert.equal(err.name, 'InvalidMessageError')
        assert.match(err.message, /^undecodable status: /)
        assert.match(err.message, problem)
        return true
      })
    })
  }

  it('accepts unknown fields, fields in any order and a repeated field (the last counts)', () => {
    const status = decodeStatus(unhex('12 01 09  18 07  0a 02 08 05  0a 02 08 06'))
    assert.deepEqual([status.head?.height, status.head?.hash.byteLength, [...status.extra]], [6n, 0, [9]])
  })

  it('the Status spec mirrors protobuf/status.proto', async () => {
    const proto = await readRepoFile('protobuf/status.proto')
    const body = /message Status \{([^}]*)\}/.exec(proto)?.[1] ?? ''
    const fields = [...body.matchAll(/^\s*(optional\s+)?([\w.]+)\s+(\w+)\s*=\s*(\d+);/gm)].map(m => [m[2], m[3], m[4]])
    assert.deepEqual(fields, [['peergate.chain.Head', 'head', '1'], ['bytes', 'extra', '2']])
  })
})

describe('revalidation verdict', async () => {
  const [handshakeKey, otherKey] = await Promise.all([generateKeyPair('Ed25519'), generateKeyPair('Ed25519')]).then(pairs => pairs.map(p => p.publicKey))
  const did = 'did:key:z6Mkexample'
  const ROWS: Array<[string, PublicKey[] | Error, PublicKey | undefined, ReasonCode | undefined]> = [
    ['resolves to the handshake key', [handshakeKey], handshakeKey, undefined],
    ['resolves to a new key and the handshake key (rotation under way)', [otherKey, handshakeKey], handshakeKey, undefined],
    ['no longer resolves', new Error('deactivated'), handshakeKey, ReasonCode.DID_UNRESOLVABLE],
    ['resolves to no key', [], handshakeKey, ReasonCode.DID_UNRESOLVABLE],
    ['resolves, but not to the handshake key', [otherKey], handshakeKey, ReasonCode.KEY_REVOKED],
    ['no handshake key on record: only the resolution counts', [otherKey], undefined, undefined],
    ['no handshake key on record, and no longer resolves', new Error('gone'), undefined, ReasonCode.DID_UNRESOLVABLE]
  ]
  for (const [name, resolved, key, reason] of ROWS) {
    it(name, () => {
      assert.equal(revalidationVerdict(did, resolved, key)?.reason, reason)
    })
  }
})
