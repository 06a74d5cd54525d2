/*
 * The reserved peers added at runtime, kept in the node's datastore (one
 * record per peer under RESERVED_KEY_PREFIX, each put atomic), so that they
 * are reserved again after a restart. Peers given in the options
 * (`reserved`) are not written here: the options give them at every start.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { Key } from 'interface-datastore'
import { MAX_RESERVED_RECORD_BYTES, RESERVED_KEY_PREFIX } from './constants.js'
import type { PeerAddress } from './index.js'
import type { AbortOptions, Logger, PeerId } from '@libp2p/interface'
import type { Datastore } from 'interface-datastore'

interface ReservedRecord {
  multiaddrs: string[]
}

function reservedKey (peer: PeerId): Key {
  return new Key(`${RESERVED_KEY_PREFIX}/${peer.toString()}`)
}

/** Every stored reserved peer; an unreadable record is logged and left as it is (never a crash, never lost) */
export async function loadReservedPeers (datastore: Datastore, log: Logger, options?: AbortOptions): Promise<PeerAddress[]> {
  const peers: PeerAddress[] = []
  for await (const { key, value } of datastore.query({ prefix: `${RESERVED_KEY_PREFIX}/` }, options)) {
    const peer = decodeReserved(key, value)
    if (peer == null) {
      log.error('skipping unreadable reserved peer record %s', key.toString())
    } else {
      peers.push(peer)
    }
  }
  return peers
}

export async function storeReservedPeer (datastore: Datastore, peer: PeerAddress, options?: AbortOptions): Promise<void> {
  const record: ReservedRecord = { multiaddrs: peer.multiaddrs.map(ma => ma.toString()) }
  await datastore.put(reservedKey(peer.peerId), new TextEncoder().encode(JSON.stringify(record)), options)
}

export async function deleteReservedPeer (datastore: Datastore, peer: PeerId, options?: AbortOptions): Promise<void> {
  await datastore.delete(reservedKey(peer), options)
}

/** A stored record as a peer, or undefined when the key or the value is not one */
export function decodeReserved (key: Key, value: Uint8Array): PeerAddress | undefined {
  if (value.byteLength > MAX_RESERVED_RECORD_BYTES) {
    return undefined
  }
  try {
    const peerId = peerIdFromString(key.baseNamespace())
    const record = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(value)) as ReservedRecord
    if (!Array.isArray(record?.multiaddrs) || record.multiaddrs.length === 0 || !record.multiaddrs.every(ma => typeof ma === 'string')) {
      return undefined
    }
    return { peerId, multiaddrs: record.multiaddrs.map(ma => multiaddr(ma)) }
  } catch {
    return undefined
  }
}
