/**
 * Goodbye (PROTOCOL.md §11.1): every way this node ends a session tells the
 * peer why before hanging up, and the peer's session:close says so.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { ReasonCode } from '../../src/index.js'
import { GOODBYE_PROTOCOL, GOODBYE_TIMEOUT_MS } from '../../src/session/constants.js'
import { GOODBYE_SPEC } from '../../src/session/goodbye.js'
import { Goodbye } from '../../src/session/pb/session.js'
import { encodeFrame } from '../../src/wire/index.js'
import { readRepoFile } from '../utils/files.js'
import { TestNetwork, nextEvent, until } from '../utils/nodes.js'
import { sendUnlessRefused } from '../utils/protocols.js'
import type { PeerNode, SessionCloseDetail } from '../../src/index.js'
import type { Stream } from '@libp2p/interface'

const net = new TestNetwork()
after(async () => { await net.cleanup() })

/** Two nodes with a session, `a` having selected `b` */
async function pair (options: Parameters<TestNetwork['node']>[0] = {}): Promise<[PeerNode, PeerNode]> {
  const a = await net.node()
  const b = await net.node(options)
  await a.connect(b.getMultiaddrs()[0])
  await until(() => b.session(a.peerId) != null, 5_000, 'session at b')
  return [a, b]
}

function closeAt (node: PeerNode, peer: PeerNode): Promise<SessionCloseDetail> {
  return nextEvent<SessionCloseDetail>(node, 'session:close', d => d.session.peerId.equals(peer.peerId))
}

describe('Goodbye', () => {
  it('a disconnect with an application code reaches the peer: reason, code and note', async () => {
    const [a, b] = await pair()
    const atA = closeAt(a, b)
    const atB = closeAt(b, a)
    await a.disconnect(b.peerId, ReasonCode.APPLICATION_REJECTED, { appCode: 9, detail: 'your blocks do not verify' })
    const [local, remote] = await Promise.all([atA, atB])
    assert.deepEqual([local.reason, local.side, local.appCode], [ReasonCode.APPLICATION_REJECTED, 'local', 9])
    assert.deepEqual([remote.reason, remote.side, remote.appCode, remote.message], [ReasonCode.APPLICATION_REJECTED, 'remote', 9, 'your blocks do not verify'])
    await until(() => a.libp2p.getConnections(b.peerId).length === 0 && b.libp2p.getConnections(a.peerId).length === 0, 5_000, 'hung up')
    // what the remote held against this node backs the contact off for the long wait
    await until(() => b.contacts().find(c => c.peerId.equals(a.peerId))?.backoffReason === ReasonCode.APPLICATION_REJECTED, 5_000, 'backoff at b')
    // and the side that refused does not dial the peer again on its next tick either
    await until(() => a.contacts().find(c => c.peerId.equals(b.peerId))?.backoffReason === ReasonCode.APPLICATION_REJECTED, 5_000, 'backoff at a')
  })

  it('a ban says BANNED to the banned peer, whose book then waits the long backoff', async () => {
    const [a, b] = await pair()
    const atA = closeAt(a, b)
    await b.ban(a.did)
    const heard = await atA
    assert.deepEqual([heard.reason, heard.side], [ReasonCode.BANNED, 'remote'])
    await until(() => a.contacts().find(c => c.peerId.equals(b.peerId))?.backoffReason === ReasonCode.BANNED, 5_000, 'backoff at a')
    const contact = a.contacts().find(c => c.peerId.equals(b.peerId))
    assert.ok((contact?.nextAttempt ?? 0) > Date.now() + 60 * 60 * 1000, 'hours, not seconds')
  })

  it('a node that stops says SHUTDOWN to every session peer; they wait only a little before dialing it again', async () => {
    const [a, b] = await pair()
    const c = await net.node()
    await c.connect(b.getMultiaddrs()[0])
    await until(() => b.sessions().length === 2, 5_000, 'two sessions at b')
    const atA = closeAt(a, b)
    const atC = closeAt(c, b)
    const started = Date.now()
    await b.stop()
    assert.ok(Date.now() - started < 3_000, 'the goodbyes are bounded')
    for (const heard of await Promise.all([atA, atC])) {
      assert.deepEqual([heard.reason, heard.side], [ReasonCode.SHUTDOWN, 'remote'])
    }
    await until(() => a.contacts().find(c => c.peerId.equals(b.peerId))?.backoffReason === 'SESSION_ENDED', 5_000, 'short wait at a')
  })

  it('a connect right after a Goodbye, said by either side, makes a session on a new connection: the one the Goodbye ended is being hung up', async () => {
    const [a, b] = await pair()
    for (const [who, end] of [['the peer', async () => { await b.disconnect(a.peerId) }], ['this node', async () => { await a.disconnect(b.peerId) }]] as const) {
      const old = a.session(b.peerId)?.connection.id
      const closed = closeAt(a, b)
      await end()
      await closed
      const session = await a.connect(b.getMultiaddrs()[0])
      assert.notEqual(session.connection.id, old, `after a Goodbye said by ${who}`)
      await until(() => b.session(a.peerId) != null, 5_000, 'session at b')
    }
  })

  it('a session shed over the limit hears TOO_MANY_PEERS', async () => {
    const hub = await net.node({ limits: { maxInboundSessions: 1, maxOutboundSessions: 1, inboundBurst: 1 } })
    const first = await net.node()
    const second = await net.node()
    await first.connect(hub.getMultiaddrs()[0])
    await second.connect(hub.getMultiaddrs()[0])
    await until(() => hub.sessions().length === 2, 5_000, 'burst admitted')
    const atSecond = closeAt(second, hub)
    await hub.libp2p.services.dial.tick()
    const heard = await atSecond
    // exactly PROTOCOL.md §14.10's vector 02 08 0a: the reason, no code, no detail
    assert.deepEqual([heard.reason, heard.side, heard.appCode, heard.message], [ReasonCode.TOO_MANY_PEERS, 'remote', undefined, undefined], 'the newest is shed and told why')
    assert.ok(first.session(hub.peerId) != null)
  })

  it('an unreadable Goodbye ends the session as a closed connection; a Goodbye from a peer without a session is refused', async () => {
    const [a, b] = await pair()
    const atB = closeAt(b, a)
    const raw = await a.libp2p.dialProtocol(b.peerId, GOODBYE_PROTOCOL)
    raw.send(encodeFrame(Uint8Array.of(0xff, 0xff, 0xff)))
    await raw.close()
    const heard = await atB
    assert.deepEqual([heard.reason, heard.side], [ReasonCode.CONNECTION_CLOSED, 'remote'])
    assert.match(heard.message ?? '', /^undecodable goodbye: tag at offset 0/)
    // and the peer score counts it
    assert.deepEqual(b.peerScore(a.peerId)?.events.map(event => [event.reason, event.action]), [['goodbye:malformed', 'LOW_TOLERANCE']])

    const node = await net.node()
    const plain = await net.plain()
    const stranger = await plain.dialProtocol(node.getMultiaddrs()[0], GOODBYE_PROTOCOL)
    sendUnlessRefused(stranger, encodeFrame(Goodbye.encode({ reason: ReasonCode.BANNED })))
    await until(() => stranger.status !== 'open', 5_000, 'stream refused')
    assert.equal(node.sessions().length, 0)
  })

  /**
   * `a` opens a Goodbye stream to `b` by hand and writes `bytes` (a whole
   * frame, or less); closes its write side unless `keepOpen`
   */
  async function sayRaw (a: PeerNode, b: PeerNode, bytes: Uint8Array, keepOpen = false): Promise<Stream> {
    const raw = await a.libp2p.dialProtocol(b.peerId, GOODBYE_PROTOCOL)
    if (bytes.byteLength > 0) {
      raw.send(bytes)
    }
    if (!keepOpen) {
      await raw.close()
    }
    return raw
  }

  const hex = (value: string): Uint8Array => Uint8Array.from(Buffer.from(value.replace(/\s+/g, ''), 'hex'))
  const frame = (body: string): Uint8Array => encodeFrame(hex(body)).subarray()

  it('a Goodbye is decoded strictly, as PROTOCOL.md §4.3 says (its reason and app_code are 32-bit fields): what does not decode ends the session as CONNECTION_CLOSED', async () => {
    const b = await net.node()
    const cases: Array<[string, string, ReasonCode, RegExp | string | undefined, number?]> = [
      ['reason sent length-delimited', '0a 01 07', ReasonCode.CONNECTION_CLOSED, /^undecodable goodbye: field 1 \(reason\) has wire type 2/],
      ['reason as a varint of 6 bytes', '08 87 80 80 80 80 00', ReasonCode.CONNECTION_CLOSED, /^undecodable goodbye: field 1 \(reason\) at offset 1 overflows 32 bits/],
      ['app_code 2^32', '08 10 10 80 80 80 80 10', ReasonCode.CONNECTION_CLOSED, /^undecodable goodbye: field 2 \(app_code\) at offset 3 overflows 32 bits/],
      ['a reason §12 does not define', '08 63', ReasonCode.CONNECTION_CLOSED, /^undecodable goodbye: /],
      ['detail that is not UTF-8', '08 07 1a 01 ff', ReasonCode.CONNECTION_CLOSED, /^undecodable goodbye: field 3 \(detail\) is not valid UTF-8/],
      ['field number 0', '00 07', ReasonCode.CONNECTION_CLOSED, /^undecodable goodbye: tag at offset 0 has field number 0/],
      // valid encodings that are not minimal are read
      ['reason 7 padded to 5 bytes, an unknown field after it', '08 87 80 80 80 00 50 01', ReasonCode.BANNED, undefined],
      ['app_code 2^32 - 1', '08 10 10 ff ff ff ff 0f', ReasonCode.APPLICATION_REJECTED, undefined, 2 ** 32 - 1],
      ['no reason at all', '', ReasonCode.UNSPECIFIED, undefined]
    ]
    for (const [name, body, reason, message, appCode] of cases) {
      const a = await net.node()
      await a.connect(b.getMultiaddrs()[0])
      await until(() => b.session(a.peerId) != null, 5_000, 'session at b')
      const atB = closeAt(b, a)
      await sayRaw(a, b, frame(body))
      const heard = await atB
      assert.deepEqual([heard.reason, heard.side, heard.appCode], [reason, 'remote', appCode], name)
      if (message instanceof RegExp) {
        assert.match(heard.message ?? '', message, name)
      } else {
        assert.equal(heard.message, message, name)
      }
    }
  })

  it('the 512-byte limit is on the body, not the frame; a longer body, a non-minimal prefix or a stream that ends inside the frame is CONNECTION_CLOSED', async () => {
    const b = await net.node()
    // reason BANNED (2 bytes), then an unknown length-delimited field 11: tag, a 2-byte length, filler
    const padded = (bodyBytes: number): Uint8Array => encodeFrame(Uint8Array.from([0x08, 0x07, 0x5a, ...Buffer.from(encodeFrame(new Uint8Array(bodyBytes - 5)).subarray())])).subarray()
    assert.equal(padded(512).byteLength, 514, 'a 512-byte body is a 514-byte frame')
    const cases: Array<[string, Uint8Array, ReasonCode, RegExp | undefined]> = [
      ['a body of 512 bytes (a frame of 514)', padded(512), ReasonCode.BANNED, undefined],
      ['a body of 513 bytes', padded(513), ReasonCode.CONNECTION_CLOSED, /^unreadable goodbye: /],
      ['a non-minimal prefix (82 00 for 2)', hex('82 00 08 07'), ReasonCode.CONNECTION_CLOSED, /^unreadable goodbye: length prefix 8200 is not minimally encoded/],
      ['a stream that ends inside the frame', hex('04 08 07'), ReasonCode.CONNECTION_CLOSED, /^unreadable goodbye: /],
      ['a stream that ends before a frame', new Uint8Array(0), ReasonCode.CONNECTION_CLOSED, /^goodbye stream ended without a message$/]
    ]
    for (const [name, bytes, reason, message] of cases) {
      const a = await net.node()
      await a.connect(b.getMultiaddrs()[0])
      await until(() => b.session(a.peerId) != null, 5_000, 'session at b')
      const atB = closeAt(b, a)
      await sayRaw(a, b, bytes)
      const heard = await atB
      assert.deepEqual([heard.reason, heard.side], [reason, 'remote'], name)
      if (message != null) {
        assert.match(heard.message ?? '', message, name)
      }
    }
  })

  it('a Goodbye stream without a whole frame 1 s after it arrived ends the session as CONNECTION_CLOSED and is reset', async () => {
    const b = await net.node()
    for (const [name, bytes] of [['nothing sent', ''], ['a prefix and half a body', '04 08 07']]) {
      const a = await net.node()
      await a.connect(b.getMultiaddrs()[0])
      await until(() => b.session(a.peerId) != null, 5_000, 'session at b')
      const atB = closeAt(b, a)
      const raw = await sayRaw(a, b, hex(bytes), true)
      const opened = Date.now()
      const heard = await atB
      assert.deepEqual([heard.reason, heard.side], [ReasonCode.CONNECTION_CLOSED, 'remote'], name)
      assert.equal(heard.message, `no goodbye within ${GOODBYE_TIMEOUT_MS} ms`, name)
      assert.ok(Date.now() - opened >= GOODBYE_TIMEOUT_MS - 300, `${name}: not before the deadline (${Date.now() - opened} ms)`)
      await until(() => raw.status === 'reset' || raw.status === 'aborted', 5_000, `${name}: the stream is reset`)
    }
  })

  it('a detail over 256 bytes is read as its longest prefix of whole characters within 256 bytes', async () => {
    const [a, b] = await pair()
    const atB = closeAt(b, a)
    // 130 × é is 260 bytes: the body is 267, within the 512
    await sayRaw(a, b, encodeFrame(Goodbye.encode({ reason: ReasonCode.APPLICATION_REJECTED, appCode: 9, detail: 'é'.repeat(130) })).subarray())
    const heard = await atB
    assert.deepEqual([heard.reason, heard.side, heard.appCode, heard.message], [ReasonCode.APPLICATION_REJECTED, 'remote', 9, 'é'.repeat(128)])
  })

  it('the Goodbye\'s strict spec mirrors protobuf/session.proto', async () => {
    const proto = await readRepoFile('protobuf/session.proto')
    const body = /message Goodbye \{([^}]*)\}/.exec(proto)?.[1] ?? ''
    const fields = [...body.matchAll(/^\s*(?:optional\s+)?([\w.]+)\s+(\w+)\s*=\s*(\d+);/gm)].map(m => [Number(m[3]), m[2], m[1]])
    const types: Record<string, string> = { 'peergate.reason.ReasonCode': 'enum', uint32: 'uint32', string: 'string' }
    assert.deepEqual(fields.map(([number, name, type]) => [number, name, types[type]]), [...GOODBYE_SPEC].map(([number, field]) => [number, field.name, field.type]))
  })
})
