import { InvalidParametersError } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { PeerAddress } from '../dial/index.js'
import type { Multiaddr } from '@multiformats/multiaddr'

/** multicodec of the /p2p/ component */
const P2P_CODE = 421

export function parseAddrs (values: Array<string | Multiaddr> | undefined, what: string): Multiaddr[] {
  return (values ?? []).map(value => {
    try {
      return typeof value === 'string' ? multiaddr(value) : value
    } catch (err: any) {
      throw new InvalidParametersError(`${what} ${JSON.stringify(value)} is not a multiaddr: ${err.message}`)
    }
  })
}

/**
 * Turns addresses that end in /p2p/<peer id> into peers with their dialable
 * addresses, one entry per peer
 */
export function parsePeerAddrs (values: Array<string | Multiaddr> | undefined, what: string): PeerAddress[] {
  const peers = new Map<string, PeerAddress>()
  for (const addr of parseAddrs(values, what)) {
    const id = addr.getComponents().find(c => c.name === 'p2p')?.value
    if (id == null) {
      throw new InvalidParametersError(`${what} ${addr.toString()} has no /p2p/<peer id>`)
    }
    let peer: PeerAddress | undefined = peers.get(id)
    if (peer == null) {
      try {
        peer = { peerId: peerIdFromString(id), multiaddrs: [] }
      } catch (err: any) {
        throw new InvalidParametersError(`${what} ${addr.toString()} has an invalid peer id: ${err.message}`)
      }
      peers.set(id, peer)
    }
    peer.multiaddrs.push(addr.decapsulateCode(P2P_CODE))
  }
  return [...peers.values()]
}
