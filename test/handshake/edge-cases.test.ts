import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { concat as uint8ArrayConcat } from 'uint8arrays/concat'
import { HandshakeStage, ReasonCode, isHandshakeError } from '../../src/index.js'
import { TestNetwork, nextEvent, until } from '../utils/nodes.js'
import { newSigner, rogueInitiator, rogueResponder, testChain } from '../utils/rogue.js'
import type { ChainIdentity, PeerNode, SessionRejectDetail } from '../../src/index.js'
import type { HandshakeMessage } from '../../src/handshake/index.js'
import type { Libp2p } from '@libp2p/interface'

/**
 * What PROTOCOL.md says each edge case gets, from real nodes: an empty or
 * absent head (§4.1), a signature of the wrong size (§6), a message 4 without
 * `accept = true` (§4.2)
 */
const net = new TestNetwork()
let chain: ChainIdentity
let node: PeerNode

before(async () => {
  chain = await testChain()
  node = await net.node()
})
after(async () => { await net.cleanup() })

async function hungUp (a: PeerNode, b: Libp2p): Promise<void> {
  await until(() => a.libp2p.getConnections(b.peerId).length === 0 && b.getConnections(a.peerId).length === 0, 5_000, 'hang-up on both sides')
}

describe('head (PROTOCOL.md §4.1)', () => {
  it('an absent head is no head; a present but empty one is a head at height 0 with an empty hash', async () => {
    const empty = await net.node({ head: { height: 0n, hash: new Uint8Array(0) } })
    const real = await net.node({ head: { height: 5n, hash: new Uint8Array(32).fill(0xcc) } })

    const toEmpty = await node.connect(empty.getMultiaddrs()[0])
    assert.equal(toEmpty.head?.height, 0n, 'an empty head is handed on as it came')
    assert.equal(toEmpty.head?.hash.byteLength, 0)
    await until(() => empty.sessions().length === 1, 5_000, 'session at the empty-head node')
    assert.equal(empty.sessions()[0].head, undefined, 'a hello without head gives no head')

    const toReal = await node.connect(real.getMultiaddrs()[0])
    assert.equal(toReal.head?.height, 5n)
    assert.deepEqual(Uint8Array.from(toReal.head?.hash ?? []), new Uint8Array(32).fill(0xcc))
  })
})

describe('signatures that are not 64 bytes (PROTOCOL.md §6)', () => {
  const cases: Array<[string, (real: Uint8Array) => Uint8Array | undefined, ReasonCode]> = [
    ['empty', () => new Uint8Array(0), ReasonCode.BAD_SIGNATURE],
    ['63 bytes (the real one cut short)', real => real.subarray(0, 63), ReasonCode.BAD_SIGNATURE],
    ['65 bytes (the real one and a trailing byte)', real => uint8ArrayConcat([real, Uint8Array.of(0)]), ReasonCode.BAD_SIGNATURE],
    ['absent (no signature field in 3)', () => undefined, ReasonCode.MALFORMED]
  ]

  for (const [name, signature, reason] of cases) {
    it(`in message 3: ${name} is ${reason}, and the responder goes on serving`, async () => {
      const plain = await net.plain()
      const atNode = nextEvent<SessionRejectDetail>(node, 'session:reject', d => d.peerId.equals(plain.peerId))
      const outcome = await rogueInitiator(plain, node.getMultiaddrs()[0], {
        chain,
        signer: await newSigner(),
        signature
      })
      assert.equal(outcome.reject, reason)
      const r = await atNode
      assert.equal(r.reason, reason)
      assert.equal(r.side, 'local')
      await hungUp(node, plain)
      assert.equal(node.sessions().some(s => s.peerId.equals(plain.peerId)), false)
    })
  }

  for (const [name, signature, reason] of cases.slice(0, 3)) {
    it(`in message 2: ${name} is ${reason}`, async () => {
      const plain = await net.plain()
      const { outcome } = await rogueResponder(plain, { chain, signer: await newSigner(), signature })
      // the rogue responder, waiting for 3, is told why
      const told = assert.rejects(outcome, (err: Error) => isHandshakeError(err) && err.reason === reason && err.side === 'remote')
      await assert.rejects(node.connect(plain.getMultiaddrs()[0]), (err: Error) => {
        assert.ok(isHandshakeError(err), `${err.name}: ${err.message}`)
        assert.equal(err.reason, reason)
        assert.equal(err.side, 'local')
        assert.equal(err.stage, HandshakeStage.AwaitResponderHello)
        return true
      })
      await told
      await hungUp(node, plain)
    })
  }
})

describe('message 4 (PROTOCOL.md §4.2)', () => {
  const cases: Array<[string, HandshakeMessage]> = [
    ['accept = false', { accept: false }],
    ['accept absent (an empty message)', {}],
    ['accept absent, a signature instead', { signature: new Uint8Array(64) }]
  ]

  for (const [name, fourth] of cases) {
    it(`${name} is MALFORMED at the initiator, and no session`, async () => {
      const plain = await net.plain()
      await rogueResponder(plain, { chain, signer: await newSigner(), fourth })
      await assert.rejects(node.connect(plain.getMultiaddrs()[0]), (err: Error) => {
        assert.ok(isHandshakeError(err), `${err.name}: ${err.message}`)
        assert.equal(err.reason, ReasonCode.MALFORMED)
        assert.equal(err.side, 'local')
        assert.equal(err.stage, HandshakeStage.AwaitResponderAccept)
        return true
      })
      await hungUp(node, plain)
      assert.equal(node.sessions().some(s => s.peerId.equals(plain.peerId)), false)
    })
  }

  // §4.3: a bool is true for any value but 0 within the 32-bit limit, as
  // protobuf decoders read it; past the limit it is undecodable
  const bools: Array<[string, string, ReasonCode | undefined]> = [
    ['accept = 2 (20 02)', '2002', undefined],
    ['accept = 2^32 - 1 (20 ff ff ff ff 0f)', '20ffffffff0f', undefined],
    ['accept = 1 padded to 5 bytes (20 81 80 80 80 00)', '208180808000', undefined],
    ['accept = 2^32 (20 80 80 80 80 10), over 32 bits', '208080808010', ReasonCode.MALFORMED],
    ['accept = 0 written out (20 00)', '2000', ReasonCode.MALFORMED]
  ]
  for (const [name, hex, reason] of bools) {
    it(`${name} is ${reason ?? 'true: a session'}`, async () => {
      const plain = await net.plain()
      await rogueResponder(plain, { chain, signer: await newSigner(), fourthBytes: Uint8Array.from(Buffer.from(hex, 'hex')) })
      if (reason == null) {
        const session = await node.connect(plain.getMultiaddrs()[0])
        assert.ok(session.peerId.equals(plain.peerId))
        return
      }
      await assert.rejects(node.connect(plain.getMultiaddrs()[0]), (err: Error) => {
        assert.ok(isHandshakeError(err), `${err.name}: ${err.message}`)
        assert.deepEqual([err.reason, err.side, err.stage], [reason, 'local', HandshakeStage.AwaitResponderAccept])
        return true
      })
      await hungUp(node, plain)
    })
  }

  it('accept = true with fields it does not need is a session', async () => {
    const plain = await net.plain()
    const { outcome } = await rogueResponder(plain, { chain, signer: await newSigner(), fourth: { accept: true, detail: 'ignored', signature: new Uint8Array(3) } })
    const session = await node.connect(plain.getMultiaddrs()[0])
    assert.ok(session.peerId.equals(plain.peerId))
    assert.equal((await outcome).accepted, true)
  })
})
