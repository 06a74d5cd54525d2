/**
 * @packageDocumentation
 *
 * The node's storage health. `monitorDatastore(datastore)` wraps the
 * datastore a node runs on: every write goes through it, the first one that
 * fails (a full disk, a read-only file system) is logged once and announced
 * (`storage:failing`), and the first one that succeeds after it too
 * (`storage:ok`); `health()` says which holds now. `createPeerNode` runs its
 * node on one, and its node view's `status().storage` is that health.
 *
 * While writes fail the node keeps running on what it holds in memory:
 * libp2p's own records are caches (a failed write of theirs is dropped, see
 * LIBP2P_CACHE_PREFIXES), and peergate's stores (address book, bans,
 * reserved peers) keep every change in memory and write what they could not
 * once writes succeed again (`whenWritesRecover`).
 *
 * @example
 *
 * ```TypeScript
 * import { createLibp2p } from 'libp2p'
 * import { monitorDatastore, nodeView } from 'peergate'
 *
 * const storage = monitorDatastore(datastore, { logger: defaultLogger() })
 * const libp2p = await createLibp2p({ datastore: storage, ... })
 * const view = nodeView(libp2p, { storage })   // view.status().storage
 * ```
 */

import { PEER_STORE_PREFIX } from './constants.js'
import { MonitoredDatastore } from './monitored-datastore.js'
import { WriteBehindDatastore, type WriteBehindInit } from './write-behind.js'
import type { ComponentLogger } from '@libp2p/interface'
import type { Datastore } from 'interface-datastore'

/** Writes succeed */
export interface StorageOk {
  state: 'ok'
}

/** Writes fail, since `since` */
export interface StorageFailing {
  state: 'failing'
  /** when the first write of this spell failed, ms since the epoch */
  since: number
  /** the datastore's error of the last failed write (`No space left on device`, …) */
  error: string
  /** writes that failed since then */
  failedWrites: number
}

export type StorageHealth = StorageOk | StorageFailing

/** A spell of failed writes that ended: the first write after it succeeded */
export interface StorageRecoveredDetail {
  /** when the spell began and ended, ms since the epoch */
  since: number
  until: number
  failedWrites: number
}

export interface StorageEvents {
  /** the first write of a spell failed (once per spell) */
  'storage:failing': CustomEvent<StorageFailing>
  /** a write succeeded after a spell of failures */
  'storage:ok': CustomEvent<StorageRecoveredDetail>
}

export interface MonitoredDatastoreInit {
  logger: ComponentLogger
  /** clock, ms since the epoch; injectable for tests */
  now?(): number
  /**
   * Key prefixes whose failed writes are dropped once reported, not
   * rejected
   *
   * @default LIBP2P_CACHE_PREFIXES (libp2p's peer store and DHT records)
   */
  softPrefixes?: readonly string[]
  /**
   * While writes fail, a probe write this often finds when they work again
   *
   * @default STORAGE_PROBE_INTERVAL_MS (10 s)
   */
  probeIntervalMs?: number
  /**
   * Runs when writes succeed again after a spell of failures, before the
   * spell ends (`storage:ok`, when the stores write what they kept): what the
   * datastore needs to make the writes from then on durable. A LevelDB one
   * flushes its memtable to a table and starts a new log (`resealLevel`): a
   * write that failed for want of space may have torn its log, and at its
   * next open LevelDB drops what was written after the tear. A reseal that
   * fails counts as a failed write.
   */
  reseal?(): Promise<void>
}

/** The datastore `datastore`, with its writes watched (see MonitoredDatastore) */
export function monitorDatastore (datastore: Datastore, init: MonitoredDatastoreInit): MonitoredDatastore {
  return new MonitoredDatastore(datastore, init)
}

/**
 * The reseal of a LevelDB datastore (`datastore-level`): its memtable flushed
 * to a table and a new log begun, so that no write from now on follows a
 * record a full disk tore. Only once writes succeed again: a flush that fails
 * for want of space leaves LevelDB refusing every write until it is reopened.
 */
export async function resealLevel (datastore: { db: object }): Promise<void> {
  // in Node, datastore-level's `db` is a classic-level database, which its type does not say
  const db = datastore.db as { compactRange?(start: string, end: string): Promise<void> }
  if (typeof db.compactRange !== 'function') {
    throw new TypeError('this LevelDB has no compactRange: it cannot be resealed')
  }
  // compacting any range flushes the memtable first; an empty range moves nothing else
  await db.compactRange('\u0000', '\u0000')
}

/**
 * Calls `retry` whenever writes to `datastore` succeed again after a spell
 * of failures, when it is a monitored datastore (else never): peergate's
 * stores write then what they kept unsaved. Returns what unsubscribes.
 */
export function whenWritesRecover (datastore: Datastore | undefined, retry: () => void): () => void {
  // a node's datastore is the peer store's cache in front of the monitored one
  const watched = datastore instanceof WriteBehindDatastore ? datastore.inner : datastore
  if (!(watched instanceof MonitoredDatastore)) {
    return () => {}
  }
  watched.addEventListener('storage:ok', retry)
  return () => { watched.removeEventListener('storage:ok', retry) }
}

/**
 * `datastore` with libp2p's peer store records cached and written behind
 * (WriteBehindDatastore): libp2p 3.3.11 reads and rewrites a peer's record
 * on every stream it opens, and a node's stop closes it (flushing what is
 * pending) before closing the datastore
 */
export function cachePeerStore (datastore: Datastore, init: Omit<WriteBehindInit, 'prefixes'>): WriteBehindDatastore {
  return new WriteBehindDatastore(datastore, { ...init, prefixes: [PEER_STORE_PREFIX] })
}

export { MonitoredDatastore } from './monitored-datastore.js'
export { WriteBehindDatastore, type WriteBehindInit } from './write-behind.js'
export { StorageWriteError, isStorageWriteError } from './errors.js'
export { LIBP2P_CACHE_PREFIXES, PEER_STORE_PREFIX, STORAGE_PROBE_INTERVAL_MS, STORAGE_PROBE_KEY } from './constants.js'
