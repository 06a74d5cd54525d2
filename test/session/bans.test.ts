import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { ReasonCode } from '../../src/index.js'
import { TestNetwork, until } from '../utils/nodes.js'
import { newSigner } from '../utils/rogue.js'
import type { PeerNode } from '../../src/index.js'
import type { PrivateKey } from '@libp2p/interface'

const net = new TestNetwork()
after(async () => { await net.cleanup() })

/** A node with this peer key and a fresh DID (or the DID of `signer`) */
async function nodeWith (privateKey: PrivateKey, signer?: Awaited<ReturnType<typeof newSigner>>): Promise<PeerNode> {
  return net.node({ privateKey, did: { signer: signer ?? await newSigner() } })
}

async function refused (node: PeerNode, target: PeerNode): Promise<void> {
  await assert.rejects(node.connect(target.getMultiaddrs()[0]), (err: any) => err.reason === ReasonCode.BANNED)
  await node.stop()
}

describe('what a ban covers', () => {
  it('a DID\'s ban covers its session\'s peer id and every peer id that presents the DID later; unban lifts them all', async () => {
    const hub = await net.node()
    const key = await generateKeyPair('Ed25519')
    const signer = await newSigner()
    const first = await nodeWith(key, signer)
    await first.connect(hub.getMultiaddrs()[0])
    await hub.ban(signer.did, 60_000)
    await until(() => hub.sessions().length === 0, 5_000, 'the banned session to end')
    await first.stop()

    // the same peer id with a new DID: refused by its peer id
    await refused(await nodeWith(key), hub)
    // the DID from a new peer id: refused, and that peer id is banned from now on
    const otherKey = await generateKeyPair('Ed25519')
    await refused(await nodeWith(otherKey, signer), hub)
    await until(() => hub.libp2p.services.sessions.banExpiry(peerIdFromPrivateKey(otherKey)) != null, 5_000, 'the ban extended to the new peer id')
    await refused(await nodeWith(otherKey), hub)

    await hub.unban(signer.did)
    const back = await nodeWith(otherKey)
    assert.equal((await back.connect(hub.getMultiaddrs()[0])).did, hub.did)
    await back.stop()
    const backToo = await nodeWith(key)
    assert.equal((await backToo.connect(hub.getMultiaddrs()[0])).did, hub.did)
  })

  it('a peer id\'s ban covers its session\'s DID', async () => {
    const hub = await net.node()
    const signer = await newSigner()
    const banned = await net.node({ did: { signer } })
    await banned.connect(hub.getMultiaddrs()[0])
    await hub.ban(banned.peerId, 60_000)
    await until(() => hub.sessions().length === 0, 5_000, 'the banned session to end')
    // the DID from another peer id is refused too
    await refused(await nodeWith(await generateKeyPair('Ed25519'), signer), hub)
    await hub.unban(banned.peerId)
    const back = await nodeWith(await generateKeyPair('Ed25519'), signer)
    assert.equal((await back.connect(hub.getMultiaddrs()[0])).did, hub.did)
  })
})

