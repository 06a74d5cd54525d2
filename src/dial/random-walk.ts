import { randomBytes } from '@libp2p/crypto'
import { anySignal } from 'any-signal'
import { DISCOVERY_INTERVAL_AT_TARGET_MS, DISCOVERY_INTERVAL_BELOW_TARGET_MS, DISCOVERY_QUERY_TIMEOUT_MS, RANDOM_WALK_KEY_LENGTH } from './constants.js'
import type { DiscoveryInit } from './index.js'
import type { Logger, PeerInfo } from '@libp2p/interface'
import type { KadDHT } from '@libp2p/kad-dht'

export interface RandomWalkInit extends DiscoveryInit {
  onPeer(peer: PeerInfo): void
  /** a walk met nobody: the routing table is empty, the DHT needs seeding again */
  onEmpty(): void
  /** true while the node wants more candidates: walks come faster */
  belowTarget(): boolean
}

/**
 * Periodic Kad-DHT lookups of random keys. Every peer a lookup meets is
 * handed to `onPeer` as a candidate; whether it becomes a session is the dial
 * manager's decision alone.
 */
export class RandomWalk {
  private readonly dht: KadDHT
  private readonly log: Logger
  private readonly init: RandomWalkInit
  private readonly belowTargetMs: number
  private readonly atTargetMs: number
  /** the deadline of one lookup: `queryTimeoutMs`, else DISCOVERY_QUERY_TIMEOUT_MS */
  readonly queryTimeoutMs: number
  private controller = new AbortController()
  private timer?: ReturnType<typeof setTimeout>
  private walking?: Promise<void>

  constructor (dht: KadDHT, log: Logger, init: RandomWalkInit) {
    this.dht = dht
    this.log = log
    this.init = init
    this.belowTargetMs = init.intervalBelowTargetMs ?? DISCOVERY_INTERVAL_BELOW_TARGET_MS
    this.atTargetMs = init.intervalAtTargetMs ?? DISCOVERY_INTERVAL_AT_TARGET_MS
    this.queryTimeoutMs = init.queryTimeoutMs ?? DISCOVERY_QUERY_TIMEOUT_MS
  }

  start (): void {
    this.controller = new AbortController()
    this.schedule(0)
  }

  async stop (): Promise<void> {
    clearTimeout(this.timer)
    this.controller.abort()
    await this.walking
  }

  private schedule (delayMs: number): void {
    if (this.controller.signal.aborted) {
      return
    }
    this.timer = setTimeout(() => {
      this.walking = this.walk().finally(() => {
        this.schedule(this.init.belowTarget() ? this.belowTargetMs : this.atTargetMs)
      })
    }, delayMs)
  }

  /** one lookup of a random key */
  async walk (): Promise<void> {
    const signal = anySignal([this.controller.signal, AbortSignal.timeout(this.queryTimeoutMs)])
    let met = 0
    try {
      for await (const event of this.dht.getClosestPeers(randomBytes(RANDOM_WALK_KEY_LENGTH), { signal })) {
        if (event.name === 'PEER_RESPONSE') {
          for (const peer of event.closer) {
            met++
            this.init.onPeer(peer)
          }
        } else if (event.name === 'FINAL_PEER') {
          met++
          this.init.onPeer(event.peer)
        }
      }
      this.log('random walk met %d peers', met)
    } catch (err) {
      // no peers to ask yet, or the walk timed out: the next one tries again
      this.log('random walk ended early after %d peers - %e', met, err)
    } finally {
      signal.clear()
    }
    if (met === 0 && !this.controller.signal.aborted) {
      this.init.onEmpty()
    }
  }
}
