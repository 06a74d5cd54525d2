import { InvalidParametersError, serviceCapabilities, serviceDependencies } from '@libp2p/interface'
import { PeerMap, PeerSet } from '@libp2p/peer-collections'
import { anySignal } from 'any-signal'
import { TypedEventEmitter } from 'main-event'
import { failureBackoffMs, resolveBackoff } from '../addressbook/index.js'
import { isHandshakeError } from '../handshake/index.js'
import { LocalReason, ReasonCode } from '../reason/index.js'
import { DIAL_TICK_MS, DIAL_TIMEOUT_MS, MAX_DIALS_PER_TICK, RESERVED_BACKOFF_INITIAL_MS, RESERVED_BACKOFF_MAX_MS, REVERSAL_DETAIL } from './constants.js'
import { Discovery } from './discovery.js'
import { outboundLoad, planTick, type TickSnapshot } from './plan.js'
import { deleteReservedPeer, loadReservedPeers, storeReservedPeer } from './reserved-store.js'
import { isStorageWriteError, whenWritesRecover } from '../storage/index.js'
import type { BootstrapUnreachableDetail, DialManagerComponents, DialManagerEvents, DialManagerInit, DialManagerService, DialStatus, PeerAddress, ReservedPeer } from './index.js'
import type { SessionSlot } from './select.js'
import type { PeerScores } from '../score/index.js'
import type { AddressBookService, Contact } from '../addressbook/index.js'
import type { AbortOptions, Logger, PeerId, Startable } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

interface ReservedState extends PeerAddress {
  failures: number
  nextAttempt: number
  /** added at runtime and kept in the datastore */
  stored: boolean
}

/**
 * A bootstrap node that refuses a session with these still serves its DHT:
 * it is full, holds no sessions at all, or holds enough from this node's IP
 */
const REFUSALS_KEEPING_THE_DHT = new Set<string>([ReasonCode.TOO_MANY_PEERS, ReasonCode.INBOUND_DISABLED, ReasonCode.TOO_MANY_FROM_IP])

/**
 * Keeps the node at its target number of outbound sessions, from the address
 * book service (`components.addressBook`) and its per-contact backoff. Every
 * tick it sheds sessions over the limits, dials reserved peers that are down,
 * and dials up to K of the best contacts whose backoff has expired; a failed
 * dial is reported to the book (`recordOutcome`), a session the book sees for
 * itself. Kad-DHT random walks fill the book; the DHT's own query connections
 * never become sessions unless a contact is selected here (then the existing
 * connection is promoted by the handshake).
 */
export class DialManager extends TypedEventEmitter<DialManagerEvents> implements DialManagerService, Startable {
  readonly [Symbol.toStringTag] = '@peergate/dial'
  readonly [serviceCapabilities]: string[] = ['@peergate/dial']
  readonly [serviceDependencies]: string[] = ['@peergate/sessions', '@peergate/handshake', '@peergate/address-book']

  private readonly components: DialManagerComponents
  private readonly log: Logger
  private readonly init: DialManagerInit
  private readonly tickMs: number
  private readonly maxDialsPerTick: number
  private readonly dialTimeoutMs: number
  private readonly now: () => number
  private readonly random: () => number
  private readonly dialing = new PeerMap<Promise<void>>()
  /** the last failure of each bootstrap peer's connection for the DHT */
  private readonly unreachable = new PeerMap<BootstrapUnreachableDetail>()
  /** sheds under way (Goodbye and hang-up), awaited before the node stops */
  private readonly shedding = new Set<Promise<void>>()
  /** the reserved peers: the options' and those added at runtime (`addReserved`, kept in the datastore) */
  private readonly reserved = new PeerMap<ReservedState>()
  /** reserved peers added or removed while the datastore refused writes: their records are written once writes recover */
  private readonly unsavedReserved = new PeerSet()
  /** unsubscribes from the datastore's recovery */
  private stopRecovery: () => void = () => {}
  private readonly discovery: Discovery
  private shutdown = new AbortController()
  private timer?: ReturnType<typeof setTimeout>
  private ticking?: Promise<void>
  private running = false
  /** since when every tick found the node starved (TickPlan.starved) and the book no bigger */
  private starvedSince?: number
  /** the book's size when starvedSince was set */
  private starvedContacts = 0
  /** when this node last turned an inbound session around */
  private lastReversal?: number

  constructor (components: DialManagerComponents, init: DialManagerInit = {}) {
    super()
    this.components = components
    this.init = init
    this.log = components.logger.forComponent('peergate:dial')
    this.tickMs = init.tickMs ?? DIAL_TICK_MS
    this.maxDialsPerTick = init.maxDialsPerTick ?? MAX_DIALS_PER_TICK
    this.dialTimeoutMs = init.dialTimeoutMs ?? DIAL_TIMEOUT_MS
    this.now = init.now ?? Date.now
    this.random = init.random ?? Math.random
    for (const [name, value] of [['tickMs', this.tickMs], ['dialTimeoutMs', this.dialTimeoutMs]] as const) {
      if (!(value > 0)) {
        throw new InvalidParametersError(`dial ${name} must be a positive number of milliseconds, got ${value}`)
      }
    }
    if (!(this.maxDialsPerTick >= 0)) {
      throw new InvalidParametersError(`dial maxDialsPerTick must be a number >= 0, got ${this.maxDialsPerTick}`)
    }
    for (const peer of init.reserved ?? []) {
      this.reserved.set(peer.peerId, { ...peer, failures: 0, nextAttempt: 0, stored: false })
    }
    this.discovery = new Discovery(components, this.log.newScope('discovery'), {
      bootstrap: init.bootstrap ?? [],
      walks: init.discovery ?? {},
      belowTarget: () => this.belowTarget(),
      now: this.now,
      onUnreachable: (peer, error) => {
        const detail = { peerId: peer.peerId, multiaddrs: peer.multiaddrs, error }
        this.unreachable.set(peer.peerId, detail)
        this.safeDispatchEvent('bootstrap:unreachable', { detail })
      }
    })
  }

  /** a DHT-only node: both session limits are 0 */
  private holdsNoSessions (): boolean {
    const limits = this.components.sessions.limits()
    return limits.maxInbound === 0 && limits.maxOutbound === 0
  }

  /** the address book service, registered as `addressBook` */
  private get addressBook (): AddressBookService {
    return this.components.addressBook
  }

  async start (): Promise<void> {
    this.shutdown = new AbortController()
    // the reserved peers added at runtime before the last stop; the options' addresses win
    if (this.components.datastore != null) {
      const stored = await loadReservedPeers(this.components.datastore, this.log)
      if (this.holdsNoSessions() && stored.length > 0) {
        // kept in the datastore for when the node holds sessions again
        this.log.error('%d reserved peers stored in the data dir are left alone: a DHT-only node holds no sessions', stored.length)
      }
      for (const peer of this.holdsNoSessions() ? [] : stored) {
        const known = this.reserved.get(peer.peerId)
        if (known != null) {
          known.stored = true
        } else if (!peer.peerId.equals(this.components.peerId)) {
          this.reserved.set(peer.peerId, { ...peer, failures: 0, nextAttempt: 0, stored: true })
        }
      }
    }
    this.components.sessions.setReserved([...this.reserved.keys()])
    this.stopRecovery = whenWritesRecover(this.components.datastore, () => { void this.saveUnsavedReserved() })
  }

  /** the book is loaded once every service has started: discovery puts the bootstrap peers in, then dialing starts */
  async afterStart (): Promise<void> {
    // reserved peers are dialed on their own backoff, but one that is also a
    // contact starts clean too, as the bootstrap peers do (Discovery.start)
    await this.addressBook.clearBackoff([...this.reserved.keys()])
    await this.discovery.start()
    this.running = this.init.autoDial !== false
    this.schedule(0)
  }

  /**
   * Stops dialing before the connections go: dials in flight are cancelled
   * without counting against their contacts. What this manager reported to
   * the book is written before this resolves, so before the datastore closes.
   */
  async beforeStop (): Promise<void> {
    this.running = false
    clearTimeout(this.timer)
    this.shutdown.abort()
    await this.discovery.stop()
    await this.ticking
    await Promise.allSettled([...this.dialing.values()])
    await Promise.allSettled([...this.shedding])
    this.stopRecovery()
    // a last try for the reserved peers whose records could not be written
    await this.saveUnsavedReserved()
  }

  stop (): void {
    this.running = false
    clearTimeout(this.timer)
  }

  targetOutbound (): number {
    return this.components.sessions.limits().maxOutbound
  }

  dialingPeers (): PeerId[] {
    return [...this.dialing.keys()]
  }

  unreachableBootstrapPeers (): BootstrapUnreachableDetail[] {
    return [...this.unreachable.values()].filter(detail =>
      !this.components.connectionManager.getConnections(detail.peerId).some(c => c.status === 'open'))
  }

  reservedPeers (): ReservedPeer[] {
    return [...this.reserved.values()].map(reservedView)
  }

  async addReserved (peer: PeerAddress, options?: AbortOptions): Promise<ReservedPeer> {
    if (peer.peerId.equals(this.components.peerId)) {
      throw new InvalidParametersError(`reserved peer ${peer.peerId.toString()} is this node's own peer id`)
    }
    if (peer.multiaddrs.length === 0) {
      throw new InvalidParametersError(`reserved peer ${peer.peerId.toString()} needs an address to be dialed at`)
    }
    if (this.holdsNoSessions()) {
      throw new InvalidParametersError('reserved peers need sessions: a DHT-only node (session limits 0) holds none, reserved peers included')
    }
    // written before it takes effect: a failed write leaves nothing half
    // done, but one the datastore refused (a full disk) takes effect all the
    // same and is written once writes work again
    const saved = await this.writeReserved(peer.peerId, async (datastore) => { await storeReservedPeer(datastore, peer, options) })
    const known = this.reserved.get(peer.peerId)
    const sameAddrs = known != null && known.multiaddrs.length === peer.multiaddrs.length &&
      known.multiaddrs.every((ma, i) => ma.equals(peer.multiaddrs[i]))
    const state: ReservedState = known != null && sameAddrs
      ? { ...known, stored: this.components.datastore != null }
      : { peerId: peer.peerId, multiaddrs: [...peer.multiaddrs], failures: 0, nextAttempt: 0, stored: this.components.datastore != null }
    this.reserved.set(peer.peerId, state)
    this.components.sessions.setReserved([...this.reserved.keys()])
    this.keptUnsaved(peer.peerId, saved)
    this.log('reserved peer %p added at %s', peer.peerId, peer.multiaddrs.map(ma => ma.toString()).join(', '))
    return reservedView(state)
  }

  async removeReserved (peer: PeerId, options?: AbortOptions): Promise<ReservedPeer | undefined> {
    const state = this.reserved.get(peer)
    if (state == null) {
      return undefined
    }
    const saved = await this.writeReserved(peer, async (datastore) => { await deleteReservedPeer(datastore, peer, options) })
    this.reserved.delete(peer)
    this.components.sessions.setReserved([...this.reserved.keys()])
    this.keptUnsaved(peer, saved)
    // an ordinary contact from now on: dialed (and backed off) as the others
    await this.addressBook.add({ peerId: peer, multiaddrs: state.multiaddrs, source: 'manual' }, options)
    this.log('reserved peer %p removed; it is a contact', peer)
    return reservedView(state)
  }

  /**
   * Writes a reserved peer's record: true once written (or with no
   * datastore), false when the datastore refused it (StorageWriteError,
   * reported by the monitored datastore); any other failure rejects
   */
  private async writeReserved (peer: PeerId, write: (datastore: NonNullable<DialManagerComponents['datastore']>) => Promise<void>): Promise<boolean> {
    const datastore = this.components.datastore
    if (datastore == null) {
      return true
    }
    try {
      await write(datastore)
      return true
    } catch (err) {
      if (!isStorageWriteError(err)) {
        throw err
      }
      this.log.trace('the record of reserved peer %p kept unsaved - %e', peer, err)
      return false
    }
  }

  private keptUnsaved (peer: PeerId, saved: boolean): void {
    if (saved) {
      this.unsavedReserved.delete(peer)
    } else {
      this.unsavedReserved.add(peer)
    }
  }

  /** writes the records of the reserved peers changed while writes failed, as they are now */
  private async saveUnsavedReserved (): Promise<void> {
    for (const peer of [...this.unsavedReserved]) {
      try {
        const state = this.reserved.get(peer)
        const saved = await this.writeReserved(peer, async (datastore) => {
          await (state?.stored === true ? storeReservedPeer(datastore, state) : deleteReservedPeer(datastore, peer))
        })
        if (saved) {
          this.unsavedReserved.delete(peer)
        }
      } catch (err) {
        this.log.error('could not write the record of reserved peer %p - %e', peer, err)
      }
    }
  }

  status (): DialStatus {
    const counts = { outbound: 0, inbound: 0, reserved: 0 }
    for (const slot of this.sessionSlots()) {
      counts[slot.reserved ? 'reserved' : slot.direction]++
    }
    return { targetOutbound: this.targetOutbound(), ...counts, dialing: this.dialing.size }
  }

  /**
   * One round of the dial loop (runs on its own every `tickMs`): gathers a
   * snapshot, plans on it (`planTick`), then starts the dials and the sheds
   * of sessions over the limits; it resolves once they have started
   */
  async tick (): Promise<void> {
    const snapshot = this.gather()
    const plan = planTick(snapshot)
    // starvation counts from the last new contact: while discovery still
    // brings some, waiting for it beats turning a session around
    if (!plan.starved) {
      this.starvedSince = undefined
    } else if (this.starvedSince == null || snapshot.contacts.size > this.starvedContacts) {
      this.starvedSince = snapshot.now
      this.starvedContacts = snapshot.contacts.size
    }
    if (plan.reversal != null) {
      this.reverse(plan.reversal.peerId, snapshot.now)
    }
    // the plan counts the dropped sessions out already: the dials need not wait for them
    for (const reserved of plan.reservedDials) {
      this.dialReserved(reserved)
    }
    for (const contact of plan.dials) {
      this.dialContact(contact)
    }
    // a shed says Goodbye and closes its connection, which may take a
    // while: the loop goes on, and stopping waits for the sheds
    for (const drop of plan.drops) {
      this.log('over the %s limit: dropping %p', drop.direction, drop.peerId)
      const shed = this.components.sessions.disconnect(drop.peerId, ReasonCode.TOO_MANY_PEERS)
        .catch(err => { this.log.error('could not drop %p - %e', drop.peerId, err) })
      this.shedding.add(shed)
      void shed.finally(() => { this.shedding.delete(shed) })
    }
  }

  private schedule (delayMs: number): void {
    if (!this.running) {
      return
    }
    this.timer = setTimeout(() => {
      this.ticking = this.tick()
        .catch(err => { this.log.error('dial tick failed - %e', err) })
        .finally(() => { this.schedule(this.tickMs) })
    }, delayMs)
  }

  /**
   * The tick's snapshot: sessions, handshakes and dials in flight, bans and
   * reserved peers as plain data, and a view of the book's columns
   */
  private gather (): TickSnapshot<ReservedState> {
    const sessions = this.components.sessions
    const { maxInbound, maxOutbound } = sessions.limits()
    const slots = this.sessionSlots()
    const busy = new Set<string>([this.components.peerId.toString()])
    for (const peer of [...slots.map(s => s.peerId), ...sessions.handshakes().map(h => h.peerId), ...this.dialing.keys()]) {
      busy.add(peer.toString())
    }
    const now = this.now()
    return {
      now,
      scores: this.scores(),
      budget: this.maxDialsPerTick,
      limits: { maxInbound, maxOutbound },
      sessions: slots,
      dialing: this.dialsCounted(),
      reserved: [...this.reserved.values()],
      busy,
      bans: sessions.bans(),
      contacts: this.addressBook.candidates(),
      starvedSince: this.starvedSince,
      lastReversal: this.lastReversal,
      redialable: (peer) => {
        const banEnds = sessions.banExpiry(peer)
        return (banEnds == null || banEnds <= now) && (this.addressBook.get(peer)?.multiaddrs.length ?? 0) > 0
      }
    }
  }

  /** the sessions, each with whether its peer is reserved, and its score */
  private sessionSlots (): SessionSlot[] {
    const sessions = this.components.sessions
    const score = this.scoreService()
    return sessions.list().map(s => ({ peerId: s.peerId, direction: s.direction, since: s.since, reserved: sessions.isReserved(s.peerId), score: score?.scoreOf(s.peerId) ?? 0 }))
  }

  /** the scores the peer score holds, by peer id string; none without a peer score */
  private scores (): Map<string, number> {
    const scores = new Map<string, number>()
    for (const info of this.scoreService()?.list() ?? []) {
      scores.set(info.peerId.toString(), info.score)
    }
    return scores
  }

  /** the peer score service, registered as `score`, when the node runs one */
  private scoreService (): Pick<PeerScores, 'scoreOf' | 'list'> | undefined {
    try {
      return this.components.score ?? undefined
    } catch {
      // libp2p's components throw for a service the node does not have
      return undefined
    }
  }

  /** dials in flight that count against the outbound target: reserved peers' do not */
  private dialsCounted (): number {
    let n = 0
    for (const peer of this.dialing.keys()) {
      if (!this.components.sessions.isReserved(peer)) {
        n++
      }
    }
    return n
  }

  /** below the outbound target: random walks come faster */
  private belowTarget (): boolean {
    return outboundLoad(this.sessionSlots(), this.dialsCounted()) < this.targetOutbound()
  }

  /**
   * Turns the inbound session with `peer` around (planTick step 4): ends it
   * with TOO_MANY_PEERS, then dials the peer from its contact. The peer counts
   * as dialed from now on, so the next ticks neither dial over the target nor
   * turn another session around meanwhile.
   */
  private reverse (peer: PeerId, now: number): void {
    const contact = this.addressBook.get(peer)
    if (contact == null) {
      return
    }
    this.lastReversal = now
    this.starvedSince = undefined
    const status = this.status()
    this.log('%d of %d outbound sessions, %d inbound, %d contacts, none to dial: turning the inbound session with %p around', status.outbound, status.targetOutbound, status.inbound, this.addressBook.candidates().size, peer)
    this.dialContact(contact, async () => {
      await this.components.sessions.disconnect(peer, ReasonCode.TOO_MANY_PEERS, { detail: REVERSAL_DETAIL, signal: this.shutdown.signal })
    })
  }

  /** dials a contact; `before` runs first, inside the dial (a reversal's hang-up) */
  private dialContact (contact: Contact, before?: () => Promise<void>): void {
    this.dial(contact.peerId, contact.multiaddrs, contact.did, before, async (err) => {
      const reason = isHandshakeError(err) ? err.reason : LocalReason.DIAL_FAILED
      if (reason === ReasonCode.DUPLICATE) {
        // not a failure: a session with the peer exists or is being made on another connection
        this.log.trace('dial of %p met a simultaneous handshake', contact.peerId)
      } else {
        this.log('dial of %p failed (%s) - %e', contact.peerId, reason, err)
      }
      if (contact.source === 'bootstrap' && REFUSALS_KEEPING_THE_DHT.has(reason)) {
        // a full or DHT-only bootstrap node, or one with enough sessions from
        // our IP, hung up on us: keep its DHT within reach
        this.discovery.reseed()
      }
      // the book's backoff policy decides what the reason means (DUPLICATE: nothing)
      await this.addressBook.recordOutcome(contact.peerId, reason)
    })
  }

  private dialReserved (reserved: ReservedState): void {
    this.dial(reserved.peerId, reserved.multiaddrs, undefined, undefined, async (err) => {
      reserved.failures++
      reserved.nextAttempt = this.now() + failureBackoffMs(reserved.failures, RESERVED_BACKOFF, this.random())
      this.log('dial of reserved peer %p failed - %e', reserved.peerId, err)
    }, () => {
      reserved.failures = 0
      reserved.nextAttempt = 0
    })
  }

  private dial (peer: PeerId, multiaddrs: Multiaddr[], expectedDid: string | undefined, before: (() => Promise<void>) | undefined, onFailure: (err: unknown) => Promise<void>, onSuccess?: () => void): void {
    const work = (async () => {
      if (before != null) {
        await before().catch(err => { this.log.error('could not end the session with %p before dialing it - %e', peer, err) })
      }
      const signal = anySignal([this.shutdown.signal, AbortSignal.timeout(this.dialTimeoutMs)])
      try {
        await this.components.peerStore.merge(peer, { multiaddrs }, { signal })
        await this.components.handshake.connect(peer, { signal, expectedDid })
        this.safeDispatchEvent('dial:end', { detail: { peerId: peer, result: 'opened', reserved: this.components.sessions.isReserved(peer) } })
        onSuccess?.()
      } catch (err) {
        // stopping cancels dials without punishing their contacts
        if (this.shutdown.signal.aborted) {
          return
        }
        const reason = isHandshakeError(err) ? err.reason : LocalReason.DIAL_FAILED
        const error = err instanceof Error ? err : new Error(String(err))
        this.safeDispatchEvent('dial:end', { detail: { peerId: peer, result: 'failed', reason, error, reserved: this.components.sessions.isReserved(peer) } })
        await onFailure(err).catch(e => { this.log.error('could not record the failed dial of %p - %e', peer, e) })
      } finally {
        signal.clear()
        this.dialing.delete(peer)
      }
    })()
    this.dialing.set(peer, work)
  }
}

function reservedView (state: ReservedState): ReservedPeer {
  return { peerId: state.peerId, multiaddrs: [...state.multiaddrs], stored: state.stored }
}

const RESERVED_BACKOFF = resolveBackoff({ initialMs: RESERVED_BACKOFF_INITIAL_MS, maxMs: RESERVED_BACKOFF_MAX_MS })
