/**
 * The session manager against in-memory components: a fake connection per
 * handshake, a memory datastore, no network. The admission port is driven
 * directly, as the handshake service drives it.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { defaultLogger } from '@libp2p/logger'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { MemoryDatastore } from 'datastore-core'
import { TypedEventEmitter } from 'main-event'
import { KeyDidSigner, handshake, sessions, type Session, type SessionCloseDetail, type SessionRejectDetail, type SessionStatusDetail, type Sessions, type SessionManagerInit } from '../../src/index.js'
import { ReasonCode } from '../../src/reason/index.js'
import { admissionOf, type Admission, type Attempt, type RemoteInfo, type Verdict } from '../../src/session/admission.js'
import { streamPair } from '@libp2p/utils'
import type { Connection, Libp2pEvents, PeerId, Stream, StreamHandler } from '@libp2p/interface'

async function newPeer (): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

let connections = 0

function fakeConnection (remotePeer: PeerId): Connection {
  const connection = {
    id: `c${++connections}`,
    remotePeer,
    remoteAddr: multiaddr('/ip4/127.0.0.1/tcp/1'),
    direction: 'inbound',
    status: 'open',
    async close () { connection.status = 'closed' },
    abort () { connection.status = 'closed' }
  }
  return connection as unknown as Connection
}

function remote (did: string): RemoteInfo {
  return { did, chainVersion: '1.0.0', extra: new Uint8Array() }
}

interface Harness {
  manager: Sessions & { beforeStop(): void }
  admission: Admission
  events: TypedEventEmitter<Libp2pEvents>
  local: PeerId
}

async function harness (init: SessionManagerInit = {}, handlers = new Map<string, StreamHandler>()): Promise<Harness> {
  const local = await newPeer()
  const events = new TypedEventEmitter<Libp2pEvents>()
  const manager = sessions(init)({
    peerId: local,
    datastore: new MemoryDatastore(),
    registrar: {
      handle: async (protocol: string, handler: StreamHandler) => { handlers.set(protocol, handler) },
      unhandle: async (protocol: string) => { handlers.delete(protocol) }
    } as any,
    peerStore: { merge: async () => ({}) } as any,
    events,
    logger: defaultLogger()
  }) as Sessions & { start(): Promise<void>, beforeStop(): void }
  await manager.start()
  return { manager, admission: admissionOf(manager), events, local }
}

function begun (verdict: Verdict<Attempt>): Attempt {
  if ('rejected' in verdict) {
    assert.fail(`expected an attempt, got ${verdict.rejected.reason}: ${verdict.rejected.message}`)
  }
  return verdict.admitted
}

function opened (verdict: Verdict<Session>): Session {
  if ('rejected' in verdict) {
    assert.fail(`expected a session, got ${verdict.rejected.reason}: ${verdict.rejected.message}`)
  }
  return verdict.admitted
}

/** the reason code of a rejected verdict, undefined when admitted */
function rejected (verdict: Verdict<unknown>): ReasonCode | undefined {
  return 'rejected' in verdict ? verdict.rejected.reason : undefined
}

describe('session manager (in memory)', () => {
  it('offers no public way to make a session: only the admission port does', async () => {
    const { manager } = await harness()
    for (const name of ['begin', 'open', 'checkRemote', 'fail', 'nextSession', 'updateStatus', 'setStatus', 'setHead', 'beginHandshake', 'admitRemote', 'completeHandshake', 'failHandshake']) {
      assert.equal(typeof (manager as any)[name], 'undefined', name)
    }
    assert.throws(() => admissionOf({} as Sessions), { name: 'InvalidParametersError', message: /session manager registered as the service `sessions`/ })
  })

  it('a handshake service given another sessions component refuses to start, naming what it needs', async () => {
    const service = handshake({ chain: { chainId: 'c', genesisHash: Uint8Array.of(1), version: '1.0.0' }, signer: new KeyDidSigner(await generateKeyPair('Ed25519')) })({
      peerId: await newPeer(),
      registrar: { handle: async () => {} } as any,
      connectionManager: {} as any,
      events: new TypedEventEmitter<Libp2pEvents>(),
      logger: defaultLogger(),
      sessions: new TypedEventEmitter() as unknown as Sessions
    }) as unknown as { start(): Promise<void> }
    await assert.rejects(service.start(), { name: 'InvalidParametersError', message: /session manager registered as the service `sessions`/ })
  })

  it('opens a session from a plain remote record and announces it', async () => {
    const { manager, admission } = await harness()
    const peer = await newPeer()
    const connection = fakeConnection(peer)
    const starts: unknown[] = []
    manager.addEventListener('handshake:start', (evt) => { starts.push(evt.detail) })
    const attempt = begun(admission.begin(connection, 'inbound'))
    assert.equal(manager.isHandshaking(peer), true)
    assert.deepEqual(starts, [{ peerId: peer, connectionId: connection.id, direction: 'inbound' }])
    assert.equal(manager.connectionInUse(connection), true)

    const session = opened(admission.open(attempt, { ...remote('did:key:a'), head: { height: 7n, hash: Uint8Array.of(1) } }))
    assert.equal(manager.get(peer), session)
    assert.deepEqual([session.did, session.direction, session.chainVersion, session.head?.height, session.connection], ['did:key:a', 'inbound', '1.0.0', 7n, connection])
    assert.equal(manager.isHandshaking(peer), false)
    assert.equal(manager.count('inbound'), 1)
    assert.equal(rejected(admission.begin(fakeConnection(peer), 'outbound')), ReasonCode.DUPLICATE, 'a second handshake with a session peer is a duplicate')
  })

  it('updateStatus changes the live session\'s head and extra and announces it with the previous head; nothing when unchanged or without a session', async () => {
    const { manager, admission } = await harness()
    const peer = await newPeer()
    const statuses: SessionStatusDetail[] = []
    manager.addEventListener('session:status', (evt) => { statuses.push({ ...evt.detail, session: evt.detail.session }) })
    const session = opened(admission.open(begun(admission.begin(fakeConnection(peer), 'inbound')), { ...remote('did:key:a'), head: { height: 0n, hash: Uint8Array.of(1) } }))

    assert.equal(admission.updateStatus(peer, { head: { height: 0n, hash: Uint8Array.of(1) }, extra: new Uint8Array() }), session)
    assert.equal(statuses.length, 0, 'the same head and extra: no event')

    assert.equal(admission.updateStatus(peer, { head: { height: 100n, hash: Uint8Array.of(2) }, extra: new Uint8Array() }), session)
    assert.equal(manager.get(peer), session, 'the same session object')
    assert.deepEqual(session.head, { height: 100n, hash: Uint8Array.of(2) })
    assert.deepEqual(statuses.map(s => [s.session, s.previousHead?.height]), [[session, 0n]])

    admission.updateStatus(peer, { head: { height: 100n, hash: Uint8Array.of(2) }, extra: Uint8Array.of(9) })
    assert.deepEqual(session.extra, Uint8Array.of(9))
    admission.updateStatus(peer, { extra: Uint8Array.of(9) })
    assert.equal(session.head, undefined, 'a status without head leaves the session without one')
    assert.deepEqual(statuses.map(s => s.previousHead?.height), [0n, 100n, 100n])

    assert.equal(admission.updateStatus(await newPeer(), { extra: new Uint8Array() }), undefined, 'no session, nothing to update')
    assert.equal(statuses.length, 3)
  })

  it('inbound handshakes hold no slot: the limit is checked again when one opens its session', async () => {
    const { manager, admission } = await harness({ maxInboundSessions: 1, inboundBurst: 0 })
    const [a, b, c] = await Promise.all([newPeer(), newPeer(), newPeer()])
    const first = begun(admission.begin(fakeConnection(a), 'inbound'))
    const second = begun(admission.begin(fakeConnection(b), 'inbound'))
    opened(admission.open(first, remote('did:key:a')))
    assert.deepEqual(admission.open(second, remote('did:key:b')), { rejected: { reason: ReasonCode.TOO_MANY_PEERS, message: 'inbound session limit 1 (+0) reached' } })
    manager.setReserved([c])
    opened(admission.open(begun(admission.begin(fakeConnection(c), 'inbound')), remote('did:key:c')))
    assert.equal(manager.count('inbound'), 2, 'a reserved peer is outside the limit')
  })

  it('a session that ends gives back its slot and its DID; a reserved peer\'s session holds a slot only once it is reserved no more', async () => {
    const { manager, admission, events } = await harness({ maxInboundSessions: 1, inboundBurst: 0 })
    const [a, b, c, d] = await Promise.all([newPeer(), newPeer(), newPeer(), newPeer()])
    const connectionA = fakeConnection(a)
    opened(admission.open(begun(admission.begin(connectionA, 'inbound')), remote('did:key:a')))
    assert.equal(rejected(admission.begin(fakeConnection(b), 'inbound')), ReasonCode.TOO_MANY_PEERS)
    events.safeDispatchEvent('connection:close', { detail: connectionA })
    // a's slot and DID are free again: b takes both
    const withB = begun(admission.begin(fakeConnection(b), 'inbound'))
    assert.equal(admission.checkRemote(withB, 'did:key:a'), undefined)
    opened(admission.open(withB, remote('did:key:a')))

    manager.setReserved([c])
    opened(admission.open(begun(admission.begin(fakeConnection(c), 'inbound')), remote('did:key:c')))
    assert.equal(rejected(admission.begin(fakeConnection(d), 'inbound')), ReasonCode.TOO_MANY_PEERS, 'b holds the one slot')
    manager.setReserved([])
    // c's session, no longer reserved, counts now: still full
    assert.equal(rejected(admission.begin(fakeConnection(d), 'inbound')), ReasonCode.TOO_MANY_PEERS)
    manager.setReserved([b, c])
    // with b reserved too, no session holds a slot
    opened(admission.open(begun(admission.begin(fakeConnection(d), 'inbound')), remote('did:key:d')))
    assert.equal(manager.count('inbound'), 3)
  })

  it('outbound handshakes in flight hold their slot', async () => {
    const { admission } = await harness({ maxOutboundSessions: 1 })
    const [a, b] = await Promise.all([newPeer(), newPeer()])
    begun(admission.begin(fakeConnection(a), 'outbound'))
    assert.equal(rejected(admission.begin(fakeConnection(b), 'outbound')), ReasonCode.TOO_MANY_PEERS)
  })

  it('of two simultaneous handshakes the lower initiator wins, and the loser learns it through its signal', async () => {
    const { manager, admission, local } = await harness()
    const peer = await newPeer()
    const ours = begun(admission.begin(fakeConnection(peer), 'outbound'))
    const theirs = admission.begin(fakeConnection(peer), 'inbound')
    if (comparePeers(peer, local) < 0) {
      // the remote initiated the newcomer and has the lower id: it wins
      begun(theirs)
      assert.equal(ours.signal.aborted, true)
      assert.equal(ours.signal.reason.name, 'AttemptEndedError')
      assert.equal(ours.signal.reason.rejection.reason, ReasonCode.DUPLICATE)
    } else {
      // this node initiated the one in flight and has the lower id: it stays
      assert.equal(rejected(theirs), ReasonCode.DUPLICATE)
      assert.equal(ours.signal.aborted, false)
    }
    assert.equal(manager.isHandshaking(peer), true)
  })

  it('a DID in a session under another peer id is a duplicate; a banned DID is BANNED and the ban covers the new peer id', async () => {
    const { manager, admission } = await harness()
    const [a, b, c] = await Promise.all([newPeer(), newPeer(), newPeer()])
    opened(admission.open(begun(admission.begin(fakeConnection(a), 'inbound')), remote('did:key:same')))
    const twin = begun(admission.begin(fakeConnection(b), 'inbound'))
    assert.equal(admission.checkRemote(twin, 'did:key:same')?.reason, ReasonCode.DUPLICATE)

    await manager.ban('did:key:banned')
    const banned = begun(admission.begin(fakeConnection(c), 'inbound'))
    assert.equal(admission.checkRemote(banned, 'did:key:banned')?.reason, ReasonCode.BANNED)
    await waitFor(() => manager.banExpiry(c) != null)
    assert.equal(rejected(admission.begin(fakeConnection(c), 'inbound')), ReasonCode.BANNED)
  })

  it('a connection that closed before the commit makes no session', async () => {
    const { manager, admission } = await harness()
    const peer = await newPeer()
    const connection = fakeConnection(peer)
    const attempt = begun(admission.begin(connection, 'inbound'))
    await connection.close()
    assert.equal(rejected(admission.open(attempt, remote('did:key:a'))), ReasonCode.CONNECTION_CLOSED)
    assert.equal(manager.get(peer), undefined)
  })

  it('a failed handshake is reported once as session:reject and frees the peer', async () => {
    const { manager, admission } = await harness()
    const peer = await newPeer()
    const connection = fakeConnection(peer)
    const rejects: SessionRejectDetail[] = []
    manager.addEventListener('session:reject', (evt) => { rejects.push(evt.detail) })
    const attempt = begun(admission.begin(connection, 'outbound'))
    admission.fail(attempt, connection, 'outbound', { reason: ReasonCode.BAD_SIGNATURE, side: 'local', message: 'no' })
    assert.deepEqual(rejects.map(r => [r.reason, r.side, r.direction, r.connectionId]), [[ReasonCode.BAD_SIGNATURE, 'local', 'outbound', connection.id]])
    assert.equal(manager.isHandshaking(peer), false)
    assert.equal(manager.connectionInUse(connection), false)
  })

  it('waitForSession waits for a handshake in flight; nextSession waits for one to come and gives up on its signal', async () => {
    const { manager, admission } = await harness()
    const peer = await newPeer()
    assert.equal(await manager.waitForSession(peer), undefined, 'nothing in flight: no wait')
    const attempt = begun(admission.begin(fakeConnection(peer), 'inbound'))
    const waiting = manager.waitForSession(peer)
    const session = opened(admission.open(attempt, remote('did:key:a')))
    assert.equal(await waiting, session)

    const other = await newPeer()
    assert.equal(await admission.nextSession(other, { signal: AbortSignal.timeout(20) }), undefined)
    assert.equal((manager as any).waiters.size, 0, 'a wait given up leaves no waiter behind')
    const coming = admission.nextSession(other, { signal: AbortSignal.timeout(5_000) })
    const later = begun(admission.begin(fakeConnection(other), 'inbound'))
    const made = opened(admission.open(later, remote('did:key:b')))
    assert.equal(await coming, made)
  })

  it('ends sessions with CONNECTION_CLOSED when their connection closes, and every session with SHUTDOWN before the node stops', async () => {
    const { manager, admission, events } = await harness()
    const [a, b, c] = await Promise.all([newPeer(), newPeer(), newPeer()])
    const closes: SessionCloseDetail[] = []
    manager.addEventListener('session:close', (evt) => { closes.push(evt.detail) })
    const connectionA = fakeConnection(a)
    opened(admission.open(begun(admission.begin(connectionA, 'inbound')), remote('did:key:a')))
    opened(admission.open(begun(admission.begin(fakeConnection(b), 'outbound')), remote('did:key:b')))
    const inFlight = begun(admission.begin(fakeConnection(c), 'inbound'))

    events.safeDispatchEvent('connection:close', { detail: connectionA })
    assert.deepEqual(closes.map(d => [d.session.peerId, d.reason]), [[a, ReasonCode.CONNECTION_CLOSED]])

    manager.beforeStop()
    assert.deepEqual(closes.map(d => [d.session.peerId, d.reason]), [[a, ReasonCode.CONNECTION_CLOSED], [b, ReasonCode.SHUTDOWN]])
    assert.equal(inFlight.signal.reason.rejection.reason, ReasonCode.SHUTDOWN)
    assert.equal(manager.count(), 0)
  })

  it('refuses bad limits and ban durations with InvalidParametersError', async () => {
    await assert.rejects(harness({ maxInboundSessions: -1 }), { name: 'InvalidParametersError' })
    const { manager } = await harness()
    await assert.rejects(manager.ban('did:key:x', 0), { name: 'InvalidParametersError' })
  })
})

describe('the gate (in memory)', () => {
  /** a session manager whose registrar keeps the wrapped handlers, and an inbound stream on `protocol` from `peer` */
  async function gated (): Promise<Harness & { handlers: Map<string, StreamHandler>, inbound(peer: PeerId, protocol: string): Promise<{ stream: Stream, served: Promise<void> }> }> {
    const handlers = new Map<string, StreamHandler>()
    const h = await harness({}, handlers)
    return {
      ...h,
      handlers,
      inbound: async (peer, protocol) => {
        const [, stream] = await streamPair({ protocol })
        const handler = handlers.get(protocol)
        assert.ok(handler != null, `a handler for ${protocol}`)
        const served = Promise.resolve(handler(stream, h.manager.get(peer)?.connection ?? fakeConnection(peer)))
        return { stream, served }
      }
    }
  }

  it('serves a session peer\'s stream with its session; refuses any other peer\'s, announcing stream:refuse, and never runs the handler', async () => {
    const { manager, admission, inbound } = await gated()
    const calls: Session[] = []
    await manager.handle('/p/1', (_stream, _connection, session) => { calls.push(session) })
    assert.equal(manager.isGated('/p/1'), true)
    const refusals: unknown[] = []
    manager.addEventListener('stream:refuse', (evt) => { refusals.push(evt.detail.protocol) })

    const stranger = await newPeer()
    const refused = await inbound(stranger, '/p/1')
    await refused.served
    assert.equal(refused.stream.status, 'aborted')
    assert.deepEqual([calls.length, refusals], [0, ['/p/1']])

    const peer = await newPeer()
    const session = opened(admission.open(begun(admission.begin(fakeConnection(peer), 'inbound')), remote('did:key:a')))
    await (await inbound(peer, '/p/1')).served
    assert.deepEqual(calls, [session])
  })

  it('holds a stream from a peer whose handshake is in flight, and serves it once the session opens (refuses it when the handshake fails)', async () => {
    const { manager, admission, inbound } = await gated()
    const calls: PeerId[] = []
    await manager.handle('/p/2', (_stream, _connection, session) => { calls.push(session.peerId) })
    const peer = await newPeer()
    const attempt = begun(admission.begin(fakeConnection(peer), 'inbound'))
    const held = await inbound(peer, '/p/2')
    await new Promise(resolve => setTimeout(resolve, 20))
    assert.equal(calls.length, 0, 'held while the handshake runs')
    opened(admission.open(attempt, remote('did:key:b')))
    await held.served
    assert.deepEqual(calls, [peer])

    const other = await newPeer()
    const failing = begun(admission.begin(fakeConnection(other), 'inbound'))
    const refused = await inbound(other, '/p/2')
    admission.fail(failing, failing.connection, 'inbound', { reason: ReasonCode.WRONG_CHAIN, side: 'local', message: 'other chain' })
    await refused.served
    assert.equal(refused.stream.status, 'aborted')
    assert.deepEqual(calls, [peer])
  })

  it('openStream refuses a peer without a session with NoSessionError and announces it', async () => {
    const { manager } = await gated()
    const refusals: string[] = []
    manager.addEventListener('stream:refuse', (evt) => { refusals.push(evt.detail.direction) })
    await assert.rejects(manager.openStream(await newPeer(), '/p/3'), { name: 'NoSessionError' })
    assert.deepEqual(refusals, ['outbound'])
  })
})

describe('ban events (in memory)', () => {
  it('ban:add for a ban and each ban it extends to; ban:remove with every target unban lifts', async () => {
    const { manager, admission } = await harness()
    const peer = await newPeer()
    opened(admission.open(begun(admission.begin(fakeConnection(peer), 'inbound')), remote('did:key:banned')))
    const added: Array<[string, number]> = []
    const removed: string[][] = []
    manager.addEventListener('ban:add', (evt) => { added.push([evt.detail.target, evt.detail.until]) })
    manager.addEventListener('ban:remove', (evt) => { removed.push(evt.detail.targets) })
    const before = Date.now()
    await manager.ban('did:key:banned', 60_000)
    assert.deepEqual(added.map(([target]) => target), ['did:key:banned', peer.toString()], 'the DID, then the peer id of its session')
    assert.ok(added.every(([, until]) => until >= before + 60_000 && until <= Date.now() + 60_000))
    await manager.unban('did:key:banned')
    assert.deepEqual(removed.map(targets => targets.sort()), [['did:key:banned', peer.toString()].sort()])
    await manager.unban('did:key:banned')
    assert.equal(removed.length, 1, 'lifting nothing announces nothing')
  })
})

function comparePeers (a: PeerId, b: PeerId): number {
  const x = a.toMultihash().bytes
  const y = b.toMultihash().bytes
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) {
      return x[i] - y[i]
    }
  }
  return x.length - y.length
}

async function waitFor (condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) {
    await new Promise(resolve => setTimeout(resolve, 5))
  }
  assert.ok(condition())
}
