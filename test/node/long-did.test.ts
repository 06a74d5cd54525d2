import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { KeyDidResolver, KeyDidSigner } from '../../src/index.js'
import { MAX_DID_BYTES, didSizeBytes } from '../../src/did/index.js'
import { TestNetwork, until } from '../utils/nodes.js'
import type { DidResolver, DidSigner, PeerNode } from '../../src/index.js'
import type { PublicKey } from '@libp2p/interface'

/**
 * A DID is limited once, by MAX_DID_BYTES of the DID layer: a peer whose DID
 * the handshake accepts also gets it recorded in the address book. (Before,
 * the book took 1024 characters and the handshake 2048, so a peer with a
 * 1512-character DID got a session whose contact never held its DID.)
 */
const net = new TestNetwork()

/** an Ed25519 key that signs for `did`, and a resolver that knows it besides did:key */
async function registeredDid (did: string): Promise<{ signer: DidSigner, resolver: DidResolver }> {
  const key = new KeyDidSigner(await generateKeyPair('Ed25519'))
  const registry = new Map<string, PublicKey[]>([[did, [key.privateKey.publicKey]]])
  const didKeys = new KeyDidResolver()
  return {
    signer: { did, sign: (data) => key.sign(data) },
    resolver: { resolve: (remote) => registry.get(remote) ?? didKeys.resolve(remote) }
  }
}

after(async () => { await net.cleanup() })

describe('a DID of 1512 bytes', () => {
  const longDid = 'did:example:' + 'a'.repeat(1500)
  let long: PeerNode
  let resolver: DidResolver

  before(async () => {
    assert.equal(didSizeBytes(longDid), 1512)
    assert.ok(didSizeBytes(longDid) <= MAX_DID_BYTES)
    const registered = await registeredDid(longDid)
    resolver = registered.resolver
    long = await net.node({ did: { signer: registered.signer } })
  })

  it('makes a session when dialed, and the dialer\'s contact holds the DID', async () => {
    const dialer = await net.node({ did: { resolver } })
    const session = await dialer.connect(long.getMultiaddrs()[0])
    assert.equal(session.did, longDid)
    await until(() => dialer.contacts().find(c => c.peerId.equals(long.peerId))?.did === longDid, 5_000, 'the contact to hold the DID')
  })

  it('makes a session when it dials, and the dialed node\'s contact holds the DID', async () => {
    const dialed = await net.node({ did: { resolver } })
    await long.connect(dialed.getMultiaddrs()[0])
    await until(() => dialed.sessions().some(s => s.did === longDid), 5_000, 'the session at the dialed node')
    await until(() => dialed.contacts().find(c => c.peerId.equals(long.peerId))?.did === longDid, 5_000, 'the contact to hold the DID')
  })

  it('keeps the DID in the contact across a restart', async () => {
    const dataDir = await net.dir()
    const dialer = await net.node({ dataDir, did: { resolver } })
    await dialer.connect(long.getMultiaddrs()[0])
    await until(() => dialer.contacts().find(c => c.peerId.equals(long.peerId))?.did === longDid, 5_000, 'the contact to hold the DID')
    await dialer.stop()
    const again = await net.node({ dataDir, did: { resolver } })
    assert.equal(again.contacts().find(c => c.peerId.equals(long.peerId))?.did, longDid)
  })
})
