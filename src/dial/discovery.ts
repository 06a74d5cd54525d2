/*
 * Where the dial manager's candidates come from, besides what the book learns
 * by itself: the bootstrap peers (contacts, and the DHT's first connections)
 * and Kad-DHT random walks. What they find goes into the book through the
 * book (`AddressBookService.discovered`).
 */
import { randomBytes } from '@libp2p/crypto'
import { anySignal } from 'any-signal'
import { isOtherChain } from '../reason/index.js'
import { DISCOVERY_INTERVAL_AT_TARGET_MS, DISCOVERY_INTERVAL_BELOW_TARGET_MS, DISCOVERY_QUERY_TIMEOUT_MS, RANDOM_WALK_KEY_LENGTH } from './constants.js'
import type { DialManagerComponents, DiscoveryInit, PeerAddress } from './index.js'
import type { Logger, PeerId, PeerInfo } from '@libp2p/interface'
import type { KadDHT } from '@libp2p/kad-dht'

/** What discovery uses of the dial manager's components */
export type DiscoveryComponents = Pick<DialManagerComponents, 'peerStore' | 'connectionManager' | 'addressBook' | 'dht'> & {
  sessions: Pick<DialManagerComponents['sessions'], 'banExpiry'>
}

export interface DiscoveryOptions {
  /** contacts added to the book (source `bootstrap`) at start, and the DHT's seeds */
  bootstrap: PeerAddress[]
  /** random walks; `false` turns them off (they also need the DHT) */
  walks: DiscoveryInit | false
  /** true while the node wants more candidates: walks come faster */
  belowTarget(): boolean
  /** clock, ms since the epoch */
  now(): number
  /** a bootstrap peer could not be reached */
  onUnreachable?(peer: PeerAddress, error: Error): void
}

/**
 * The bootstrap peers and the random walks, started and stopped by the dial
 * manager. Every peer a walk meets is handed to the address book; whether it
 * becomes a session is the dial manager's decision alone.
 */
export class Discovery {
  private readonly components: DiscoveryComponents
  private readonly log: Logger
  private readonly options: DiscoveryOptions
  private readonly randomWalk?: RandomWalk
  /** peers met by walks, on their way into the book; awaited by stop() */
  private readonly discovering = new Set<Promise<unknown>>()
  private controller = new AbortController()

  constructor (components: DiscoveryComponents, log: Logger, options: DiscoveryOptions) {
    this.components = components
    this.log = log
    this.options = options
    if (options.walks !== false) {
      const dht = optionalDht(components)
      if (dht != null) {
        this.randomWalk = new RandomWalk(dht, log.newScope('random-walk'), {
          ...options.walks,
          onPeer: (peer) => { this.onPeer(peer) },
          onEmpty: () => { this.reseed() },
          belowTarget: options.belowTarget
        })
      }
    }
  }

  /** needs the address book started: the bootstrap peers go into it with their backoff cleared, then the DHT is seeded and walks begin */
  async start (): Promise<void> {
    this.controller = new AbortController()
    for (const peer of this.options.bootstrap) {
      await this.components.addressBook.add({ ...peer, source: 'bootstrap' })
    }
    // the operator named these peers: a backoff stored by an earlier run (a
    // day after WRONG_CHAIN, say, when that run had the wrong chain) must not
    // keep the node from them
    await this.components.addressBook.clearBackoff(this.options.bootstrap.map(peer => peer.peerId))
    this.reseed()
    this.randomWalk?.start()
  }

  /** ends walks and bootstrap dials; resolves once what walks found is in the book */
  async stop (): Promise<void> {
    this.controller.abort()
    await this.randomWalk?.stop()
    await Promise.allSettled([...this.discovering])
  }

  /**
   * Connects the DHT to the bootstrap peers it has no connection to: at start,
   * and again when it lost them. (A full bootstrap node rejects our handshake
   * with TOO_MANY_PEERS and hangs up, which can leave a young node with an
   * empty routing table.) These connections are auxiliary: no handshake. A
   * banned bootstrap peer is left alone, and so is one of another chain
   * (WRONG_CHAIN, WRONG_GENESIS) while that backoff lasts: its DHT does not
   * speak ours, so the connection would only hold a slot on both sides.
   */
  reseed (): void {
    const signal = this.controller.signal
    for (const peer of this.options.bootstrap) {
      if (this.components.connectionManager.getConnections(peer.peerId).some(c => c.status === 'open') ||
        this.components.sessions.banExpiry(peer.peerId) != null ||
        this.onOtherChain(peer.peerId)) {
        continue
      }
      this.log('dialing bootstrap peer %p for the DHT', peer.peerId)
      this.components.peerStore.merge(peer.peerId, { multiaddrs: peer.multiaddrs }, { signal })
        .then(async () => this.components.connectionManager.openConnection(peer.peerId, { signal }))
        .catch(err => {
          if (signal.aborted) {
            return
          }
          this.log('could not reach bootstrap peer %p - %e', peer.peerId, err)
          this.options.onUnreachable?.(peer, err)
        })
    }
  }

  /** the peer told us, within its backoff, that it is on another chain */
  private onOtherChain (peer: PeerId): boolean {
    const contact = this.components.addressBook.get(peer)
    return contact?.backoffReason != null && isOtherChain(contact.backoffReason) && contact.nextAttempt > this.options.now()
  }

  /** a walk met a peer: the book decides whether it is news */
  private onPeer (peer: PeerInfo): void {
    const adding = this.components.addressBook.discovered(peer)
      .catch(err => { this.log.error('could not add discovered peer %p - %e', peer.id, err) })
    this.discovering.add(adding)
    void adding.finally(() => { this.discovering.delete(adding) })
  }
}

function optionalDht (components: DiscoveryComponents): KadDHT | undefined {
  try {
    return components.dht
  } catch {
    // no service called `dht`: no random walks
    return undefined
  }
}

export interface RandomWalkInit extends DiscoveryInit {
  onPeer(peer: PeerInfo): void
  /** a walk met nobody: the routing table is empty, the DHT needs seeding again */
  onEmpty(): void
  /** true while the node wants more candidates: walks come faster */
  belowTarget(): boolean
}

/**
 * Periodic Kad-DHT lookups of random keys. Every peer a lookup meets is
 * handed to `onPeer` as a candidate.
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
    } catch (err: any) {
      if (this.controller.signal.aborted) {
        // the node is stopping: an abort is how a walk ends, not an error
        this.log.trace('random walk stopped after %d peers', met)
      } else if (err?.name === 'TimeoutError' || err?.name === 'AbortError') {
        // the walk's own deadline (queryTimeoutMs): expected when the DHT is small or slow
        this.log('random walk timed out after %d peers', met)
      } else {
        // no peers to ask yet: the next walk tries again
        this.log('random walk ended early after %d peers - %e', met, err)
      }
    } finally {
      signal.clear()
    }
    if (met === 0 && !this.controller.signal.aborted) {
      this.init.onEmpty()
    }
  }
}
