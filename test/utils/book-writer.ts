/**
 * A child process for the kill -9 test: writes contacts to an address book in
 * a LevelDB dir as fast as it can, printing each peer id once its write has
 * resolved, until it is killed.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { defaultLogger } from '@libp2p/logger'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { LevelDatastore } from 'datastore-level'
import { PersistentAddressBook } from '../../src/index.js'

const dir = process.argv[2]
const datastore = new LevelDatastore(dir)
await datastore.open()
const book = new PersistentAddressBook({ datastore, logger: defaultLogger() })
await book.load()

for (let i = 0; ; i++) {
  const peerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  await book.add({ peerId, multiaddrs: [multiaddr(`/ip4/127.0.0.1/tcp/${1000 + (i % 60000)}`)], source: 'dht' })
  // and keep rewriting records too, so that the kill may land in an update
  await book.recordFailure(peerId, 'DIAL_FAILED')
  process.stdout.write(`${peerId.toString()}\n`)
}
