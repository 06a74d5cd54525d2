/**
 * Identify on a connection a node dialed to handshake on runs once the
 * handshake is over (src/node/identify-after-handshake.ts), and at once on
 * every other connection. Real nodes on 127.0.0.1; the responder's
 * application validation takes VALIDATION_MS, so that a handshake lasts far
 * longer than an identify round trip and the order of the events says which
 * came first.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { TestNetwork, nextEvent } from '../utils/nodes.js'
import type { IdentifyResult, PeerId } from '@libp2p/interface'
import type { PeerNode } from '../../src/index.js'

const VALIDATION_MS = 300

const net = new TestNetwork()
after(async () => { await net.cleanup() })

/** The order in which `node` saw its session with `peer` open and identify of `peer` complete */
function watch (node: PeerNode, peer: () => PeerId | undefined): string[] {
  const seen: string[] = []
  node.addEventListener('session:open', (evt) => {
    if (evt.detail.peerId.equals(peer())) {
      seen.push('session:open')
    }
  })
  node.libp2p.addEventListener('peer:identify', (evt: CustomEvent<IdentifyResult>) => {
    if (evt.detail.peerId.equals(peer())) {
      seen.push('peer:identify')
    }
  })
  return seen
}

describe('identify after the handshake', () => {
  it('the dialer identifies its peer once its session is open; the listener identifies the dialer at once', async () => {
    const listener = await net.node({
      handshake: { validateRemote: async () => { await new Promise(resolve => setTimeout(resolve, VALIDATION_MS)); return undefined } }
    })
    const dialer = await net.node()
    const atDialer = watch(dialer, () => listener.peerId)
    const atListener = watch(listener, () => dialer.peerId)
    const identified = nextEvent<IdentifyResult>(dialer.libp2p, 'peer:identify', (result) => result.peerId.equals(listener.peerId))
    await dialer.connect(listener.getMultiaddrs()[0])
    await identified
    assert.deepEqual(atDialer, ['session:open', 'peer:identify'], 'the dialer identified the listener during its handshake')
    // the listener's own identify of the dialer ran during the slow validation
    assert.deepEqual(atListener, ['peer:identify', 'session:open'])
    assert.ok((await dialer.agent(listener.peerId)) != null, 'identify ran: the agent is known')
  })

  it('a connection dialed without a handshake (a plain libp2p peer) is identified at once', async () => {
    const node = await net.node()
    const plain = await net.plain()
    const identified = nextEvent<IdentifyResult>(node.libp2p, 'peer:identify', (result) => result.peerId.equals(plain.peerId))
    await node.libp2p.dial(plain.getMultiaddrs()[0])
    await identified
  })
})
