/*
 * The fuzz properties of the API's request bodies (src/api/body.ts): any
 * bytes a client sends to a command give its fields, or a 400 (413 over
 * MAX_BODY_BYTES) with a message, never another error (which would be a
 * 500). Run by body.fuzz.test.ts.
 */
import assert from 'node:assert/strict'
import { InvalidParametersError } from '@libp2p/interface'
import { publicKeyFromRaw } from '@libp2p/crypto/keys'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import { addrsBody, banBody, clearBackoffBody, connectBody, disconnectBody, peerBody, readJsonBody, removeReservedBody, unbanBody, type Body } from '../../src/api/body.js'
import { MAX_BODY_BYTES } from '../../src/api/constants.js'
import { ApiRequestError } from '../../src/api/errors.js'
import { parsePeerAddrs } from '../../src/node/peers.js'
import { REASON_CODES } from '../../src/reason/index.js'
import { asyncProperty, chunked, countingSource, cuts, decoderInput, fc, pool, property } from '../utils/fuzz.js'

const PEER = peerIdFromPublicKey(publicKeyFromRaw(new Uint8Array(32).fill(7))).toString()
const DID = 'did:key:z6MktULudTtAsAhRegYPiZ6631RV3viv12qd4GQF8z1xB22S'
const ADDR = `/ip4/127.0.0.1/tcp/4001/p2p/${PEER}`

/** Every command's parser, as its route calls it; the node's own parsing of an address list included */
const PARSERS: Record<string, (body: Body) => unknown> = {
  'POST /reserved and POST /contacts': body => parsePeerAddrs(addrsBody(body), 'address'),
  'DELETE /contacts': peerBody,
  'DELETE /reserved': removeReservedBody,
  'POST /connect': connectBody,
  'POST /disconnect': disconnectBody,
  'POST /ban': banBody,
  'POST /unban': unbanBody,
  'POST /backoff/clear': clearBackoffBody
}

/** `run` returns, or refuses the request as a client's mistake: ApiRequestError 400 (or 413), InvalidParametersError (400) */
function clientError (run: () => unknown, statuses = [400]): void {
  try {
    run()
  } catch (err: any) {
    if (err instanceof ApiRequestError ? !statuses.includes(err.status) : err?.name !== InvalidParametersError.name) {
      throw new Error(`threw ${err?.name} ${err?.status ?? ''}: ${err?.message}`, { cause: err })
    }
  }
}

/** Field values a command takes, and values of every other JSON type */
const fieldValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(PEER, DID, ADDR, [ADDR], [ADDR, ADDR], '', 'did:', '12D3KooW', '/ip4/1.2.3.4/tcp/1', true, false, 1000, -1, 0, 1.5, 2 ** 53, null, [], {}, ...REASON_CODES),
  fc.string({ maxLength: 12 }),
  fc.jsonValue({ maxDepth: 2 })
)

/** Bodies of the commands' fields (and a few others, `__proto__` among them), any values */
const bodies: fc.Arbitrary<Body> = fc.dictionary(fc.constantFrom('addr', 'peer', 'target', 'reason', 'forMs', 'disconnect', 'other', '__proto__', 'toString'), fieldValue, { maxKeys: 4 })

/** Any body to any command: its parser gives its fields or a 400 */
export const fields = property(import.meta.url, 'command bodies', fc.tuple(fc.constantFrom(...Object.keys(PARSERS)), bodies), ([command, body]) => {
  clientError(() => PARSERS[command](body))
})

/** The bodies a client sends, as text */
const bodyTexts = pool('body texts', bodies.map(body => new TextEncoder().encode(JSON.stringify(body))))

/**
 * Any bytes as a request body, in any chunks: a JSON object that every
 * command's parser takes or refuses with a 400; 400 for what is not one,
 * 413 over MAX_BODY_BYTES, having read no further chunk
 */
export const body = asyncProperty(import.meta.url, 'readJsonBody', fc.tuple(fc.oneof(decoderInput(bodyTexts), fc.constant(new Uint8Array(MAX_BODY_BYTES + 1).fill(0x20))), cuts), async ([bytes, at]) => {
  const parts = chunked(bytes, at).map(part => part.subarray())
  const source = countingSource(parts)
  let read: Body
  try {
    read = await readJsonBody(source as AsyncIterable<Uint8Array>)
  } catch (err: any) {
    if (!(err instanceof ApiRequestError) || ![400, 413].includes(err.status)) {
      throw new Error(`threw ${err?.name} ${err?.status ?? ''}: ${err?.message}`, { cause: err })
    }
    if (err.status === 413) {
      assert.ok(bytes.byteLength > MAX_BODY_BYTES)
      // the chunk that went over the limit was the last one read
      const before = parts.slice(0, source.pulled - 1).reduce((sum, part) => sum + part.byteLength, 0)
      assert.ok(before <= MAX_BODY_BYTES, `read ${source.pulled} chunks`)
    }
    return
  }
  assert.ok(bytes.byteLength <= MAX_BODY_BYTES)
  assert.equal(typeof read, 'object')
  for (const parse of Object.values(PARSERS)) {
    clientError(() => parse(read))
  }
}, { share: 0.3 })

/** Every well-formed command body gives the fields it names */
export const roundTrip = property(import.meta.url, 'command bodies round trip', fc.record({ forMs: fc.integer({ min: 1, max: 2 ** 40 }), reason: fc.constantFrom(...REASON_CODES), disconnect: fc.boolean(), did: fc.boolean() }), ({ forMs, reason, disconnect, did }) => {
  assert.deepEqual(parsePeerAddrs(addrsBody({ addr: [ADDR] }), 'address').map(peer => peer.peerId.toString()), [PEER])
  assert.equal(peerBody({ peer: PEER }).toString(), PEER)
  const removed = removeReservedBody({ peer: PEER, disconnect })
  assert.deepEqual([removed.peer.toString(), removed.disconnect], [PEER, disconnect])
  assert.equal(connectBody({ addr: ADDR }), ADDR)
  const ended = disconnectBody({ peer: PEER, reason })
  assert.deepEqual([ended.peer.toString(), ended.reason], [PEER, reason])
  const banned = banBody({ target: did ? DID : PEER, forMs })
  assert.deepEqual([String(banned.target), banned.forMs], [did ? DID : PEER, forMs])
  assert.equal(String(unbanBody({ target: did ? DID : PEER })), did ? DID : PEER)
  assert.equal(clearBackoffBody({ peer: PEER })?.toString(), PEER)
  assert.equal(clearBackoffBody({}), undefined)
}, { share: 0.01 })
