import assert from 'node:assert/strict'
import { test } from 'node:test'
import { fromString as uint8ArrayFromString } from 'uint8arrays/from-string'
import { HandshakeStage, ReasonCode, isHandshakeError } from '../../src/index.js'
import { type HandshakeMessage } from '../../src/handshake/index.js'
import { fakeChannel } from '../utils/fake-stream.js'

const unhex = (value: string): Uint8Array => uint8ArrayFromString(value.replace(/\s+/g, ''), 'base16')

/** message 4 of docs/PROTOCOL.md §14.6, `{ accept: true }`, without its prefix `02` */
const ACCEPT = '2001'
/** a reject, `{ reject: WRONG_CHAIN, detail: "wrong chain" }`, without its prefix `0f` */
const REJECT = '18012a0b77726f6e6720636861696e'

async function readAll (chunks: string[]): Promise<Array<HandshakeMessage | string>> {
  const { channel } = fakeChannel(chunks.map(unhex))
  const out: Array<HandshakeMessage | string> = []
  for (;;) {
    try {
      out.push(await channel.read(HandshakeStage.AwaitResponderAccept, {}))
    } catch (err: any) {
      assert.ok(isHandshakeError(err), `expected a HandshakeError, got ${err.name}: ${err.message}`)
      out.push(`${err.reason}: ${err.message}`)
      return out
    }
  }
}

test('length prefixes: minimal unsigned varints of at most 8 bytes; anything else is MALFORMED', async () => {
  const closed = `${ReasonCode.CONNECTION_CLOSED}: remote closed the handshake stream`
  const cases: Array<[string, string[], Array<HandshakeMessage | RegExp | string>]> = [
    ['a minimal prefix', [`02${ACCEPT}`], [{ accept: true }, closed]],
    ['two frames in one chunk', [`02${ACCEPT}0f${REJECT}`], [{ accept: true }, /^WRONG_CHAIN: remote rejected with WRONG_CHAIN: wrong chain$/]],
    ['a frame split inside its body', [`02${ACCEPT.slice(0, 2)}`, ACCEPT.slice(2)], [{ accept: true }, closed]],
    ['a two-byte prefix split across chunks', ['c8', `01 3a c301 ${'00'.repeat(195)} ${ACCEPT}`], [{ accept: true }, closed]],
    ['an empty frame (prefix 00) is an empty message', ['00'], [{}, closed]],
    // it-length-prefixed alone would take 2 bytes of 'c5 81 00' as the prefix and 00 as the start of the body
    ['a padded prefix, 197 as c5 81 00', [`c58100 ${'00'.repeat(197)}`], [/^MALFORMED: unreadable frame: length prefix c58100 is not minimally encoded$/]],
    ['a padded prefix, 2 as 82 00', [`8200${ACCEPT}`], [/^MALFORMED: unreadable frame: length prefix 8200 is not minimally encoded$/]],
    ['a padded prefix, 0 as 80 00', ['8000'], [/^MALFORMED: unreadable frame: length prefix 8000 is not minimally encoded$/]],
    ['a padded prefix after a good frame', [`02${ACCEPT} 8280 00`], [{ accept: true }, /^MALFORMED: unreadable frame: length prefix 828000 is not minimally encoded$/]],
    ['a prefix of 9 bytes', ['80 80 80 80 80 80 80 80 01'], [/^MALFORMED: unreadable frame: length prefix is longer than 8 bytes$/]],
    ['a prefix over the size limit (4097)', ['81 20'], [/^MALFORMED: message over the size limit/]],
    ['the largest body allowed, 4096 bytes of an unknown field', [`80 20 5a fd1f ${'00'.repeat(4093)}`], [{}, closed]],
    ['a stream that ends inside a body', [`05${ACCEPT}`], [/^CONNECTION_CLOSED: stream failed while reading/]]
  ]
  for (const [name, chunks, expected] of cases) {
    const got = await readAll(chunks)
    assert.equal(got.length, expected.length, `${name}: ${JSON.stringify(got)}`)
    expected.forEach((want, i) => {
      if (want instanceof RegExp) {
        assert.match(String(got[i]), want, name)
      } else {
        assert.deepEqual(got[i], want, name)
      }
    })
  }
})
