/**
 * The `floor` kind of `npm run bench:sessions`: the stack a peergate session
 * runs on, as peergate configures it, with the session's own work taken
 * out. A libp2p node with TCP, Noise, Yamux and identify, and what peergate
 * adds below its sessions (`floorOptions`):
 *
 * - the DHT peergate runs: kad-dht on the chain's protocol, in server mode on
 *   the server and client mode on the clients (as the bench's peergate
 *   nodes), with the ping service it needs, peergate's (a muxer ping frame
 *   on the open connection);
 * - socket writes coalesced (src/node/coalesce-writes.ts);
 * - the server's peer store cached and written behind
 *   (src/storage/write-behind.ts, as `cachePeerStore`);
 * - libp2p's connection monitor off (peergate's keep-alive replaces it; the
 *   floor has none, which a fill does not miss);
 *
 * and, on each connection, a stand-in for the handshake: its four messages
 * (docs/PROTOCOL.md §5) with their sizes as §14.6 frames them, the dialer
 * first, two round trips after the stream's negotiation, and nothing else:
 * no keys, no signatures, no DIDs, no session manager, no address book, no
 * status, no keep-alive. The listener's event is the stand-in's third
 * message read (where peergate's responder announces its session), the
 * dialer's the fourth (where its initiator does). The clients' DHTs meet
 * the server as peergate's do, by identify, and query it (kad-dht's
 * self-query of a node whose routing table gets its first peer).
 *
 * What the floor costs beside the bare kind is what libp2p and kad-dht charge
 * for a session's streams and a newcomer's DHT traffic on peergate's stack;
 * what peergate costs beside the floor is its own work.
 */
import type { Identify } from '@libp2p/identify'
import { kadDHT, passthroughMapper, type KadDHT } from '@libp2p/kad-dht'
import { dhtProtocol } from '../src/node/chain.js'
import { coalesceWrites } from '../src/node/coalesce-writes.js'
import { pingService } from '../src/node/ping-service.js'
import { endOnRemoteClose } from '../src/stream/index.js'
import { BENCH_CHAIN_ID } from './bench-sessions-setup.js'
import type { Stream } from '@libp2p/interface'
import type { Ping } from '@libp2p/ping'
import type { Libp2pOptions, ServiceFactoryMap } from 'libp2p'

export const FLOOR_HANDSHAKE = '/bench-floor/handshake/1.0.0'

/** bytes on the wire of each message, dialer first (PROTOCOL.md §14.6: 2 + 197, 2 + 263, 1 + 66, 1 + 2) */
export const HANDSHAKE_FRAMES = [199, 265, 67, 3]

/** a bare node's options: its services are identify's */
export type BareOptions = Libp2pOptions<{ identify: Identify }> & { services: ServiceFactoryMap<{ identify: Identify }> }

/**
 * A bare node's options with what the floor adds: the DHT, coalesced writes,
 * no connection monitor (the server's peer store is cached by the server's
 * own code, which closes the cache before its datastore: `cachePeerStore`)
 */
export function floorOptions (role: 'server' | 'client', base: BareOptions): Libp2pOptions<{ identify: Identify, dht: KadDHT, ping: Ping }> {
  return {
    ...base,
    transports: base.transports?.map(coalesceWrites),
    connectionMonitor: { enabled: false },
    services: {
      ...base.services,
      dht: kadDHT({ protocol: dhtProtocol(BENCH_CHAIN_ID), clientMode: role === 'client', peerInfoMapper: passthroughMapper }),
      // peergate's own: a peer with an open connection is pinged by a muxer frame on it
      ping: pingService()
    }
  }
}

/**
 * Plays `side` of an exchange of `frames`: the dialer sends the even ones and
 * the listener the odd ones, each side reading the other's in full before
 * it sends; `onLastRead` runs once this side has read the remote's last
 * message. Closes the stream at the end.
 */
export async function exchange (stream: Stream, frames: number[], side: 'dialer' | 'listener', onLastRead?: () => void): Promise<void> {
  const mine = side === 'dialer' ? 0 : 1
  // the remote's last message: the last one, or the one before it when the last is this side's
  const lastTheirs = (frames.length - 1) % 2 === mine ? frames.length - 2 : frames.length - 1
  // ends on a remote close that came before this side began to read (libp2p 3.3.11, src/stream/)
  const reader = endOnRemoteClose(stream)[Symbol.asyncIterator]()
  for (let i = 0; i < frames.length; i++) {
    if (i % 2 === mine) {
      stream.send(new Uint8Array(frames[i]))
      continue
    }
    let read = 0
    while (read < frames[i]) {
      const next = await reader.next()
      if (next.done === true) {
        throw new Error(`the stream ended after ${read} of message ${i + 1}'s ${frames[i]} bytes`)
      }
      read += next.value.byteLength
    }
    if (i === lastTheirs) {
      onLastRead?.()
    }
  }
  await stream.close()
}
