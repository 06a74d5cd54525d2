import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { HANDSHAKE_PROTOCOL, HandshakeStage, ReasonCode, isHandshakeError } from '../../src/index.js'
import { HandshakeChannel, HandshakeMessage, Hello, MAX_MESSAGE_SIZE, createHello } from '../../src/handshake/index.js'
import { encodeFrame } from '../../src/wire/index.js'
import { TestNetwork, nextEvent, until } from '../utils/nodes.js'
import { newSigner, openHandshake, rogueInitiator, testChain } from '../utils/rogue.js'
import type { DidSigner, PeerNode, SessionRejectDetail, PeerNodeOptions } from '../../src/index.js'
import type { Libp2p, PeerId } from '@libp2p/interface'

const net = new TestNetwork()
let responder: PeerNode
let responderSigner: DidSigner
let good: PeerNode

before(async () => {
  responderSigner = await newSigner()
  responder = await net.node({ did: { signer: responderSigner } })
  good = await net.node()
})
after(async () => { await net.cleanup() })

type Reachable = PeerNode | Libp2p

function libp2pOf (node: Reachable): Libp2p {
  return 'libp2p' in node ? node.libp2p : node
}

/**
 * Both sides closed the connection the handshake ran on. (Two nodes of one
 * chain may meet again on a fresh auxiliary connection of their DHTs.)
 */
async function closedOnBothSides (a: PeerNode, aConnection: string, b: PeerNode, bConnection: string): Promise<void> {
  await until(() => a.libp2p.getConnections().every(c => c.id !== aConnection) &&
    b.libp2p.getConnections().every(c => c.id !== bConnection), 5_000, 'hang-up on both sides')
}

/** Neither side keeps a connection to the other */
async function hungUp (a: Reachable, b: Reachable): Promise<void> {
  const la = libp2pOf(a)
  const lb = libp2pOf(b)
  await until(() => la.getConnections(lb.peerId).length === 0 && lb.getConnections(la.peerId).length === 0, 5_000, 'hang-up on both sides')
}

function rejectFrom (node: PeerNode, peer: PeerId): Promise<SessionRejectDetail> {
  return nextEvent<SessionRejectDetail>(node, 'session:reject', d => d.peerId.equals(peer))
}

/** The responder still makes sessions with a well-behaved peer */
async function stillServes (node: PeerNode): Promise<void> {
  const session = await good.connect(node.getMultiaddrs()[0])
  assert.equal(session.did, node.did)
  await until(() => node.sessions().some(s => s.peerId.equals(good.peerId)), 5_000, 'session at the responder')
  await good.disconnect(node.peerId)
  await until(() => node.sessions().every(s => !s.peerId.equals(good.peerId)), 5_000, 'session gone')
}

/**
 * A peergate node configured with `options` selects the responder: both sides
 * report `reason`, the side that decided says so, and both hang up
 */
async function peergateCase (options: PeerNodeOptions, reason: ReasonCode, decidedBy: 'initiator' | 'responder', target: PeerNode = responder): Promise<void> {
  const initiator = await net.node(options)
  const atResponder = rejectFrom(target, initiator.peerId)
  const atInitiator = rejectFrom(initiator, target.peerId)

  await assert.rejects(initiator.connect(target.getMultiaddrs()[0]), (err: Error) => {
    assert.ok(isHandshakeError(err), `expected a HandshakeError, got ${err.name}: ${err.message}`)
    assert.equal(err.reason, reason)
    return true
  })

  const [r, i] = await Promise.all([atResponder, atInitiator])
  assert.equal(r.reason, reason)
  assert.equal(i.reason, reason)
  assert.equal(r.side, decidedBy === 'responder' ? 'local' : 'remote')
  assert.equal(i.side, decidedBy === 'initiator' ? 'local' : 'remote')
  assert.equal(r.direction, 'inbound')
  assert.equal(i.direction, 'outbound')
  await closedOnBothSides(initiator, i.connectionId, target, r.connectionId)
  assert.equal(target.sessions().some(s => s.peerId.equals(initiator.peerId)), false)
  assert.equal(initiator.sessions().some(s => s.peerId.equals(target.peerId)), false)
  await stillServes(target)
}

describe('every reason code comes from a real mismatched or misbehaving peer', () => {
  it('WRONG_CHAIN', async () => {
    await peergateCase({ chain: { chainId: 'other-chain' } }, ReasonCode.WRONG_CHAIN, 'responder')
  })

  it('WRONG_GENESIS', async () => {
    await peergateCase({ chain: { chainId: 'test-chain', genesisHash: 'ff'.repeat(32) } }, ReasonCode.WRONG_GENESIS, 'responder')
  })

  it('INCOMPATIBLE_VERSION', async () => {
    await peergateCase({ chain: { chainId: 'test-chain', version: '1.0.0' } }, ReasonCode.INCOMPATIBLE_VERSION, 'responder')
  })

  it('DID_UNRESOLVABLE', async () => {
    const key = await newSigner()
    const signer = { did: 'did:web:node.example.com', sign: (data: Uint8Array) => key.sign(data) }
    await peergateCase({ did: { signer } }, ReasonCode.DID_UNRESOLVABLE, 'responder')
  })

  it('BANNED (by DID)', async () => {
    const signer = await newSigner()
    await responder.ban(signer.did, 60_000)
    await peergateCase({ did: { signer } }, ReasonCode.BANNED, 'responder')
    await responder.unban(signer.did)
  })

  it('BANNED (by peer id, before any hello)', async () => {
    const initiator = await net.node()
    await responder.ban(initiator.peerId, 60_000)
    const atResponder = rejectFrom(responder, initiator.peerId)
    const atInitiator = rejectFrom(initiator, responder.peerId)
    await assert.rejects(initiator.connect(responder.getMultiaddrs()[0]), (err: any) => err.reason === ReasonCode.BANNED)
    const r = await atResponder
    assert.equal(r.reason, ReasonCode.BANNED)
    await closedOnBothSides(initiator, (await atInitiator).connectionId, responder, r.connectionId)
    // the responder never dials a banned peer, the DHT included
    await assert.rejects(responder.libp2p.dial(initiator.getMultiaddrs()[0], { force: true }))
    await responder.unban(initiator.peerId)
    await stillServes(responder)
  })

  it('DUPLICATE: a second handshake stream on a connection whose handshake is in flight; the first goes on', async () => {
    const plain = await net.plain()
    const { connection } = await openHandshake(plain, responder.getMultiaddrs()[0])
    const second = await connection.newStream(HANDSHAKE_PROTOCOL)
    const reject = await new HandshakeChannel(second, MAX_MESSAGE_SIZE).read(HandshakeStage.AwaitResponderHello, {}).then(() => undefined, (err: any) => err)
    assert.equal(reject?.reason, ReasonCode.DUPLICATE)
    assert.equal(reject?.side, 'remote')
    assert.equal(connection.status, 'open')
    assert.equal(responder.libp2p.services.sessions.handshakes().some(h => h.connectionId === responder.libp2p.getConnections(plain.peerId)[0]?.id), true, 'the first handshake still runs')
    await connection.close()
  })

  it('SELF', async () => {
    // a second node holding the responder's own DID key
    await peergateCase({ did: { signer: responderSigner } }, ReasonCode.SELF, 'responder')
  })

  it('DUPLICATE (a DID that already has a session under another peer id)', async () => {
    const signer = await newSigner()
    const first = await net.node({ did: { signer } })
    await first.connect(responder.getMultiaddrs()[0])
    await peergateCase({ did: { signer } }, ReasonCode.DUPLICATE, 'responder')
    assert.ok(responder.sessions().some(s => s.peerId.equals(first.peerId)), 'the first session stays')
    await first.stop()
  })

  it('TOO_MANY_PEERS', async () => {
    const small = await net.node({ limits: { maxInboundSessions: 1, inboundBurst: 0 } })
    const first = await net.node()
    await first.connect(small.getMultiaddrs()[0])
    const initiator = await net.node()
    const atSmall = rejectFrom(small, initiator.peerId)
    const atInitiator = rejectFrom(initiator, small.peerId)
    await assert.rejects(initiator.connect(small.getMultiaddrs()[0]), (err: any) => err.reason === ReasonCode.TOO_MANY_PEERS)
    const r = await atSmall
    assert.equal(r.side, 'local')
    await closedOnBothSides(initiator, (await atInitiator).connectionId, small, r.connectionId)
    assert.equal(small.sessions().length, 1)
  })

  it('MALFORMED: a message over the size limit', async () => {
    const plain = await net.plain()
    const atResponder = rejectFrom(responder, plain.peerId)
    const { channel, stream } = await openHandshake(plain, responder.getMultiaddrs()[0])
    // a length prefix of 1 MiB: rejected on the prefix, before the body is sent
    stream.send(encodeFrame(new Uint8Array(1024 * 1024)).subarray(0, 8))
    await assert.rejects(channel.read(HandshakeStage.AwaitResponderHello, {}), (err: any) => err.reason === ReasonCode.MALFORMED && err.side === 'remote')
    const r = await atResponder
    assert.equal(r.reason, ReasonCode.MALFORMED)
    assert.equal(r.side, 'local')
    await hungUp(plain, responder)
    await stillServes(responder)
  })

  it('MALFORMED: bytes that are not a handshake message', async () => {
    const plain = await net.plain()
    const atResponder = rejectFrom(responder, plain.peerId)
    const { channel, stream } = await openHandshake(plain, responder.getMultiaddrs()[0])
    stream.send(encodeFrame(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff])))
    await assert.rejects(channel.read(HandshakeStage.AwaitResponderHello, {}), (err: any) => err.reason === ReasonCode.MALFORMED)
    assert.equal((await atResponder).reason, ReasonCode.MALFORMED)
    await hungUp(plain, responder)
  })

  it('MALFORMED: an undecodable hello (field 1 with the wrong wire type) is reported as such', async () => {
    const plain = await net.plain()
    const atResponder = rejectFrom(responder, plain.peerId)
    const { channel } = await openHandshake(plain, responder.getMultiaddrs()[0])
    // protons alone would read this as protocol_version = 255 and blame the missing nonce
    await channel.write({ hello: Uint8Array.from([0x0a, 0xff, 0x01]) }, {})
    await assert.rejects(channel.read(HandshakeStage.AwaitResponderHello, {}), (err: any) =>
      err.reason === ReasonCode.MALFORMED && err.side === 'remote' && /undecodable hello: field 1 \(protocol_version\) has wire type 2/.test(err.message))
    const r = await atResponder
    assert.equal(r.reason, ReasonCode.MALFORMED)
    assert.match(r.message, /^undecodable hello: /)
    await hungUp(plain, responder)
  })

  it('BAD_SIGNATURE', async () => {
    const plain = await net.plain()
    const atResponder = rejectFrom(responder, plain.peerId)
    const outcome = await rogueInitiator(plain, responder.getMultiaddrs()[0], {
      chain: await testChain(),
      signer: await newSigner(),
      signature: (real) => { const bad = real.slice(); bad[0] ^= 1; return bad }
    })
    assert.equal(outcome.reject, ReasonCode.BAD_SIGNATURE)
    assert.equal((await atResponder).reason, ReasonCode.BAD_SIGNATURE)
    await hungUp(plain, responder)
    await stillServes(responder)
  })

  it('TIMEOUT: a stalled handshake is closed at the timeout', async () => {
    const strict = await net.node({ handshake: { timeout: 300 } })
    const plain = await net.plain()
    const atStrict = rejectFrom(strict, plain.peerId)
    const started = Date.now()
    const { channel } = await openHandshake(plain, strict.getMultiaddrs()[0])
    // the stream is open, and nothing is ever sent on it
    await assert.rejects(channel.read(HandshakeStage.AwaitResponderHello, {}), (err: any) => err.reason === ReasonCode.TIMEOUT && err.side === 'remote')
    const elapsed = Date.now() - started
    assert.ok(elapsed >= 250 && elapsed < 3_000, `closed after ${elapsed} ms`)
    assert.equal((await atStrict).reason, ReasonCode.TIMEOUT)
    await hungUp(plain, strict)
    await stillServes(strict)
  })

  it('SHUTDOWN: a node stopping mid-handshake says so', async () => {
    const leaving = await net.node()
    const plain = await net.plain()
    const { channel } = await openHandshake(plain, leaving.getMultiaddrs()[0])
    const hello = createHello(await testChain(), (await newSigner()).did, new Uint8Array(32).fill(7), undefined, Date.now())
    await channel.write({ hello: Hello.encode(hello) }, {})
    await channel.read(HandshakeStage.AwaitResponderHello, {})
    // the responder now waits for message 3, which never comes: it stops instead
    const reply = assert.rejects(channel.read(HandshakeStage.AwaitResponderAccept, {}), (err: any) => err.reason === ReasonCode.SHUTDOWN && err.side === 'remote')
    await leaving.stop()
    await reply
    await hungUp(plain, leaving)
  })

  it('a plain libp2p node (no handshake protocol) is INCOMPATIBLE_VERSION and left alone', async () => {
    const plain = await net.plain()
    const initiator = await net.node()
    await assert.rejects(initiator.connect(plain.getMultiaddrs()[0]), (err: any) => err.reason === ReasonCode.INCOMPATIBLE_VERSION)
    await hungUp(initiator, plain)
  })
})

describe('replay', () => {
  it('a transcript signature from one session is rejected in another', async () => {
    const plain = await net.plain()
    const signer = await newSigner()
    const chain = await testChain()
    const first = await rogueInitiator(plain, responder.getMultiaddrs()[0], { chain, signer })
    assert.equal(first.accepted, true, 'the honest first handshake succeeds')
    await until(() => responder.sessions().some(s => s.peerId.equals(plain.peerId)), 5_000, 'first session')
    await responder.disconnect(plain.peerId)
    await hungUp(plain, responder)

    const captured = first.signatureSent
    assert.ok(captured != null)
    const replayed = await rogueInitiator(plain, responder.getMultiaddrs()[0], { chain, signer, signature: () => captured })
    assert.equal(replayed.reject, ReasonCode.BAD_SIGNATURE)

    // and from another peer id presenting the same DID
    const other = await net.plain()
    const elsewhere = await rogueInitiator(other, responder.getMultiaddrs()[0], { chain, signer, signature: () => captured })
    assert.equal(elsewhere.reject, ReasonCode.BAD_SIGNATURE)
  })

  it('APPLICATION_REJECTED by the responder\'s validator: code and detail reach the initiator, no session on either side', async () => {
    const asked: Array<{ did: string, direction: string, head?: bigint }> = []
    const strict = await net.node({
      handshake: {
        validateRemote: async (remote, { direction }) => {
          asked.push({ did: remote.did, direction, head: remote.head?.height })
          await new Promise(resolve => setTimeout(resolve, 20))
          return remote.head?.height === 666n ? { appCode: 42, detail: 'block 666 is not ours: a fork' } : undefined
        }
      }
    })
    const fork = await net.node({ head: { height: 666n, hash: Uint8Array.of(6) } })
    const opened: unknown[] = []
    strict.addEventListener('session:open', (evt) => { opened.push(evt.detail) })
    fork.addEventListener('session:open', (evt) => { opened.push(evt.detail) })
    const atStrict = rejectFrom(strict, fork.peerId)
    const atFork = rejectFrom(fork, strict.peerId)
    await assert.rejects(fork.connect(strict.getMultiaddrs()[0]), (err: Error) => {
      assert.ok(isHandshakeError(err))
      assert.equal(err.reason, ReasonCode.APPLICATION_REJECTED)
      assert.equal(err.appCode, 42)
      assert.match(err.message, /application code 42.*block 666 is not ours: a fork/)
      return true
    })
    const [r, i] = await Promise.all([atStrict, atFork])
    assert.deepEqual([r.reason, r.side, r.appCode, r.message], [ReasonCode.APPLICATION_REJECTED, 'local', 42, 'block 666 is not ours: a fork'])
    assert.deepEqual([i.reason, i.side, i.appCode], [ReasonCode.APPLICATION_REJECTED, 'remote', 42])
    assert.equal(r.remote?.did, fork.did, 'the reject at the validator names the refused DID')
    assert.equal(r.remote?.head?.height, 666n)
    assert.deepEqual(asked, [{ did: fork.did, direction: 'inbound', head: 666n }])
    assert.deepEqual(opened, [], 'no session opened, not even for a moment')
    await hungUp(strict, fork)

    // the validator lets an honest peer in
    const honest = await net.node({ head: { height: 5n, hash: Uint8Array.of(5) } })
    const session = await honest.connect(strict.getMultiaddrs()[0])
    assert.equal(session.did, strict.did)
  })

  it('APPLICATION_REJECTED by the initiator\'s validator, before message 3; a validator that throws refuses too', async () => {
    const target = await net.node({ head: { height: 666n, hash: Uint8Array.of(6) } })
    const picky = await net.node({ handshake: { validateRemote: (remote) => remote.head?.height === 666n ? { appCode: 7 } : undefined } })
    const atTarget = rejectFrom(target, picky.peerId)
    await assert.rejects(picky.connect(target.getMultiaddrs()[0]), (err: Error) => isHandshakeError(err) && err.reason === ReasonCode.APPLICATION_REJECTED && err.appCode === 7 && err.stage === HandshakeStage.Validation)
    const r = await atTarget
    assert.deepEqual([r.reason, r.side, r.appCode], [ReasonCode.APPLICATION_REJECTED, 'remote', 7])
    assert.equal(target.sessions().length, 0, 'the responder never announced a session')

    const broken = await net.node({ handshake: { validateRemote: () => { throw new Error('database down') } } })
    await assert.rejects(broken.connect(target.getMultiaddrs()[0]), (err: Error) => isHandshakeError(err) && err.reason === ReasonCode.APPLICATION_REJECTED && err.appCode === undefined)
    assert.equal(broken.sessions().length, 0)
  })

  it('a reject names what the remote\'s hello said when one arrived: its DID, chain, version, head', async () => {
    const other = await net.node({ chain: { chainId: 'other-chain', version: '3.1.0' }, head: { height: 9n, hash: Uint8Array.of(9) } })
    const atResponder = rejectFrom(responder, other.peerId)
    await assert.rejects(other.connect(responder.getMultiaddrs()[0]))
    const r = await atResponder
    assert.equal(r.reason, ReasonCode.WRONG_CHAIN)
    assert.deepEqual([r.remote?.did, r.remote?.chainId, r.remote?.chainVersion, r.remote?.head?.height], [other.did, 'other-chain', '3.1.0', 9n])
  })

  it('a reject on the wire decodes to the reason code', () => {
    const bytes = HandshakeMessage.encode({ reject: ReasonCode.WRONG_CHAIN, detail: 'x' })
    assert.equal(HandshakeMessage.decode(bytes).reject, ReasonCode.WRONG_CHAIN)
  })
})
