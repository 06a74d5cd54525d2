/**
 * A child process for the kill -9 test: a peergate node on a LevelDB data dir
 * that adds contacts to its address book as fast as it can, printing each
 * peer id once the write has resolved, until it is killed.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { LocalReason, createPeerNode } from '../../src/index.js'

const node = await createPeerNode({
  dataDir: process.argv[2],
  listen: ['/ip4/127.0.0.1/tcp/0'],
  chain: { chainId: 'test-chain' },
  dial: { autoDial: false },
  discovery: false
})

for (let i = 0; ; i++) {
  const peerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  await node.addContact(`/ip4/127.0.0.1/tcp/${1000 + (i % 60000)}/p2p/${peerId.toString()}`)
  // and keep rewriting records too, so that the kill may land in an update
  await node.libp2p.services.addressBook.recordOutcome(peerId, LocalReason.DIAL_FAILED)
  process.stdout.write(`${peerId.toString()}\n`)
}
