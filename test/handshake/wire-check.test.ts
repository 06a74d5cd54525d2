import assert from 'node:assert/strict'
import { test } from 'node:test'
import { fromString as uint8ArrayFromString } from 'uint8arrays/from-string'
import { HandshakeStage, ReasonCode, isHandshakeError } from '../../src/index.js'
import { Hello, createHello } from '../../src/handshake/index.js'
import { decodeHandshakeMessage, decodeHello } from '../../src/handshake/channel.js'
import { HANDSHAKE_MESSAGE_SPEC, HELLO_SPEC, type MessageSpec } from '../../src/handshake/wire-check.js'
import { encodeFrame } from '../../src/wire/index.js'
import { fakeChannel } from '../utils/fake-stream.js'
import { readRepoFile } from '../utils/files.js'

const unhex = (value: string): Uint8Array => uint8ArrayFromString(value.replace(/\s+/g, ''), 'base16')

/** A well-formed hello (no head), to put broken fields after */
const valid = Hello.encode(createHello(
  { chainId: 'wire-chain', genesisHash: new Uint8Array(32).fill(0xaa), version: '1.0.0' },
  'did:key:z6MktULudTtAsAhRegYPiZ6631RV3viv12qd4GQF8z1xB22S', new Uint8Array(32).fill(1), undefined, 1_700_000_000_000
))
const validHex = Buffer.from(valid).toString('hex')

/** The valid hello with its last fields (nonce, timestamp) first */
function outOfOrder (): string {
  const { nonce, timestamp, ...first } = Hello.decode(valid)
  return Buffer.from(Hello.encode({ nonce, timestamp })).toString('hex') + Buffer.from(Hello.encode(first)).toString('hex')
}

function assertUndecodable (decode: () => unknown, what: 'hello' | 'message', name: string, detail?: RegExp): void {
  assert.throws(decode, (err: Error) => {
    assert.ok(isHandshakeError(err), `${name}: expected a HandshakeError, got ${err.name}: ${err.message}`)
    assert.equal(err.reason, ReasonCode.MALFORMED, name)
    assert.equal(err.side, 'local', name)
    assert.equal(err.stage, HandshakeStage.AwaitInitiatorHello, name)
    assert.ok(err.message.startsWith(`undecodable ${what}: `), `${name}: ${err.message}`)
    if (detail != null) {
      assert.match(err.message, detail, name)
    }
    return true
  }, name)
}

test('a malformed hello encoding is MALFORMED at decode, "undecodable hello"', () => {
  const cases: Array<[string, string, RegExp]> = [
    // the example: field 1 is protocol_version (varint), sent length-delimited
    ['wire-type mismatch on field 1 (0a ff 01)', '0a ff 01', /field 1 \(protocol_version\) has wire type 2 \(length-delimited\), expected 0 \(varint\)/],
    ['wire-type mismatch on a known field after valid ones', `${validHex} 30 01`, /field 6 \(nonce\) has wire type 0/],
    ['a string field sent as fixed32', '15 61 62 63 64', /field 2 \(chain_id\) has wire type 5/],
    ['a known field with wire type 7', '0f', /field 1 \(protocol_version\) has wire type 7 \(invalid\)/],
    ['truncated length-delimited field', '12 05 61 62', /field 2 \(chain_id\) runs past the end: 5 bytes at offset 2, 2 left/],
    ['truncated length-delimited field at the end of a valid hello', `${validHex} 4a 10 01 02`, /field 9 \(extra\) runs past the end/],
    ['truncated length of a length-delimited field', '2a 80', /length of field 5 \(did\) at offset 1 is truncated/],
    ['truncated varint', '08 ff', /field 1 \(protocol_version\) at offset 1 is truncated/],
    ['truncated 64-bit varint', `${validHex} 38 80 80`, /field 7 \(timestamp\)/],
    ['truncated tag', `${validHex} ff`, /tag at offset \d+ is truncated/],
    ['field number 0, varint', '00 01', /field number 0/],
    ['field number 0, length-delimited, after valid fields', `${validHex} 02 00`, /field number 0/],
    ['a 32-bit varint of 6 bytes', '08 80 80 80 80 80 01', /field 1 \(protocol_version\) at offset 1 overflows 32 bits/],
    ['a 64-bit varint over 64 bits', '38 ff ff ff ff ff ff ff ff ff 7f', /field 7 \(timestamp\) at offset 1 overflows 64 bits/],
    ['a tag over 32 bits', 'ff ff ff ff 1f 00', /tag at offset 0 overflows 32 bits/],
    ['head running past its own length into the next field', '42 02 08 ff 01', /field 1 \(head.height\) at offset 3 is truncated/],
    ['head longer than the hello', '42 05 08 01', /field 8 \(head\) runs past the end/],
    ['head field with the wrong wire type', '42 02 10 01', /field 2 \(head.hash\) has wire type 0/],
    ['invalid UTF-8 in did', '2a 02 c3 28', /field 5 \(did\) is not valid UTF-8/],
    ['overlong UTF-8 in did (an "A" in two bytes)', '2a 02 c1 81', /field 5 \(did\) is not valid UTF-8/],
    ['a UTF-8 character cut short at the end of chain_id', '12 02 61 e2', /field 2 \(chain_id\) is not valid UTF-8/],
    ['a UTF-16 surrogate in chain_version', '22 03 ed a0 80', /field 4 \(chain_version\) is not valid UTF-8/],
    ['an unknown field of wire type 3 (group)', `${validHex} 53 54`, /unknown field 10 at offset \d+ has wire type 3 \(group start\)/],
    ['an unknown field of wire type 6', `${validHex} 56`, /unknown field 10 at offset \d+ has wire type 6 \(invalid\)/],
    ['an unknown fixed32 field cut short', `${validHex} 55 01 02`, /unknown field 10 runs past the end: 4 bytes/],
    ['an unknown fixed64 field cut short', `${validHex} 51 01 02 03 04`, /unknown field 10 runs past the end: 8 bytes/],
    ['an unknown varint of 11 bytes', `${validHex} 50 ff ff ff ff ff ff ff ff ff ff 01`, /unknown field 10 at offset \d+ overflows 64 bits/],
    ['an unknown length-delimited field past the end', `${validHex} 5a 03 01`, /unknown field 11 runs past the end/]
  ]
  for (const [name, bytes, detail] of cases) {
    assertUndecodable(() => decodeHello(unhex(bytes), HandshakeStage.AwaitInitiatorHello), 'hello', name, detail)
  }
})

test('valid hello encodings decode, unknown fields ignored', () => {
  const cases: Array<[string, string, Partial<Hello>]> = [
    ['the hello as encoded', validHex, {}],
    ['an unknown varint field', `${validHex} 50 01`, {}],
    ['an unknown length-delimited field', `${validHex} 5a 02 ab cd`, {}],
    ['an unknown fixed64 field', `${validHex} 51 01 02 03 04 05 06 07 08`, {}],
    ['an unknown fixed32 field', `${validHex} 55 01 02 03 04`, {}],
    ['an unknown field with a two-byte tag (field 100)', `${validHex} a0 06 01`, {}],
    ['unknown fields first', `50 01 5a 00 ${validHex}`, {}],
    ['an unknown field inside head', `${validHex} 42 06 08 07 18 05 12 00`, { head: { height: 7n, hash: new Uint8Array(0) } }],
    ['fields out of order', outOfOrder(), {}],
    ['a field repeated: the last one counts', `${validHex} 08 02`, { protocolVersion: 2 }],
    ['a padded (non-minimal) varint value', `${validHex} 08 81 80 00`, { protocolVersion: 1 }],
    ['a 10-byte uint64 at the maximum', `${validHex} 38 ff ff ff ff ff ff ff ff ff 01`, { timestamp: 2n ** 64n - 1n }],
    ['a 4-byte UTF-8 character in did', `${validHex} 2a 04 f0 9f 98 80`, { did: '😀' }],
    ['a present but empty head', `${validHex} 42 00`, { head: { height: 0n, hash: new Uint8Array(0) } }],
    ['an empty hello (every field at its default)', '', {
      protocolVersion: 0, chainId: '', genesisHash: new Uint8Array(0), chainVersion: '', did: '', nonce: new Uint8Array(0), timestamp: 0n, extra: new Uint8Array(0)
    }]
  ]
  const base = Hello.decode(valid)
  for (const [name, bytes, change] of cases) {
    const hello = decodeHello(unhex(bytes), HandshakeStage.AwaitInitiatorHello)
    assert.deepEqual(hello, { ...base, ...change }, name)
  }
})

test('a malformed HandshakeMessage encoding is MALFORMED at decode, "undecodable message"', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['truncated hello field', '0a 05 01', /field 1 \(hello\) runs past the end/],
    ['signature sent as a varint', '10 01', /field 2 \(signature\) has wire type 0/],
    ['accept sent length-delimited', '22 01 01', /field 4 \(accept\) has wire type 2/],
    ['reject sent as fixed64', '19 01 00 00 00 00 00 00 00', /field 3 \(reject\) has wire type 1/],
    ['truncated varint', '18', /field 3 \(reject\) at offset 1 is truncated/],
    ['accept as a varint of 6 bytes', '20 ff ff ff ff ff 01', /field 4 \(accept\) at offset 1 overflows 32 bits/],
    ['field number 0', '00 00', /field number 0/],
    ['detail that is not UTF-8', '18 01 2a 01 ff', /field 5 \(detail\) is not valid UTF-8/],
    ['five bytes of 0xff', 'ff ff ff ff ff', /tag at offset 0/],
    ['a reject code this implementation does not define', '18 63', /enum/i]
  ]
  for (const [name, bytes, detail] of cases) {
    assertUndecodable(() => decodeHandshakeMessage(unhex(bytes), HandshakeStage.AwaitInitiatorHello), 'message', name, detail)
  }
})

test('valid HandshakeMessage encodings with unknown fields decode', () => {
  assert.deepEqual(decodeHandshakeMessage(unhex('2001 4001 3a 02 abcd'), HandshakeStage.AwaitResponderAccept), { accept: true })
  assert.deepEqual(decodeHandshakeMessage(unhex('5001 1801 2a 01 78'), HandshakeStage.AwaitResponderAccept), { reject: ReasonCode.WRONG_CHAIN, detail: 'x' })
  assert.deepEqual(decodeHandshakeMessage(new Uint8Array(0), HandshakeStage.AwaitResponderAccept), {})
  // field 6 is known now: a reject's application code
  assert.deepEqual(decodeHandshakeMessage(unhex('1810 3001'), HandshakeStage.AwaitResponderAccept), { reject: ReasonCode.APPLICATION_REJECTED, appCode: 1 })
})

test('a bool (accept) is true for any value but 0 within 32 bits, as protobuf decoders read it; over 32 bits it is undecodable (PROTOCOL.md §4.3)', () => {
  const cases: Array<[string, boolean]> = [
    ['20 00', false],
    ['20 01', true],
    ['20 02', true],
    ['20 7f', true],
    ['20 81 80 80 80 00', true],
    ['20 ff ff ff ff 0f', true]
  ]
  for (const [bytes, accept] of cases) {
    assert.deepEqual(decodeHandshakeMessage(unhex(bytes), HandshakeStage.AwaitResponderAccept), { accept }, bytes)
  }
  // 2^32: protons would read it as false, Go's protobuf as true
  assertUndecodable(() => decodeHandshakeMessage(unhex('20 80 80 80 80 10'), HandshakeStage.AwaitInitiatorHello), 'message', '2^32', /field 4 \(accept\) at offset 1 overflows 32 bits/)
  // app_code is a 32-bit field too
  assert.deepEqual(decodeHandshakeMessage(unhex('18 10 30 ff ff ff ff 0f'), HandshakeStage.AwaitResponderAccept), { reject: ReasonCode.APPLICATION_REJECTED, appCode: 2 ** 32 - 1 })
  assertUndecodable(() => decodeHandshakeMessage(unhex('18 10 30 80 80 80 80 10'), HandshakeStage.AwaitInitiatorHello), 'message', 'app_code 2^32', /field 6 \(app_code\) at offset 3 overflows 32 bits/)
})

test('a channel reads an undecodable frame as MALFORMED, "undecodable message"', async () => {
  const { channel } = fakeChannel([encodeFrame(unhex('0a 05 01')).subarray()])
  await assert.rejects(channel.read(HandshakeStage.AwaitInitiatorHello, {}), (err: Error) => {
    assert.ok(isHandshakeError(err))
    assert.equal(err.reason, ReasonCode.MALFORMED)
    assert.match(err.message, /^undecodable message: field 1 \(hello\) runs past the end/)
    return true
  })
})

/**
 * The fields the .proto declares for `message`: number → [name, wire-level type]
 */
function protoFields (proto: string, message: string): Map<number, [string, string]> {
  const body = new RegExp(`message ${message} \\{([^}]*)\\}`).exec(proto)?.[1]
  assert.ok(body != null, `message ${message} in its .proto`)
  const fields = new Map<number, [string, string]>()
  for (const line of body.split('\n')) {
    const match = /^\s*(?:optional\s+)?([\w.]+)\s+(\w+)\s*=\s*(\d+);/.exec(line)
    if (match != null) {
      const [, type, name, number] = match
      const kind = type === 'peergate.reason.ReasonCode' ? 'enum' : type === 'peergate.chain.Head' ? 'message' : type
      fields.set(Number(number), [name, kind])
    }
  }
  return fields
}

function specFields (spec: MessageSpec): Map<number, [string, string]> {
  return new Map([...spec].map(([number, field]) => [number, [field.name, field.type]]))
}

test('the strict check\'s field specs mirror protobuf/handshake.proto and chain.proto', async () => {
  const proto = await readRepoFile('protobuf/handshake.proto')
  assert.deepEqual(specFields(HELLO_SPEC), protoFields(proto, 'Hello'))
  assert.deepEqual(specFields(HANDSHAKE_MESSAGE_SPEC), protoFields(proto, 'HandshakeMessage'))
  const head = HELLO_SPEC.get(8)?.message
  assert.ok(head != null)
  assert.deepEqual(specFields(head), protoFields(await readRepoFile('protobuf/chain.proto'), 'Head'))
})

