import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { fromString as uint8ArrayFromString } from 'uint8arrays/from-string'
import { NoSessionError, ReasonCode } from '../../src/index.js'
import { TestNetwork, until } from '../utils/nodes.js'
import { newSigner, rogueInitiator, rogueResponder, testChain } from '../utils/rogue.js'
import type { PeerNode, Session } from '../../src/index.js'
import type { Connection, Stream } from '@libp2p/interface'

const PROTOCOL = '/test-chain/echo/1.0.0'
const net = new TestNetwork()
after(async () => { await net.cleanup() })

/** Counts handler runs per stream; echoes what it reads */
class EchoHandler {
  readonly runs = new Map<string, number>()
  total = 0

  readonly handler = async (stream: Stream, connection: Connection): Promise<void> => {
    const key = `${connection.id}/${stream.id}`
    this.runs.set(key, (this.runs.get(key) ?? 0) + 1)
    this.total++
    // one message each way; test/stream covers reading to the remote's end
    for await (const chunk of stream) {
      stream.send(chunk)
      break
    }
    await stream.close()
  }
}

async function echo (stream: Stream, text: string): Promise<string> {
  stream.send(uint8ArrayFromString(text))
  let out = ''
  for await (const chunk of stream) {
    out = Buffer.from(chunk.subarray()).toString()
    break
  }
  await stream.close()
  return out
}

/** Opens a stream from a node with no session; resolves with what came back, or rejects */
async function probe (stream: Stream): Promise<string> {
  return echo(stream, 'let me in')
}

describe('the gate', () => {
  it('refuses a plain libp2p node: stream aborted, handler never called', async () => {
    const node = await net.node()
    const handler = new EchoHandler()
    await node.handle(PROTOCOL, handler.handler)
    const plain = await net.plain()

    for (let i = 0; i < 3; i++) {
      const stream = await plain.dialProtocol(node.getMultiaddrs()[0], PROTOCOL)
      const reply = await probe(stream).catch((err: Error) => err)
      assert.ok(reply instanceof Error || reply === '', `no echo expected, got ${String(reply)}`)
    }
    assert.equal(handler.total, 0)
  })

  it('refuses a peer after its handshake failed', async () => {
    const node = await net.node()
    const handler = new EchoHandler()
    await node.handle(PROTOCOL, handler.handler)
    const plain = await net.plain()
    const failed = await rogueInitiator(plain, node.getMultiaddrs()[0], {
      chain: await testChain(),
      signer: await newSigner(),
      signature: (real) => real.map(b => b ^ 0xff)
    })
    assert.equal(failed.reject, 'BAD_SIGNATURE')

    const stream = await plain.dialProtocol(node.getMultiaddrs()[0], PROTOCOL)
    const reply = await probe(stream).catch((err: Error) => err)
    assert.ok(reply instanceof Error || reply === '')
    assert.equal(handler.total, 0)

    // and a peergate node whose handshake was rejected cannot open one either
    const stranger = await net.node({ chain: { chainId: 'other-chain' } })
    await assert.rejects(stranger.connect(node.getMultiaddrs()[0]))
    await assert.rejects(stranger.openStream(node.peerId, PROTOCOL), (err: Error) => err.name === NoSessionError.name)
    assert.equal(handler.total, 0)
  })

  it('serves session peers, and ungated protocols serve everyone', async () => {
    const a = await net.node()
    const b = await net.node()
    const gated = new EchoHandler()
    const open = new EchoHandler()
    await b.handle(PROTOCOL, gated.handler)
    await b.handle('/test-chain/status/1.0.0', open.handler, { ungated: true })

    await assert.rejects(a.openStream(b.peerId, PROTOCOL), (err: Error) => err.name === NoSessionError.name)
    const plain = await net.plain()
    assert.equal(await echo(await plain.dialProtocol(b.getMultiaddrs()[0], '/test-chain/status/1.0.0'), 'hi'), 'hi')

    await a.connect(b.getMultiaddrs()[0])
    assert.equal(await echo(await a.openStream(b.peerId, PROTOCOL), 'hello'), 'hello')
    assert.equal(gated.total, 1)
  })

  it('hands a gated handler the session of the peer; its signal aborts with the reason when the session ends', async () => {
    const a = await net.node()
    const b = await net.node()
    const seen: Session[] = []
    await b.handle(PROTOCOL, async (stream, connection, session) => {
      seen.push(session)
      session.state.set('greeted', true)
      await new EchoHandler().handler(stream, connection)
    })
    await a.connect(b.getMultiaddrs()[0])
    assert.equal(await echo(await a.openStream(b.peerId, PROTOCOL), 'hello'), 'hello')
    assert.equal(seen.length, 1)
    assert.equal(seen[0], b.session(a.peerId), 'the registry\'s own session object')
    assert.equal(seen[0].did, a.did)
    assert.equal(b.session(a.peerId)?.state.get('greeted'), true)
    assert.equal(seen[0].signal.aborted, false)
    await b.disconnect(a.peerId, ReasonCode.BANNED)
    assert.equal(seen[0].signal.aborted, true)
    assert.equal(seen[0].signal.reason.name, 'SessionEndedError')
    assert.equal(seen[0].signal.reason.reason, ReasonCode.BANNED)
    assert.equal(b.session(a.peerId), undefined)
  })

  it('runs each inbound stream\'s handler exactly once; own outbound streams never run the local handler', async () => {
    const hub = await net.node()
    const hubHandler = new EchoHandler()
    await hub.handle(PROTOCOL, hubHandler.handler)

    const peers: Array<{ node: PeerNode, handler: EchoHandler }> = []
    for (let i = 0; i < 3; i++) {
      const node = await net.node()
      const handler = new EchoHandler()
      await node.handle(PROTOCOL, handler.handler)
      await node.connect(hub.getMultiaddrs()[0])
      peers.push({ node, handler })
    }
    await until(() => hub.sessions().length === 3, 5_000, 'three sessions at the hub')

    const STREAMS = 15
    let inboundAtHub = 0
    for (const { node } of peers) {
      for (let i = 0; i < STREAMS; i++) {
        // interleave directions: peer → hub, then hub → peer on the same protocol
        assert.equal(await echo(await node.openStream(hub.peerId, PROTOCOL), `p${i}`), `p${i}`)
        inboundAtHub++
        assert.equal(await echo(await hub.openStream(node.peerId, PROTOCOL), `h${i}`), `h${i}`)
      }
    }

    assert.equal(hubHandler.total, inboundAtHub)
    assert.equal(hubHandler.runs.size, inboundAtHub)
    assert.ok([...hubHandler.runs.values()].every(n => n === 1), 'every stream ran the handler once')
    for (const { handler } of peers) {
      // each peer handled only the hub's streams: its own outbound streams never reached its handler
      assert.equal(handler.total, STREAMS)
      assert.ok([...handler.runs.values()].every(n => n === 1))
    }
  })

  it('serves a gated stream the initiator opens the moment its side completes', async () => {
    for (let round = 0; round < 5; round++) {
      const initiator = await net.node()
      const responder = await net.node()
      const handler = new EchoHandler()
      await responder.handle(PROTOCOL, handler.handler)

      // session:open fires on the initiator before its final message is even sent
      const early = new Promise<Stream>((resolve, reject) => {
        initiator.addEventListener('session:open', (evt) => {
          initiator.openStream(evt.detail.peerId, PROTOCOL).then(resolve, reject)
        }, { once: true })
      })
      await initiator.connect(responder.getMultiaddrs()[0])
      assert.equal(await echo(await early, `race ${round}`), `race ${round}`)
      assert.equal(handler.total, 1)
    }
  })

  it('holds a gated stream that overtakes the final accept, then serves it', async () => {
    // the responder's side completes first (after message 3): its application
    // stream to the initiator goes out at once, while the accept (message 4)
    // is held back on the wire, so the stream reaches the initiator's gate
    // mid-handshake
    const initiator = await net.node()
    const handler = new EchoHandler()
    await initiator.handle(PROTOCOL, handler.handler)
    const plain = await net.plain()
    let reply: Promise<string> | undefined
    const { outcome } = await rogueResponder(plain, {
      chain: await testChain(),
      signer: await newSigner(),
      beforeAccept: async (connection) => {
        const stream = await connection.newStream(PROTOCOL)
        reply = echo(stream, 'overtaking')
        await new Promise(resolve => setTimeout(resolve, 100))
        assert.equal(handler.total, 0, 'held until the handshake ends')
        assert.equal(initiator.sessions().length, 0)
      }
    })

    const session = await initiator.connect(plain.getMultiaddrs()[0])
    assert.ok(session.peerId.equals(plain.peerId))
    assert.equal((await outcome).accepted, true)
    assert.equal(await reply, 'overtaking')
    assert.equal(handler.total, 1)
  })

  it('openStream waits for a handshake in flight', async () => {
    const a = await net.node()
    const b = await net.node()
    const handler = new EchoHandler()
    await b.handle(PROTOCOL, handler.handler)
    const connecting = a.connect(b.getMultiaddrs()[0])
    await until(() => a.libp2p.services.sessions.isHandshaking(b.peerId), 5_000, 'handshake in flight')
    assert.equal(a.sessions().length, 0)
    const stream = await a.openStream(b.peerId, PROTOCOL)
    assert.equal(a.sessions().length, 1, 'the stream opened once the session did')
    await connecting
    assert.equal(await echo(stream, 'x'), 'x')
  })
})
