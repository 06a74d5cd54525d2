/**
 * Live status between real nodes on 127.0.0.1: the status exchange
 * (/peergate/status/1.0.0), its periodic rounds with DID revalidation, pushes
 * after setHead, on-demand refreshes and the getStatus pull.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { DidUnresolvableError, KeyDidResolver, NoSessionError, ReasonCode, STATUS_PROTOCOL } from '../../src/index.js'
import { STATUS_MIN_REQUEST_GAP_MS, STATUS_MIN_ROUND_GAP_MS, STATUS_TIMEOUT_MS, encodeStatus } from '../../src/status/index.js'
import { encodeFrame } from '../../src/wire/index.js'
import { TestNetwork, nextEvent, until } from '../utils/nodes.js'
import { sendUnlessRefused } from '../utils/protocols.js'
import type { ChainHead, DidResolver, LocalStatus, PeerNode, SessionCloseDetail, SessionStatusDetail } from '../../src/index.js'
import type { AbortOptions, PublicKey, Stream } from '@libp2p/interface'

const net = new TestNetwork()
after(async () => { await net.cleanup() })

function head (height: number): ChainHead {
  return { height: BigInt(height), hash: Uint8Array.of(height % 256) }
}

/** Records every session:status at `node`: the new height and the previous one, as they were then */
function statusEvents (node: PeerNode): Array<[bigint | undefined, bigint | undefined]> {
  const events: Array<[bigint | undefined, bigint | undefined]> = []
  node.addEventListener('session:status', (evt) => { events.push([evt.detail.session.head?.height, evt.detail.previousHead?.height]) })
  return events
}

/** did:key resolution, unless the test says otherwise for a DID: other keys, or an error */
class ControlledResolver implements DidResolver {
  readonly overrides = new Map<string, PublicKey[] | Error>()
  calls = 0
  private readonly keys = new KeyDidResolver()

  async resolve (did: string, options?: AbortOptions): Promise<PublicKey[]> {
    this.calls++
    const override = this.overrides.get(did)
    if (override instanceof Error) {
      throw override
    }
    return override ?? this.keys.resolve(did)
  }
}

describe('live status', () => {
  it('setHead pushes the new head: the peer\'s session:status has it and the previous one; heads set within a second join one round', async () => {
    const a = await net.node({ head: head(0) })
    const b = await net.node({ head: head(0) })
    const atA = statusEvents(a)
    const atB = statusEvents(b)
    await a.connect(b.getMultiaddrs()[0])
    await until(() => b.session(a.peerId) != null, 5_000, 'session at b')
    assert.equal(a.session(b.peerId)?.head?.height, 0n)

    b.setHead(head(100))
    const first = await nextEvent<SessionStatusDetail>(a, 'session:status')
    assert.equal(first.session, a.session(b.peerId), 'the live session object')
    assert.deepEqual([first.session.head?.height, first.previousHead?.height], [100n, 0n])
    const firstAt = performance.now()

    // within the rate limit: one more round, a second after the first, with the latest head
    b.setHead(head(101))
    b.setHead(head(102))
    await until(() => atA.length === 2, 5_000, 'the second round')
    const elapsed = performance.now() - firstAt
    assert.deepEqual(atA, [[100n, 0n], [102n, 100n]])
    assert.ok(elapsed >= 900, `the second round waited for the rate limit, ${elapsed.toFixed(0)} ms`)
    await new Promise(resolve => setTimeout(resolve, 1_200))
    assert.equal(atA.length, 2, 'no third round: 101 was coalesced into 102')
    // a's head did not change, so b learnt nothing new from the requests
    assert.equal(atB.length, 0)
    assert.equal(b.session(a.peerId)?.head?.height, 0n)
  })

  it('getStatus is asked at the hello, and wins over head and extra', async () => {
    let status: LocalStatus = { head: head(7), extra: Uint8Array.of(7, 7) }
    const b = await net.node({ head: head(1), handshake: { getStatus: () => status, extra: () => Uint8Array.of(1) } })
    const a = await net.node()
    const session = await a.connect(b.getMultiaddrs()[0])
    assert.equal(session.head?.height, 7n)
    assert.deepEqual([...session.extra], [7, 7])
    assert.equal(a.session(b.peerId)?.head?.height, 7n)
    status = { extra: Uint8Array.of(8) }
    const refreshed = await a.refreshStatus(b.peerId)
    assert.equal(refreshed.head, undefined, 'a head getStatus leaves out is sent as none')
    assert.deepEqual([...refreshed.extra], [8])
  })

  it('getStatus is asked once per hello, on both roles: the hello\'s head and extra are one snapshot', async () => {
    /** a getStatus whose every call is a new snapshot (head n, extra [n]), counting its calls */
    const counting = (): { calls: () => number, getStatus: () => LocalStatus } => {
      let n = 0
      return { calls: () => n, getStatus: () => { n++; return { head: head(n), extra: Uint8Array.of(n) } } }
    }
    const atA = counting()
    const atB = counting()
    const a = await net.node({ handshake: { getStatus: atA.getStatus, statusInterval: false } })
    const b = await net.node({ handshake: { getStatus: atB.getStatus, statusInterval: false } })
    const session = await a.connect(b.getMultiaddrs()[0])
    await until(() => b.session(a.peerId) != null, 5_000, 'session at b')
    assert.deepEqual([atA.calls(), atB.calls()], [1, 1], 'one call per hello: initiator, responder')
    const fromB = b.session(a.peerId)
    assert.deepEqual([session.head?.height, [...session.extra]], [1n, [1]])
    assert.deepEqual([fromB?.head?.height, [...(fromB?.extra ?? [])]], [1n, [1]])
  })

  it('periodic rounds carry what getStatus says now, again and again', async () => {
    let status: LocalStatus = { head: head(10) }
    const b = await net.node({ handshake: { getStatus: () => status } })
    const a = await net.node({ handshake: { statusInterval: 200 } })
    await a.connect(b.getMultiaddrs()[0])
    assert.equal(a.session(b.peerId)?.head?.height, 10n)
    status = { head: head(11) }
    const eleventh = await nextEvent<SessionStatusDetail>(a, 'session:status', undefined, 3_000)
    assert.deepEqual([eleventh.session.head?.height, eleventh.previousHead?.height], [11n, 10n])
    status = { head: head(12) }
    const twelfth = await nextEvent<SessionStatusDetail>(a, 'session:status', undefined, 3_000)
    assert.deepEqual([twelfth.session.head?.height, twelfth.previousHead?.height], [12n, 11n])
  })

  it('refreshStatus exchanges at once and both sides update; without a session it fails with NoSessionError', async () => {
    let aStatus: LocalStatus = { head: head(1) }
    let bStatus: LocalStatus = { head: head(2) }
    const a = await net.node({ handshake: { getStatus: () => aStatus, statusInterval: false } })
    const b = await net.node({ handshake: { getStatus: () => bStatus, statusInterval: 0 } })
    await a.connect(b.getMultiaddrs()[0])
    await until(() => b.session(a.peerId) != null, 5_000, 'session at b')
    aStatus = { head: head(31) }
    bStatus = { head: head(32) }
    const atB = nextEvent<SessionStatusDetail>(b, 'session:status')
    const session = await a.refreshStatus(b.peerId)
    assert.equal(session, a.session(b.peerId))
    assert.equal(session.head?.height, 32n)
    const detail = await atB
    assert.deepEqual([detail.session.head?.height, detail.previousHead?.height], [31n, 1n])

    const stranger = await net.node()
    await assert.rejects(a.refreshStatus(stranger.peerId), (err: Error) => err.name === NoSessionError.name)
  })

  it('a DID that no longer resolves ends the session at the next periodic round with DID_UNRESOLVABLE', async () => {
    const resolver = new ControlledResolver()
    const a = await net.node({ did: { resolver }, handshake: { statusInterval: 200 } })
    const b = await net.node()
    await a.connect(b.getMultiaddrs()[0])
    // rounds go on while the DID resolves
    const calls = resolver.calls
    await until(() => resolver.calls >= calls + 2, 5_000, 'two revalidations')
    assert.ok(a.session(b.peerId) != null)

    const closed = nextEvent<SessionCloseDetail>(a, 'session:close')
    resolver.overrides.set(b.did, new DidUnresolvableError('deactivated'))
    assert.equal((await closed).reason, ReasonCode.DID_UNRESOLVABLE)
    assert.equal(a.session(b.peerId), undefined)
    await until(() => b.session(a.peerId) == null, 5_000, 'the session to end at b too')
  })

  it('a DID that no longer lists the key that signed the handshake ends the session with KEY_REVOKED; a rotation that keeps it does not', async () => {
    const resolver = new ControlledResolver()
    const a = await net.node({ did: { resolver }, handshake: { statusInterval: 200 } })
    const b = await net.node()
    await a.connect(b.getMultiaddrs()[0])
    const original = await new KeyDidResolver().resolve(b.did)
    const newKey = (await generateKeyPair('Ed25519')).publicKey

    resolver.overrides.set(b.did, [newKey, ...original])
    const calls = resolver.calls
    await until(() => resolver.calls >= calls + 2, 5_000, 'two revalidations with both keys')
    assert.ok(a.session(b.peerId) != null, 'the handshake key is still listed')

    const closed = nextEvent<SessionCloseDetail>(a, 'session:close')
    resolver.overrides.set(b.did, [newKey])
    assert.equal((await closed).reason, ReasonCode.KEY_REVOKED)
  })

  it('the README\'s registry resolver (a plain DidResolver): a rotated key ends the session with KEY_REVOKED, a deactivated DID with DID_UNRESOLVABLE, and the peer hears each', async () => {
    const deactivated = new Set<string>()
    const rotated = new Map<string, PublicKey[]>()
    const keyDid = new KeyDidResolver()
    const resolver: DidResolver = {
      async resolve (did: string, options?: AbortOptions): Promise<PublicKey[]> {
        if (deactivated.has(did)) {
          throw new DidUnresolvableError(`${did} is deactivated`)
        }
        return rotated.get(did) ?? keyDid.resolve(did)
      }
    }
    const a = await net.node({ did: { resolver }, handshake: { statusInterval: 200 } })
    const cases: Array<[ReasonCode, (did: string) => Promise<void>]> = [
      [ReasonCode.KEY_REVOKED, async did => { rotated.set(did, [(await generateKeyPair('Ed25519')).publicKey]) }],
      [ReasonCode.DID_UNRESOLVABLE, async did => { deactivated.add(did) }]
    ]
    for (const [reason, change] of cases) {
      const b = await net.node()
      await a.connect(b.getMultiaddrs()[0])
      await until(() => b.session(a.peerId) != null, 5_000, 'session at b')
      const atA = nextEvent<SessionCloseDetail>(a, 'session:close', d => d.session.peerId.equals(b.peerId))
      const atB = nextEvent<SessionCloseDetail>(b, 'session:close', d => d.session.peerId.equals(a.peerId))
      await change(b.did)
      const [local, remote] = await Promise.all([atA, atB])
      assert.deepEqual([local.reason, local.side], [reason, 'local'])
      assert.deepEqual([remote.reason, remote.side], [reason, 'remote'], 'the peer hears it in a Goodbye')
    }
  })

  it('three failed exchanges in a row end the session with TIMEOUT; two do not', async () => {
    const a = await net.node({ handshake: { statusInterval: 300 } })
    const b = await net.node()
    // b answers every status request with a malformed Status: field 1 (head) as a varint
    let requests = 0
    const sessions = b.libp2p.services.sessions
    await sessions.unhandle(STATUS_PROTOCOL)
    await sessions.handle(STATUS_PROTOCOL, async (stream) => {
      requests++
      stream.send(encodeFrame(Uint8Array.of(0x08, 0x01)))
      await stream.close()
    })
    await a.connect(b.getMultiaddrs()[0])
    const closed = nextEvent<SessionCloseDetail>(a, 'session:close')
    await until(() => requests === 2, 5_000, 'two failed rounds')
    assert.ok(a.session(b.peerId) != null, 'two failures in a row do not end the session')
    assert.equal((await closed).reason, ReasonCode.TIMEOUT)
    assert.equal(requests, 3)
  })

  it('a session peer that does not speak the status protocol keeps its session through many pushes, and its DID is still revalidated', async () => {
    const resolver = new ControlledResolver()
    const a = await net.node({ did: { resolver }, handshake: { statusInterval: 300 } })
    const b = await net.node({ handshake: { statusInterval: false } })
    // b speaks the handshake (PROTOCOL.md §1–14) but not §15: its status protocol gets `na`
    await b.libp2p.services.sessions.unhandle(STATUS_PROTOCOL)
    await a.connect(b.getMultiaddrs()[0])
    await until(() => b.session(a.peerId) != null, 5_000, 'session at b')
    const closes: string[] = []
    a.addEventListener('session:close', (evt) => { closes.push(evt.detail.reason) })
    // a head every 250 ms for 4 s: a push round a second, and periodic rounds every 300 ms
    for (let height = 1; height <= 16; height++) {
      a.setHead(head(height))
      await new Promise(resolve => setTimeout(resolve, 250))
    }
    assert.deepEqual(closes, [], 'no session:close')
    assert.ok(a.session(b.peerId) != null && b.session(a.peerId) != null, 'the session holds on both sides')
    await assert.rejects(a.refreshStatus(b.peerId), (err: Error) => err.name === 'UnsupportedProtocolError')
    assert.ok(a.session(b.peerId) != null, 'a refresh it cannot answer is no failure either')

    // revalidation needs nothing from the peer: it goes on, and can end the session
    const calls = resolver.calls
    await until(() => resolver.calls >= calls + 2, 5_000, 'two more revalidations')
    const closed = nextEvent<SessionCloseDetail>(a, 'session:close')
    resolver.overrides.set(b.did, new DidUnresolvableError('deactivated'))
    assert.equal((await closed).reason, ReasonCode.DID_UNRESOLVABLE)
  })

  it('a success resets the failure count', async () => {
    const b = await net.node()
    const a = await net.node({ handshake: { statusInterval: false } })
    let malformed = true
    const sessions = b.libp2p.services.sessions
    await sessions.unhandle(STATUS_PROTOCOL)
    await sessions.handle(STATUS_PROTOCOL, async (stream) => {
      stream.send(malformed ? encodeFrame(Uint8Array.of(0x08, 0x01)) : encodeStatus({ head: head(5) }))
      await stream.close()
    })
    await a.connect(b.getMultiaddrs()[0])
    const fail = async (): Promise<void> => { await assert.rejects(a.refreshStatus(b.peerId), (err: Error) => err.name === 'InvalidMessageError') }
    await fail()
    await fail()
    malformed = false
    assert.equal((await a.refreshStatus(b.peerId)).head?.height, 5n)
    malformed = true
    await fail()
    await fail()
    assert.ok(a.session(b.peerId) != null, 'two failures since the last success')
    await fail()
    await until(() => a.session(b.peerId) == null, 5_000, 'the third failure in a row to end the session')
  })

  it('a session that opens while the status handler is being registered gets its rounds: refreshStatus works for it', async () => {
    const a = await net.node({ handshake: { statusInterval: false } })
    const b = await net.node({ handshake: { statusInterval: false } })
    await b.libp2p.stop()
    // b's start holds in the registration of the status handler until released
    const sessions = b.libp2p.services.sessions
    const handle = sessions.handle.bind(sessions)
    let release = (): void => {}
    const held = new Promise<void>(resolve => { release = resolve })
    let holding = false
    sessions.handle = async (protocol, handler, options) => {
      if (protocol === STATUS_PROTOCOL) {
        holding = true
        await held
      }
      await handle(protocol, handler, options)
    }
    const started = b.libp2p.start()
    await until(() => holding, 5_000, 'b to be registering the status handler')
    // b is not listening yet (that comes after start), but it dials
    await b.libp2p.services.handshake.connect(a.getMultiaddrs()[0])
    release()
    await started
    assert.equal((await b.refreshStatus(a.peerId)).peerId.equals(a.peerId), true)
  })

  it('the responder is rate-limited per peer: a request sooner than STATUS_MIN_REQUEST_GAP_MS after the last one is reset unanswered', async () => {
    let calls = 0
    const b = await net.node({ handshake: { getStatus: () => { calls++; return { head: head(1) } }, statusInterval: false } })
    const a = await net.node({ handshake: { statusInterval: false } })
    const events = statusEvents(b)
    const session = await a.connect(b.getMultiaddrs()[0])
    await until(() => b.session(a.peerId) != null, 5_000, 'session at b')
    calls = 0
    /** one raw request on the session's connection: true when a Status came back */
    const ask = async (height: number): Promise<boolean> => {
      const stream = await session.connection.newStream(STATUS_PROTOCOL)
      try {
        // a reset may come before the send: that is a refusal too
        stream.send(encodeStatus({ head: head(height) }))
        let bytes = 0
        for await (const chunk of stream) {
          bytes += chunk.byteLength
        }
        await stream.close()
        return bytes > 0
      } catch {
        return false
      }
    }
    const started = performance.now()
    const answers: boolean[] = []
    for (let height = 2; height < 22; height++) {
      answers.push(await ask(height))
    }
    const elapsed = performance.now() - started
    const answered = answers.filter(Boolean).length
    assert.equal(answers[0], true, 'the first request is answered')
    assert.ok(answered <= 1 + elapsed / STATUS_MIN_REQUEST_GAP_MS, `${answered} of 20 answered in ${elapsed.toFixed(0)} ms`)
    assert.ok(answered < 20, 'back-to-back requests are refused')
    assert.equal(calls, answered, 'getStatus is read for answered requests only')
    assert.equal(events.length, answered, 'session:status only for requests taken')
    assert.ok(b.session(a.peerId) != null, 'the peer keeps its session')

    // a spacing, not a ban
    await new Promise(resolve => setTimeout(resolve, STATUS_MIN_REQUEST_GAP_MS + 50))
    assert.equal(await ask(30), true)
  })

  it('a requester spaces its rounds to the responder\'s limit: refreshes right after a push and back to back are all answered', async () => {
    const a = await net.node({ handshake: { statusInterval: false } })
    const b = await net.node({ handshake: { getStatus: () => ({ head: head(4) }), statusInterval: false } })
    await a.connect(b.getMultiaddrs()[0])
    await until(() => b.session(a.peerId) != null, 5_000, 'session at b')
    a.setHead(head(1))
    for (let i = 0; i < 4; i++) {
      assert.equal((await a.refreshStatus(b.peerId)).head?.height, 4n)
    }
    assert.ok(a.session(b.peerId) != null)
  })

  it('rounds the peer starts are not this node\'s rounds (PROTOCOL.md §15.4): an answer in flight does not hold its own round, and one just given does not space it', async () => {
    /** reads the whole answer of a raw status stream: true when a Status came back */
    const answered = async (stream: Stream): Promise<boolean> => {
      let bytes = 0
      for await (const chunk of stream) {
        bytes += chunk.byteLength
      }
      await stream.close()
      return bytes > 0
    }

    // b starts a round with a by hand and holds it: a, answering, waits up to
    // STATUS_TIMEOUT_MS for the request. a's own round with b goes on meanwhile
    const a = await net.node({ handshake: { getStatus: () => ({ head: head(1) }), statusInterval: false } })
    const b = await net.node({ handshake: { getStatus: () => ({ head: head(2) }), statusInterval: false } })
    const atB = await b.connect(a.getMultiaddrs()[0])
    await until(() => a.session(b.peerId) != null, 5_000, 'session at a')
    const held = await atB.connection.newStream(STATUS_PROTOCOL)
    const own = await a.refreshStatus(b.peerId, { signal: AbortSignal.timeout(STATUS_TIMEOUT_MS / 2) })
    assert.equal(own.head?.height, 2n)
    held.send(encodeStatus({ head: head(3) }))
    assert.equal(await answered(held), true, 'the held round is answered once its request comes')
    assert.equal(a.session(b.peerId)?.head?.height, 3n)

    // d starts a round with c; c's own first round right after it starts at
    // once, not STATUS_MIN_ROUND_GAP_MS after the one it answered
    const c = await net.node({ handshake: { getStatus: () => ({ head: head(1) }), statusInterval: false } })
    const d = await net.node({ handshake: { getStatus: () => ({ head: head(4) }), statusInterval: false } })
    const atD = await d.connect(c.getMultiaddrs()[0])
    await until(() => c.session(d.peerId) != null, 5_000, 'session at c')
    const ask = await atD.connection.newStream(STATUS_PROTOCOL)
    ask.send(encodeStatus({ head: head(5) }))
    assert.equal(await answered(ask), true)
    const started = performance.now()
    assert.equal((await c.refreshStatus(d.peerId)).head?.height, 4n)
    const elapsed = performance.now() - started
    assert.ok(elapsed < STATUS_MIN_ROUND_GAP_MS - 100, `c's round took ${elapsed.toFixed(0)} ms: it waited as if the peer's round were its own`)
  })

  it('is gated: a raw libp2p node without a session gets no answer, and the node learns nothing', async () => {
    const node = await net.node()
    assert.equal(node.libp2p.services.sessions.isGated(STATUS_PROTOCOL), true)
    const events = statusEvents(node)
    const plain = await net.plain()
    const stream = await plain.dialProtocol(node.getMultiaddrs()[0], STATUS_PROTOCOL)
    sendUnlessRefused(stream, encodeStatus({ head: head(9) }))
    const reply = await (async () => {
      const received: Uint8Array[] = []
      for await (const chunk of stream) {
        received.push(chunk.subarray())
      }
      return received
    })().catch((err: Error) => err)
    assert.ok(reply instanceof Error || reply.length === 0, `no Status expected, got ${String(reply)}`)
    assert.equal(events.length, 0)
  })
})
