import { InvalidParametersError } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { PeerAddress } from '../dial/index.js'
import type { PeerId } from '@libp2p/interface'
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

/** The peer id an address names (its /p2p/ component), as text */
function peerIdText (addr: Multiaddr): string | undefined {
  return addr.getComponents().find(c => c.name === 'p2p')?.value
}

/**
 * The address names this very node (its /p2p/ peer id is `self`): a
 * bootstrap or reserved address of a config copied from another node, which
 * is left out with a warning, as dialing itself would only fail with SELF.
 * An address that is not a multiaddr names no one.
 */
export function isSelfAddress (addr: string | Multiaddr, self: PeerId): boolean {
  try {
    return peerIdText(typeof addr === 'string' ? multiaddr(addr) : addr) === self.toString()
  } catch {
    return false
  }
}

/**
 * Turns addresses that end in /p2p/<peer id> into peers with their dialable
 * addresses, one entry per peer
 */
export function parsePeerAddrs (values: Array<string | Multiaddr> | undefined, what: string): PeerAddress[] {
  const peers = new Map<string, PeerAddress>()
  for (const addr of parseAddrs(values, what)) {
    const id = peerIdText(addr)
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
