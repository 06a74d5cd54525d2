import { PeerMap } from '@libp2p/peer-collections'
import type { GossipRejections } from './index.js'
import type { PeerId } from '@libp2p/interface'

/**
 * Who sent messages the application rejected, how many, and when last: at
 * most `limit` peers, the one rejected longest ago forgotten first
 */
export class RejectionBook {
  private readonly limit: number
  /** in the order of their last rejection, oldest first */
  private readonly records = new PeerMap<GossipRejections>()

  constructor (limit: number) {
    this.limit = limit
  }

  /** Counts one rejected message against `peer` (whose DID is `did`); returns its record */
  record (peer: PeerId, did: string, topic: string, at: number): GossipRejections {
    const previous = this.records.get(peer)
    const record: GossipRejections = { peerId: peer, did, rejected: (previous?.rejected ?? 0) + 1, lastRejected: at, lastTopic: topic }
    // re-inserted: it becomes the newest
    this.records.delete(peer)
    this.records.set(peer, record)
    if (this.records.size > this.limit) {
      for (const [oldest] of this.records.entries()) {
        this.records.delete(oldest)
        break
      }
    }
    return record
  }

  get (peer: PeerId): GossipRejections | undefined {
    const record = this.records.get(peer)
    return record == null ? undefined : { ...record }
  }

  /** Every record, the most recently rejected first */
  list (): GossipRejections[] {
    return [...this.records.values()].reverse().map(record => ({ ...record }))
  }
}
