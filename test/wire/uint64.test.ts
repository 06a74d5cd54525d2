/*
 * Every uint64 field peergate writes (a hello's timestamp, a head's height
 * in a hello or a Status) encodes as the minimal varint of its value, by
 * table: protons-runtime 7's writer mangled the values from 2^31 to
 * 2^32 - 1 (found by fuzzing, test/handshake/channel.fuzz.ts), so
 * src/wire/uint64.ts writes them.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Hello } from '../../src/handshake/pb/handshake.js'
import { Status } from '../../src/status/pb/status.js'

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')

/** A value and its minimal unsigned varint */
const VALUES: Array<[bigint, string]> = [
  [1n, '01'],
  [2n ** 31n - 1n, 'ffffffff07'],
  // these came out as one byte of the value and four of whatever the buffer held (or failed to decode)
  [2n ** 31n, '8080808008'],
  [3_000_000_000n, '80bcc1960b'],
  [2n ** 32n - 1n, 'ffffffff0f'],
  [2n ** 32n, '8080808010'],
  [1_700_000_000_000n, '80d095ffbc31'],
  [2n ** 53n, '8080808080808010'],
  [2n ** 64n - 1n, 'ffffffffffffffffff01']
]

describe('uint64 fields', () => {
  it('a hello\'s timestamp and head height, a Status\'s head height: the minimal varint of the value, and back', () => {
    for (const [value, varint] of VALUES) {
      assert.equal(hex(Hello.encode({ timestamp: value })), `38${varint}`, `timestamp ${value}`)
      assert.equal(Hello.decode(Hello.encode({ timestamp: value })).timestamp, value)
      const head = { height: value, hash: new Uint8Array(0) }
      assert.equal(hex(Hello.encode({ head })), `42${(1 + varint.length / 2).toString(16).padStart(2, '0')}08${varint}`, `hello head height ${value}`)
      assert.equal(Hello.decode(Hello.encode({ head })).head?.height, value)
      assert.equal(hex(Status.encode({ head })), `0a${(1 + varint.length / 2).toString(16).padStart(2, '0')}08${varint}`, `status head height ${value}`)
      assert.equal(Status.decode(Status.encode({ head })).head?.height, value)
    }
  })
})
