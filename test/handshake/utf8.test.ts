import assert from 'node:assert/strict'
import { test } from 'node:test'
import { HandshakeStage, ReasonCode, isHandshakeError } from '../../src/index.js'
import { HandshakeMessage } from '../../src/handshake/index.js'
import { MAX_DETAIL_BYTES } from '../../src/reason/index.js'
import { encodeFrame, truncateUtf8, utf8Length } from '../../src/wire/index.js'
import { fakeChannel } from '../utils/fake-stream.js'

test('truncateUtf8: the longest prefix of whole characters within the limit', () => {
  const cases: Array<[string, string, number, string]> = [
    ['short text stays', 'abc', 4, 'abc'],
    ['exactly the limit stays', 'abcd', 4, 'abcd'],
    ['ASCII is cut at the limit', 'abcde', 4, 'abcd'],
    ['a 2-byte character that fits whole', 'abé', 4, 'abé'],
    ['a 2-byte character across the limit is left out', 'abcé', 4, 'abc'],
    ['a 3-byte character across the limit is left out', 'ab€x', 4, 'ab'],
    ['a 4-byte character across the limit is left out', 'a😀', 4, 'a'],
    ['a 4-byte character that fits whole', '😀😀', 4, '😀'],
    ['nothing fits', '😀', 3, ''],
    ['a zero limit', 'abc', 0, '']
  ]
  for (const [name, text, max, expected] of cases) {
    const cut = truncateUtf8(text, max)
    assert.equal(cut, expected, name)
    assert.ok(utf8Length(cut) <= max, name)
    assert.ok(!cut.includes('\uFFFD'), `${name}: no broken character`)
  }
})

test('utf8Length counts bytes, not characters', () => {
  assert.equal(utf8Length('did:key:z6Mk'), 12)
  assert.equal(utf8Length('é'), 2)
  assert.equal(utf8Length('€'), 3)
  assert.equal(utf8Length('😀'), 4)
  assert.equal('😀'.length, 2)
})

/** the detail carried by the first frame a channel sent */
function sentDetail (sent: Uint8Array[]): string | undefined {
  const body = sent[0].subarray(sent[0][0] < 0x80 ? 1 : 2)
  return HandshakeMessage.decode(body).detail
}

test('a reject\'s detail is cut to 256 bytes on a character boundary when sent', () => {
  const cases: Array<[string, string, string]> = [
    ['2-byte characters, 128 fit exactly', 'é'.repeat(200), 'é'.repeat(128)],
    ['2-byte characters after one ASCII byte: the 129th would straddle', 'a' + 'é'.repeat(200), 'a' + 'é'.repeat(127)],
    ['3-byte characters: 85 fit, 255 bytes', '€'.repeat(100), '€'.repeat(85)],
    ['4-byte characters after two ASCII bytes: 63 fit, 254 bytes', 'ab' + '😀'.repeat(100), 'ab' + '😀'.repeat(63)],
    ['exactly 256 bytes stays whole', 'x'.repeat(252) + '😀', 'x'.repeat(252) + '😀'],
    ['a short detail stays whole', 'wrong chain', 'wrong chain']
  ]
  for (const [name, detail, expected] of cases) {
    const { channel, sent } = fakeChannel([])
    channel.sendReject(ReasonCode.MALFORMED, detail)
    const received = sentDetail(sent)
    assert.equal(received, expected, name)
    assert.ok(utf8Length(received ?? '') <= MAX_DETAIL_BYTES, name)
  }
})

test('a received detail over 256 bytes is read only up to 256 bytes, on a character boundary', async () => {
  const detail = 'a' + '€'.repeat(1000)
  const frame = encodeFrame(HandshakeMessage.encode({ reject: ReasonCode.WRONG_CHAIN, detail })).subarray()
  const { channel } = fakeChannel([frame])
  await assert.rejects(channel.read(HandshakeStage.AwaitResponderHello, {}), (err: Error) => {
    assert.ok(isHandshakeError(err))
    assert.equal(err.reason, ReasonCode.WRONG_CHAIN)
    assert.equal(err.side, 'remote')
    assert.equal(err.message, `remote rejected with WRONG_CHAIN: a${'€'.repeat(85)}`)
    return true
  })
})
