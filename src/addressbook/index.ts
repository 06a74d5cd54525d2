/**
 * @packageDocumentation
 *
 * The persistent address book: one record per contact (a peer this node may
 * dial), with its addresses, its DID once learned, where it came from, and its
 * backoff. Records live in the node's datastore under their own key prefix;
 * each change is one atomic put, so a kill -9 at any moment loses at most the
 * last update and never corrupts the book.
 *
 * As a libp2p service (`addressBook()`) the book keeps itself: it loads on
 * start, learns from the node's sessions (opened: reset backoff, remember the
 * DID and address; ended cleanly: a short wait), from identify (a session
 * peer's listen addresses) and from peer discovery, and writes everything out
 * before the node stops. The dial manager reads it and reports its failed
 * dials to it (`recordOutcome`).
 *
 * @example
 *
 * ```TypeScript
 * import { createLibp2p } from 'libp2p'
 * import { addressBook, dialManager, handshake, sessions } from 'peergate'
 *
 * const node = await createLibp2p({
 *   // ...datastore, transports, encrypters, muxers, identify
 *   services: {
 *     sessions: sessions(),
 *     handshake: handshake({ chain, signer }),
 *     addressBook: addressBook({ maxContacts: 1000 }),
 *     dial: dialManager()
 *   }
 * })
 *
 * node.services.addressBook.list()
 * ```
 */

import { AddressBookManager } from './address-book-manager.js'
import type { DialCandidates } from './candidates.js'
import type { Outcome } from '../reason/index.js'
import type { Sessions } from '../session/index.js'
import type { AbortOptions, ComponentLogger, Libp2pEvents, PeerId, PeerInfo, PeerStore, TypedEventTarget } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Datastore } from 'interface-datastore'

/** Where a contact came from */
export type ContactSource = 'bootstrap' | 'dht' | 'manual' | 'inbound'

export interface Contact {
  peerId: PeerId
  multiaddrs: Multiaddr[]
  /** the node DID, once a session proved it */
  did?: string
  source: ContactSource
  /** ms since the epoch */
  firstSeen: number
  lastSeen: number
  /** when the last session with this contact opened */
  lastSession?: number
  /** consecutive failed dials or handshakes */
  failures: number
  /** no dial before this time, ms since the epoch (0: now) */
  nextAttempt: number
  /** why nextAttempt is in the future */
  backoffReason?: Outcome
  /**
   * the peer score (src/score/) as last written, in [-100, 100]; it decays
   * from `scoreAt` (the score service decays it, the book keeps it as written)
   */
  score?: number
  /** ms since the epoch from which `score` decays; in the future while a ban by score holds */
  scoreAt?: number
}

export interface NewContact {
  peerId: PeerId
  multiaddrs: Multiaddr[]
  source: ContactSource
  did?: string
}

export interface BackoffInit {
  /**
   * First wait after a failed dial or handshake; doubles per consecutive failure
   *
   * @default 1000
   */
  initialMs?: number

  /**
   * Cap of the doubling wait
   *
   * @default 3600000 (1 h)
   */
  maxMs?: number

  /**
   * Random spread of a failure wait, as a fraction: the wait is drawn from
   * [wait × (1 - jitter), wait]
   *
   * @default 0.2
   */
  jitter?: number

  /**
   * After a session that ended cleanly, the next dial waits a random time in
   * [min, max], so that peers do not reconnect in a storm
   *
   * @default 1000 and 5000
   */
  cleanCloseMinMs?: number
  cleanCloseMaxMs?: number

  /**
   * After the peer presented another DID than its record holds
   * (UNEXPECTED_DID), belongs to another chain (WRONG_CHAIN, WRONG_GENESIS)
   * or banned this node (BANNED)
   *
   * @default 86400000 (24 h)
   */
  longMs?: number
}

export interface AddressBookInit {
  /**
   * Most contacts kept; past it, stale and failing contacts are evicted first
   *
   * @default 10000
   */
  maxContacts?: number
  backoff?: BackoffInit
  /** clock, ms since the epoch; injectable for tests */
  now?(): number
  /** uniform random in [0, 1); injectable for tests */
  random?(): number
}

export interface AddressBook {
  readonly size: number
  get(peer: PeerId): Contact | undefined
  list(): Contact[]
  /**
   * Calls `fn` with every live contact, without copying, in no particular
   * order. Do not mutate the contacts, nor the book while it runs.
   */
  forEach(fn: (contact: Contact) => void): void
  /**
   * The dial tick's scan: a live view of the fields a tick compares, as
   * dense columns, one entry per contact (see DialCandidates). Valid until
   * the book next changes; read it synchronously and never write to it.
   */
  candidates(): DialCandidates

  /**
   * Adds a contact or refreshes a known one: `lastSeen` moves to now, new
   * addresses are merged in, and a contact whose addresses changed has its
   * backoff reset. The first source is kept.
   */
  add(contact: NewContact, options?: AbortOptions): Promise<Contact>
  /** replaces a contact's addresses (resets its backoff when they differ) and/or DID */
  update(peer: PeerId, patch: { multiaddrs?: Multiaddr[], did?: string }, options?: AbortOptions): Promise<Contact | undefined>
  remove(peer: PeerId, options?: AbortOptions): Promise<void>

  /**
   * A dial, a handshake or a session with the contact ended with `reason`:
   * its backoff follows the book's one policy, `backoff()`, which also says
   * what each reason means. Nothing is written when the policy changes
   * nothing (DUPLICATE).
   *
   * @throws {InvalidParametersError} when `reason` is not an Outcome
   */
  recordOutcome(peer: PeerId, reason: Outcome, options?: AbortOptions): Promise<Contact | undefined>
  /** the contacts waiting out a backoff now (`nextAttempt` in the future), with its reason */
  backoffs(): Contact[]
  /**
   * Clears the backoff of `peers` (all contacts when none are given): their
   * failures, next attempt and reason reset, so the dial manager may dial
   * them on its next tick. Resolves with the contacts that had a backoff.
   */
  clearBackoff(peers?: PeerId | PeerId[], options?: AbortOptions): Promise<Contact[]>
  /**
   * this node banned the peer (or a DID it presented): no dial before `until`,
   * ms since the epoch, with the reason BANNED (a longer backoff is kept)
   */
  recordBan(peer: PeerId, until: number, options?: AbortOptions): Promise<Contact | undefined>
  /**
   * the peer score's service wrote the contact's score: `score` as of `at`,
   * ms since the epoch, from which it decays (nothing is written for a peer
   * that is no contact)
   */
  recordScore(peer: PeerId, score: number, at: number, options?: AbortOptions): Promise<Contact | undefined>
  /** a session opened: failures reset, DID remembered */
  recordSession(peer: PeerId, did: string, options?: AbortOptions): Promise<Contact | undefined>
}

export interface AddressBookComponents {
  peerId: PeerId
  /** the records live here */
  datastore: Datastore
  /** where an inbound session's peer listens, once identify has told */
  peerStore: Pick<PeerStore, 'get'>
  /** `peer:identify` and `peer:discovery` */
  events: Pick<TypedEventTarget<Libp2pEvents>, 'addEventListener' | 'removeEventListener'>
  logger: ComponentLogger
  /** the session manager service, registered as `sessions`: its sessions open and end */
  sessions: Pick<Sessions, 'get' | 'addEventListener' | 'removeEventListener'>
}

/**
 * The address book service: the book, kept up to date by the node's own
 * events. Use it once the node has started.
 */
export interface AddressBookService extends AddressBook {
  /**
   * A peer met through discovery (a DHT walk, `peer:discovery`): added as a
   * `dht` contact, or refreshed when it brings a new address or was last seen
   * more than DISCOVERY_REFRESH_MS ago (walks meet the same peers every few
   * seconds). This node and peers without an address are left out. Resolves
   * with the contact when it was written, else undefined.
   */
  discovered(peer: PeerInfo, options?: AbortOptions): Promise<Contact | undefined>
}

/**
 * The address book service factory, registered as `addressBook` (the dial
 * manager finds it under that name). Needs the session manager as `sessions`.
 */
export function addressBook (init: AddressBookInit = {}): (components: AddressBookComponents) => AddressBookService {
  return (components) => new AddressBookManager(components, init)
}

export { PersistentAddressBook } from './address-book.js'
export type { DialCandidates } from './candidates.js'
export { failureBackoffMs, resolveBackoff } from './backoff.js'
export { DISCOVERY_REFRESH_MS } from './constants.js'
