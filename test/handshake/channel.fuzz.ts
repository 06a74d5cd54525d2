/*
 * The fuzz properties of the handshake's decoders (src/handshake/channel.ts,
 * hello.ts, wire-check.ts, pb/): a HandshakeMessage, the Hello it carries and
 * the channel that reads them from a stream. Run by channel.fuzz.test.ts.
 */
import assert from 'node:assert/strict'
import { HandshakeChannel, decodeHandshakeMessage, decodeHello } from '../../src/handshake/channel.js'
import { MAX_MESSAGE_SIZE } from '../../src/handshake/constants.js'
import { HandshakeStage, isHandshakeError } from '../../src/handshake/errors.js'
import { checkRemoteHello, createHello } from '../../src/handshake/hello.js'
import { HandshakeMessage, Hello } from '../../src/handshake/pb/handshake.js'
import { HANDSHAKE_MESSAGE_SPEC, HELLO_SPEC, checkEncoding } from '../../src/handshake/wire-check.js'
import { REASON_CODES, ReasonCode } from '../../src/reason/index.js'
import { encodeFrame } from '../../src/wire/index.js'
import { asyncProperty, chunked, concat, cuts, decoderInput, fc, mutated, plain, pool, property, uint64, utf8Text } from '../utils/fuzz.js'
import type { Stream } from '@libp2p/interface'

const STAGE = HandshakeStage.AwaitResponderHello
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')

/** Any Hello protons can encode: the fields' edges (empty, long, the 64-bit maximum), not only what a node sends */
export const anyHello: fc.Arbitrary<Hello> = fc.record({
  protocolVersion: fc.oneof(fc.constant(1), fc.nat(), fc.constant(2 ** 32 - 1)),
  chainId: utf8Text(),
  genesisHash: fc.uint8Array({ maxLength: 64 }),
  chainVersion: fc.oneof(fc.constantFrom('1.0.0', '0.1.0', 'v1.2.3-rc.1'), utf8Text()),
  did: fc.oneof(fc.constant('did:key:z6MktULudTtAsAhRegYPiZ6631RV3viv12qd4GQF8z1xB22S'), utf8Text(24)),
  nonce: fc.oneof(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 40 })),
  timestamp: uint64,
  head: fc.record({ height: uint64, hash: fc.uint8Array({ maxLength: 40 }) }),
  extra: fc.uint8Array({ maxLength: 32 })
}, { requiredKeys: ['protocolVersion', 'chainId', 'genesisHash', 'chainVersion', 'did', 'nonce', 'timestamp', 'extra'] }).map(hello => plain(hello) as Hello)

/** Any HandshakeMessage, its hello (when it has one) a valid encoding */
export const anyMessage: fc.Arbitrary<HandshakeMessage> = fc.record({
  hello: anyHello.map(hello => Hello.encode(hello)),
  signature: fc.uint8Array({ maxLength: 72 }),
  reject: fc.constantFrom(...REASON_CODES),
  accept: fc.boolean(),
  detail: utf8Text(40),
  appCode: fc.oneof(fc.nat(), fc.constant(2 ** 32 - 1))
}, { requiredKeys: [] }).map(message => plain(message) as HandshakeMessage)

const validHellos = pool('valid hellos', anyHello.map(hello => Hello.encode(hello)))
const validMessages = pool('valid handshake messages', anyMessage.map(message => HandshakeMessage.encode(message)))

/** The hello of this node that remote hellos are checked against */
const LOCAL = createHello({ chainId: 'fuzz-chain', genesisHash: new Uint8Array(32).fill(0xaa), version: '1.0.0' }, 'did:key:z6MktULudTtAsAhRegYPiZ6631RV3viv12qd4GQF8z1xB22S', new Uint8Array(32).fill(1), undefined, 1_700_000_000_000)

/** `run` returns, or throws the handshake's MALFORMED, local, at `STAGE`, "undecodable <what>: …" */
function decodesOrMalformed<T> (what: 'hello' | 'message', bytes: Uint8Array, run: () => T): T | undefined {
  try {
    return run()
  } catch (err: any) {
    if (!isHandshakeError(err)) {
      throw new Error(`${hex(bytes)}: threw ${err?.name}: ${err?.message}`, { cause: err })
    }
    assert.equal(err.reason, ReasonCode.MALFORMED)
    assert.equal(err.side, 'local')
    assert.equal(err.stage, STAGE)
    assert.ok(err.message.startsWith(`undecodable ${what}: `), err.message)
    return undefined
  }
}

/**
 * Any bytes as a HandshakeMessage: decoded, or MALFORMED; and what decodes
 * is exactly what its bytes say: it encodes again to bytes that pass the
 * strict check and decode to the same message
 */
export const message = property(import.meta.url, 'decodeHandshakeMessage', decoderInput(validMessages), bytes => {
  const decoded = decodesOrMalformed('message', bytes, () => decodeHandshakeMessage(bytes, STAGE))
  if (decoded != null) {
    const again = HandshakeMessage.encode(decoded)
    assert.equal(checkEncoding(again, HANDSHAKE_MESSAGE_SPEC), undefined)
    assert.deepEqual(decodeHandshakeMessage(again, STAGE), decoded)
  }
})

/**
 * Any bytes as a Hello: decoded, or MALFORMED; what decodes encodes to the
 * same hello again, and the checks of a remote hello give a verdict on it
 * without throwing
 */
export const hello = property(import.meta.url, 'decodeHello', decoderInput(validHellos), bytes => {
  const decoded = decodesOrMalformed('hello', bytes, () => decodeHello(bytes, STAGE))
  if (decoded != null) {
    const again = Hello.encode(decoded)
    assert.equal(checkEncoding(again, HELLO_SPEC), undefined)
    assert.deepEqual(decodeHello(again, STAGE), decoded)
    const verdict = checkRemoteHello(LOCAL, decoded)
    if (verdict != null) {
      assert.ok(REASON_CODES.includes(verdict.reason), verdict.reason)
    }
  }
})

/** Every HandshakeMessage and Hello decodes to what was encoded */
export const roundTrip = property(import.meta.url, 'HandshakeMessage and Hello round trip', fc.tuple(anyMessage, anyHello), ([sent, sentHello]) => {
  assert.deepEqual(decodeHandshakeMessage(HandshakeMessage.encode(sent), STAGE), sent)
  assert.deepEqual(decodeHello(Hello.encode(sentHello), STAGE), sentHello)
}, { share: 0.05 })

/** Streams of up to three framed messages, valid or mutated, then mutated as a whole */
const validStreams = fc.array(fc.oneof(validMessages, mutated(validMessages)), { minLength: 1, maxLength: 3 })
  .map(bodies => concat(bodies.map(body => encodeFrame(body).subarray())))

/**
 * A handshake stream of any bytes, in any chunks: every read returns a
 * message or ends the handshake with a HandshakeError (MALFORMED by this
 * node, CONNECTION_CLOSED or a reject by the remote); nothing else escapes
 */
export const channel = asyncProperty(import.meta.url, 'HandshakeChannel.read', fc.tuple(decoderInput(validStreams), cuts), async ([bytes, at]) => {
  // a stand-in stream: its bytes in chunks, then its end (test/utils/fake-stream.ts would load the whole handshake service)
  const parts = chunked(bytes, at)
  const channel = new HandshakeChannel({ async * [Symbol.asyncIterator] () { yield * parts } } as unknown as Stream, MAX_MESSAGE_SIZE)
  for (let read = 0; ; read++) {
    if (read > bytes.byteLength) {
      assert.fail(`${hex(bytes)}: ${read} messages from ${bytes.byteLength} bytes`)
    }
    let got: HandshakeMessage
    try {
      got = await channel.read(STAGE, {})
    } catch (err: any) {
      if (!isHandshakeError(err)) {
        throw new Error(`${hex(bytes)}: threw ${err?.name}: ${err?.message}`, { cause: err })
      }
      assert.equal(err.stage, STAGE)
      if (err.message.startsWith('remote rejected with ')) {
        assert.equal(err.side, 'remote', err.message)
        assert.ok(err.message.startsWith(`remote rejected with ${err.reason}`), err.message)
      } else if (err.reason === ReasonCode.MALFORMED) {
        assert.equal(err.side, 'local', err.message)
        assert.match(err.message, /^(undecodable message|message over the size limit|unreadable frame): /)
      } else {
        assert.equal(err.reason, ReasonCode.CONNECTION_CLOSED, err.message)
        assert.equal(err.side, 'remote', err.message)
        assert.match(err.message, /^(remote closed the handshake stream|stream failed while reading: )/)
      }
      return
    }
    assert.equal(got.reject, undefined, 'a reject is never returned as a message')
    assert.ok(HandshakeMessage.encode(got).byteLength <= MAX_MESSAGE_SIZE)
  }
}, { share: 0.3 })
