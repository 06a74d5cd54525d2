/**
 * Defects found when the node was tried from outside (issue 18 items 1–4),
 * each against real nodes on 127.0.0.1 with LevelDB data dirs:
 * a head set during a handshake, connecting again right after a refusal,
 * notifications to a peer whose handshake is in flight, and a ban seen from
 * the banning node's address book.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import pDefer from 'p-defer'
import { ReasonCode } from '../../src/index.js'
import { TestNetwork, nextEvent, until } from '../utils/nodes.js'
import type { ChainHead, PeerNode } from '../../src/index.js'

const net = new TestNetwork()
after(async () => { await net.cleanup() })

function head (height: number): ChainHead {
  return { height: BigInt(height), hash: Uint8Array.of(height % 256) }
}

async function delay (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

describe('a head set while a handshake is in flight reaches the peer', () => {
  for (const role of ['responder', 'initiator'] as const) {
    it(`when the ${role} sets it between its hello and its session`, async () => {
      // the node whose validator runs (after its hello went out, before its
      // session opens) sets a new head, as a block landing during a database read would
      let setter: PeerNode | undefined
      const validateRemote = async (): Promise<undefined> => {
        await delay(20)
        setter?.setHead(head(5))
      }
      const withValidator = await net.node({ head: head(1), handshake: { validateRemote } })
      const other = await net.node({ head: head(1) })
      setter = withValidator
      const [initiator, responder] = role === 'initiator' ? [withValidator, other] : [other, withValidator]
      await initiator.connect(responder.getMultiaddrs()[0])
      const peer = setter === initiator ? responder : initiator
      const started = performance.now()
      await until(() => peer.session(setter.peerId)?.head?.height === 5n, 2_000, `the head set during the handshake at ${peer === initiator ? 'the initiator' : 'the responder'}`)
      assert.ok(performance.now() - started < 2_000)
    })
  }
})

describe('connecting again right after a refusal', () => {
  it('a second connect in the same tick as a WRONG_CHAIN refusal gets WRONG_CHAIN again, on a new connection', async () => {
    const a = await net.node()
    const b = await net.node({ chain: { chainId: 'another-chain' } })
    const first = await a.connect(b.getMultiaddrs()[0]).then(() => undefined, (err: any) => err)
    assert.equal(first?.reason, ReasonCode.WRONG_CHAIN)
    const second = await a.connect(b.getMultiaddrs()[0]).then(() => undefined, (err: any) => err)
    assert.equal(second?.reason, ReasonCode.WRONG_CHAIN, `got ${String(second?.reason)}: ${String(second?.message)}`)
    assert.doesNotMatch(String(second?.message), /\[object /)
  })

  for (const side of ['refusing', 'refused'] as const) {
    it(`the ${side} side connecting back from its session:reject gets WRONG_CHAIN, not the closing connection`, async () => {
      const a = await net.node()
      const b = await net.node({ chain: { chainId: 'another-chain' } })
      const back = side === 'refusing' ? b : a
      const to = side === 'refusing' ? a : b
      const again = new Promise<any>(resolve => {
        back.addEventListener('session:reject', () => {
          back.connect(to.getMultiaddrs()[0]).then(() => { resolve(undefined) }, resolve)
        }, { once: true })
      })
      await a.connect(b.getMultiaddrs()[0]).catch(() => {})
      const err = await again
      assert.equal(err?.reason, ReasonCode.WRONG_CHAIN, `got ${String(err?.reason)}: ${String(err?.message)}`)
      assert.doesNotMatch(String(err?.message), /\[object /)
    })
  }

  it('connects made back to back from the refused side all get the refusal, none [object Event]', async () => {
    const a = await net.node()
    const b = await net.node({ chain: { chainId: 'another-chain' } })
    for (let i = 0; i < 5; i++) {
      const err = await a.connect(b.getMultiaddrs()[0]).then(() => undefined, (e: any) => e)
      assert.equal(err?.reason, ReasonCode.WRONG_CHAIN, `attempt ${i}: ${String(err?.reason)} ${String(err?.message)}`)
      assert.doesNotMatch(String(err?.message), /\[object /)
    }
  })
})

describe('notifications to a peer whose handshake is in flight', () => {
  it('send waits for the session, as request and openStream do, and the message arrives', async () => {
    const P = '/test/corrections-notify/1.0.0'
    const received: string[] = []
    const gotOne = pDefer<void>()
    // the responder holds its validator, so the initiator's handshake stays in flight
    const release = pDefer<void>()
    const b = await net.node({ handshake: { validateRemote: async () => { await release.promise; return undefined } } })
    await b.notifications(P, { onMessage: (message) => { received.push(new TextDecoder().decode(message)); gotOne.resolve() } })
    const a = await net.node()
    const channel = await a.notifications(P, { onMessage: () => {} })
    const handshaking = nextEvent(a, 'handshake:start')
    const connecting = a.connect(b.getMultiaddrs()[0])
    await handshaking
    const sending = [channel.send(b.peerId, new TextEncoder().encode('first')), channel.send(b.peerId, new TextEncoder().encode('second'))]
    await delay(50)
    release.resolve()
    await connecting
    await Promise.all(sending)
    await gotOne.promise
    await until(() => received.length === 2, 5_000, 'both messages')
    assert.deepEqual(received, ['first', 'second'], 'in the order of the calls')
  })

  it('send to a peer with no session and no handshake still fails at once with NoSessionError', async () => {
    const a = await net.node()
    const b = await net.node()
    const channel = await a.notifications('/test/corrections-none/1.0.0', { onMessage: () => {} })
    await assert.rejects(channel.send(b.peerId, Uint8Array.of(1)), { name: 'NoSessionError' })
  })

  it('send fails with NoSessionError when the handshake it waited for is refused', async () => {
    const a = await net.node()
    const b = await net.node({ handshake: { validateRemote: async () => { await delay(50); return { appCode: 3, detail: 'no' } } } })
    const channel = await a.notifications('/test/corrections-refused/1.0.0', { onMessage: () => {} })
    const handshaking = nextEvent(a, 'handshake:start')
    const connecting = a.connect(b.getMultiaddrs()[0]).catch(() => {})
    await handshaking
    await assert.rejects(channel.send(b.peerId, Uint8Array.of(1)), { name: 'NoSessionError' })
    await connecting
  })
})

describe('a ban backs the banning side off too', () => {
  it('the banned contact waits until the ban ends, with reason BANNED, and unban clears it', async () => {
    const hub = await net.node()
    const peer = await net.node()
    await peer.connect(hub.getMultiaddrs()[0])
    await until(() => hub.contacts().some(c => c.peerId.equals(peer.peerId) && c.did != null), 5_000, 'the contact at the hub')
    const before = Date.now()
    await hub.ban(peer.peerId, 60_000)
    await until(() => hub.contacts().find(c => c.peerId.equals(peer.peerId))?.backoffReason === ReasonCode.BANNED, 5_000, 'the contact backed off as BANNED')
    const contact = hub.contacts().find(c => c.peerId.equals(peer.peerId))
    assert.ok(contact != null)
    assert.ok(contact.nextAttempt >= before + 59_000, `next attempt ${contact.nextAttempt - before} ms from the ban, not before it ends`)
    assert.ok(hub.backoffs().some(c => c.peerId.equals(peer.peerId)), 'listed among the backoffs')

    await hub.unban(peer.peerId)
    await until(() => hub.contacts().find(c => c.peerId.equals(peer.peerId))?.backoffReason == null, 5_000, 'the ban\'s backoff cleared')
  })

  it('a ban of a DID backs off the contact that holds the DID; a peer banned without a session too', async () => {
    const hub = await net.node()
    const peer = await net.node()
    await peer.connect(hub.getMultiaddrs()[0])
    await until(() => hub.contacts().some(c => c.peerId.equals(peer.peerId) && c.did != null), 5_000, 'the contact at the hub')
    await hub.disconnect(peer.peerId)
    await until(() => hub.sessions().length === 0, 5_000, 'the session to end')
    await hub.ban(peer.did, 60_000)
    await until(() => hub.contacts().find(c => c.peerId.equals(peer.peerId))?.backoffReason === ReasonCode.BANNED, 5_000, 'the DID\'s contact backed off as BANNED')
  })
})
