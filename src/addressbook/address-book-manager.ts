import { serviceCapabilities, serviceDependencies } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { PersistentAddressBook } from './address-book.js'
import { sessionEndOutcome } from './backoff.js'
import { ReasonCode } from '../reason/index.js'
import { DISCOVERY_REFRESH_MS } from './constants.js'
import { whenWritesRecover } from '../storage/index.js'
import type { AddressBookComponents, AddressBookInit, AddressBookService, Contact } from './index.js'
import type { BanAddDetail, BanRemoveDetail, Session, SessionCloseDetail } from '../session/index.js'
import type { AbortOptions, IdentifyResult, PeerId, PeerInfo, Startable } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/**
 * The address book as a libp2p service: the persistent book, loaded in
 * `start()`, kept up to date from the node's own events, and written out in
 * `beforeStop()`.
 *
 * - `session:open`: the contact is created or learns the session's address,
 *   its backoff clears and its DID is remembered (`recordSession`)
 * - `session:close`: the contact backs off by how the session ended
 *   (`sessionEndOutcome`: a clean end waits a little, a reason either side
 *   held against the other as `backoff` says, this node's SHUTDOWN nothing)
 * - `ban:add`: the contacts with the banned peer id or DID wait until the ban
 *   ends (`recordBan`); `ban:remove`: their ban's backoff clears
 * - `peer:identify` of a session peer: its listen addresses replace the
 *   contact's
 * - `peer:discovery`: `discovered()`
 * - its datastore's `storage:ok` (a monitored datastore whose writes work
 *   again): the contacts it could not write meanwhile are written
 */
export class AddressBookManager extends PersistentAddressBook implements AddressBookService, Startable {
  readonly [Symbol.toStringTag] = '@peergate/address-book'
  readonly [serviceCapabilities]: string[] = ['@peergate/address-book']
  readonly [serviceDependencies]: string[] = ['@peergate/sessions']

  private readonly components: AddressBookComponents
  /** book updates started by events, awaited before the node stops */
  private readonly recording = new Set<Promise<unknown>>()
  /** the last event update of each peer, which its next one waits for */
  private readonly lastUpdate = new Map<string, Promise<unknown>>()
  /** unsubscribes from the datastore's recovery */
  private stopRecovery: () => void = () => {}

  constructor (components: AddressBookComponents, init: AddressBookInit = {}) {
    super(components, init)
    this.components = components
    this.onSessionOpen = this.onSessionOpen.bind(this)
    this.onSessionClose = this.onSessionClose.bind(this)
    this.onBan = this.onBan.bind(this)
    this.onUnban = this.onUnban.bind(this)
    this.onIdentify = this.onIdentify.bind(this)
    this.onPeerDiscovery = this.onPeerDiscovery.bind(this)
  }

  async start (): Promise<void> {
    await this.load()
    this.components.sessions.addEventListener('session:open', this.onSessionOpen)
    this.components.sessions.addEventListener('session:close', this.onSessionClose)
    this.components.sessions.addEventListener('ban:add', this.onBan)
    this.components.sessions.addEventListener('ban:remove', this.onUnban)
    this.components.events.addEventListener('peer:identify', this.onIdentify)
    this.components.events.addEventListener('peer:discovery', this.onPeerDiscovery)
    this.stopRecovery = whenWritesRecover(this.components.datastore, () => { this.track(this.saveUnsaved(), 'could not write the contacts kept unsaved - %e') })
  }

  /** what the book wrote must reach the datastore before it closes */
  async beforeStop (): Promise<void> {
    this.components.sessions.removeEventListener('session:open', this.onSessionOpen)
    this.components.sessions.removeEventListener('session:close', this.onSessionClose)
    this.components.sessions.removeEventListener('ban:add', this.onBan)
    this.components.sessions.removeEventListener('ban:remove', this.onUnban)
    this.components.events.removeEventListener('peer:identify', this.onIdentify)
    this.components.events.removeEventListener('peer:discovery', this.onPeerDiscovery)
    this.stopRecovery()
    await Promise.allSettled([...this.recording])
    await this.flush()
    // a last try for what could not be written (a monitored datastore that still fails reports it)
    await this.saveUnsaved().catch(err => { this.log.error('could not write the contacts kept unsaved - %e', err) })
  }

  /** nothing left to do: `beforeStop` wrote the book out */
  stop (): void {}

  async discovered (peer: PeerInfo, options?: AbortOptions): Promise<Contact | undefined> {
    if (peer.multiaddrs.length === 0 || peer.id.equals(this.components.peerId)) {
      return undefined
    }
    // refresh a known contact (one datastore write) only when it brings a new
    // address or was last seen a while ago
    const known = this.get(peer.id)
    if (known != null && known.lastSeen > this.clock() - DISCOVERY_REFRESH_MS && knowsAll(known, peer.multiaddrs)) {
      return undefined
    }
    return this.add({ peerId: peer.id, multiaddrs: peer.multiaddrs, source: 'dht' }, options)
  }

  private onSessionOpen (evt: CustomEvent<Session>): void {
    const session = evt.detail
    this.record(async () => this.rememberSession(session), 'could not record the session with %p - %e', session.peerId)
  }

  private async rememberSession (session: Session): Promise<void> {
    const known = this.get(session.peerId)
    // an address we dialed is worth keeping; the address of a connection the
    // peer dialed is an ephemeral port, so take its listen addresses instead
    const multiaddrs = session.connection.direction === 'outbound'
      ? [session.connection.remoteAddr]
      : await this.listenAddresses(session.peerId)
    // recordSession refreshes lastSeen; add only to create the contact or learn an address
    if (known == null || !knowsAll(known, multiaddrs)) {
      await this.add({
        peerId: session.peerId,
        multiaddrs,
        source: session.direction === 'inbound' ? 'inbound' : 'manual'
      })
    }
    await this.recordSession(session.peerId, session.did)
  }

  private onSessionClose (evt: CustomEvent<SessionCloseDetail>): void {
    const { session, reason, side } = evt.detail
    const outcome = sessionEndOutcome(reason, side)
    if (outcome == null) {
      return
    }
    this.record(async () => this.recordOutcome(session.peerId, outcome), 'could not record the end of the session with %p - %e', session.peerId)
  }

  /** the contacts a ban target names: the peer id's, or those that proved the DID */
  private banned (target: string): PeerId[] {
    const peer = peerIdOrNothing(target)
    if (peer != null) {
      return this.get(peer) == null ? [] : [peer]
    }
    const holders: PeerId[] = []
    this.forEach(contact => {
      if (contact.did === target) {
        holders.push(contact.peerId)
      }
    })
    return holders
  }

  private onBan (evt: CustomEvent<BanAddDetail>): void {
    const { target, until } = evt.detail
    for (const peer of this.banned(target)) {
      this.record(async () => this.recordBan(peer, until), 'could not record the ban of %p - %e', peer)
    }
  }

  private onUnban (evt: CustomEvent<BanRemoveDetail>): void {
    for (const target of evt.detail.targets) {
      for (const peer of this.banned(target)) {
        this.record(async () => {
          if (this.get(peer)?.backoffReason === ReasonCode.BANNED) {
            await this.clearBackoff(peer)
          }
        }, 'could not clear the ban of %p - %e', peer)
      }
    }
  }

  /** a session peer told us where it listens: that is where to dial it next time */
  private onIdentify (evt: CustomEvent<IdentifyResult>): void {
    const { peerId, listenAddrs } = evt.detail
    if (this.components.sessions.get(peerId) == null || listenAddrs.length === 0 || this.get(peerId) == null) {
      return
    }
    this.record(async () => this.update(peerId, { multiaddrs: listenAddrs }), 'could not update the addresses of %p - %e', peerId)
  }

  private onPeerDiscovery (evt: CustomEvent<PeerInfo>): void {
    this.record(async () => this.discovered(evt.detail), 'could not add discovered peer %p - %e', evt.detail.id)
  }

  /** runs an event's book update after the peer's previous one and keeps it until it settles; a failure is logged */
  private record (update: () => Promise<unknown>, message: string, peer: PeerId): void {
    // one peer's updates run in the order their events came: a session that
    // ends while its opening is still being written backs off after it
    const id = peer.toString()
    const tracked = (this.lastUpdate.get(id) ?? Promise.resolve())
      .then(update)
      .catch(err => { this.log.error(message, peer, err) })
    this.lastUpdate.set(id, tracked)
    this.track(tracked)
    void tracked.finally(() => {
      if (this.lastUpdate.get(id) === tracked) {
        this.lastUpdate.delete(id)
      }
    })
  }

  /** keeps `work` until it settles, for beforeStop to wait on; a failure is logged with `message` */
  private track (work: Promise<unknown>, message?: string): void {
    const tracked = message == null ? work : work.catch(err => { this.log.error(message, err) })
    this.recording.add(tracked)
    void tracked.finally(() => { this.recording.delete(tracked) })
  }

  private async listenAddresses (peer: PeerId): Promise<Multiaddr[]> {
    try {
      return (await this.components.peerStore.get(peer)).addresses.map(address => address.multiaddr)
    } catch {
      // not identified yet: onIdentify fills the addresses in
      return []
    }
  }
}

/** the contact already holds every one of these addresses */
function knowsAll (contact: Contact, multiaddrs: Multiaddr[]): boolean {
  // a stored contact makes its Multiaddrs on each read: read them once
  const known = contact.multiaddrs
  return multiaddrs.every(ma => known.some(k => k.equals(ma)))
}

/** the peer id a ban target names, or undefined for a DID (or anything else) */
function peerIdOrNothing (target: string): PeerId | undefined {
  if (target.startsWith('did:')) {
    return undefined
  }
  try {
    return peerIdFromString(target)
  } catch {
    return undefined
  }
}
