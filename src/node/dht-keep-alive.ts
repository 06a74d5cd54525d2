/*
 * kad-dht tags its closest peers twice: `kad-close` (a rank for libp2p's
 * connection pruner) and `keep-alive-kad-dht`. libp2p's reconnect queue
 * redials a peer tagged `keep-alive…` the moment its last connection closes,
 * and retries. In peergate that redial follows every session that ends
 * (Goodbye, a shed, a reject's hang-up): both nodes redial each other at once,
 * so a pair that just parted is connected again, often twice, by connections
 * no query asked for, whatever the address book's backoff says
 * (docs/PROTOCOL.md §11: a rejected peer loses the connection, auxiliary use
 * included). Peergate keeps the connections it wants itself: the dial
 * manager the sessions and reserved peers, its discovery the bootstrap peers
 * the DHT needs; the DHT dials the rest when a query needs them. So the DHT
 * keeps its rank tag, and its keep-alive tag is not written.
 */
import { KEEP_ALIVE } from '@libp2p/interface'
import type { AbortOptions, ConsumePeerRecordOptions, Peer, PeerData, PeerId, PeerInfo, PeerQuery, PeerStore, TagOptions } from '@libp2p/interface'

/**
 * A service factory whose service sees a peer store that writes no
 * `keep-alive…` tag: a merge removes one the peer has (a tag kept in the
 * datastore by an earlier run), a patch or save leaves it out
 */
export function withoutKeepAlive<C extends { peerStore: PeerStore }, S> (factory: (components: C) => S): (components: C) => S {
  return (components) => {
    let peerStore: PeerStore | undefined
    // libp2p's components are a proxy that finds services by name: only the
    // peer store is replaced, everything else is looked up there as before
    return factory(new Proxy(components, {
      get: (target, property, receiver) => {
        if (property === 'peerStore') {
          peerStore ??= new KeepAliveFreePeerStore(target.peerStore)
          return peerStore
        }
        return Reflect.get(target, property, receiver)
      }
    }))
  }
}

/** Whether `tag` asks libp2p to keep the peer connected (its reconnect queue's test) */
export function isKeepAliveTag (tag: string): boolean {
  return tag.startsWith(KEEP_ALIVE)
}

class KeepAliveFreePeerStore implements PeerStore {
  constructor (private readonly store: PeerStore) {}

  async forEach (fn: (peer: Peer) => void, query?: PeerQuery): Promise<void> {
    await this.store.forEach(fn, query)
  }

  async all (query?: PeerQuery): Promise<Peer[]> {
    return this.store.all(query)
  }

  async delete (peerId: PeerId, options?: AbortOptions): Promise<void> {
    await this.store.delete(peerId, options)
  }

  async has (peerId: PeerId, options?: AbortOptions): Promise<boolean> {
    return this.store.has(peerId, options)
  }

  async get (peerId: PeerId, options?: AbortOptions): Promise<Peer> {
    return this.store.get(peerId, options)
  }

  async getInfo (peerId: PeerId, options?: AbortOptions): Promise<PeerInfo> {
    return this.store.getInfo(peerId, options)
  }

  async save (id: PeerId, data: PeerData, options?: AbortOptions): Promise<Peer> {
    return this.store.save(id, withoutKeepAliveTags(data, 'leave out'), options)
  }

  async patch (id: PeerId, data: PeerData, options?: AbortOptions): Promise<Peer> {
    return this.store.patch(id, withoutKeepAliveTags(data, 'leave out'), options)
  }

  async merge (id: PeerId, data: PeerData, options?: AbortOptions): Promise<Peer> {
    return this.store.merge(id, withoutKeepAliveTags(data, 'remove'), options)
  }

  async consumePeerRecord (buf: Uint8Array, options?: ConsumePeerRecordOptions): Promise<boolean> {
    return this.store.consumePeerRecord(buf, options)
  }
}

/**
 * `data` with its keep-alive tags removed (a merge's `undefined` deletes the
 * stored tag) or left out (a patch or save replaces every tag)
 */
function withoutKeepAliveTags (data: PeerData, how: 'remove' | 'leave out'): PeerData {
  if (data.tags == null) {
    return data
  }
  const entries = data.tags instanceof Map ? [...data.tags.entries()] : Object.entries(data.tags)
  if (!entries.some(([name]) => isKeepAliveTag(name))) {
    return data
  }
  const tags = new Map<string, TagOptions | undefined>()
  for (const [name, value] of entries) {
    if (!isKeepAliveTag(name)) {
      tags.set(name, value)
    } else if (how === 'remove') {
      tags.set(name, undefined)
    }
  }
  return { ...data, tags }
}
