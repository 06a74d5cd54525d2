import { multiaddr } from '@multiformats/multiaddr'
import type { Contact } from '../../src/index.js'
import type { PeerId } from '@libp2p/interface'

/** A dialable `dht` contact with no history, plus `fields` */
export function testContact (peerId: PeerId, fields: Partial<Contact> = {}): Contact {
  return {
    peerId,
    multiaddrs: [multiaddr('/ip4/127.0.0.1/tcp/4001')],
    source: 'dht',
    firstSeen: 0,
    lastSeen: 0,
    failures: 0,
    nextAttempt: 0,
    ...fields
  }
}
