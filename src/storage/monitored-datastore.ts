import { Key } from 'interface-datastore'
import { TypedEventEmitter } from 'main-event'
import { LIBP2P_CACHE_PREFIXES, STORAGE_PROBE_INTERVAL_MS, STORAGE_PROBE_KEY } from './constants.js'
import { StorageWriteError, causeText } from './errors.js'
import type { MonitoredDatastoreInit, StorageEvents, StorageFailing, StorageHealth } from './index.js'
import type { AbortOptions, Logger } from '@libp2p/interface'
import type { Batch, Datastore, KeyQuery, Pair, Query } from 'interface-datastore'

/**
 * A datastore that watches its writes: the first one that fails starts a
 * spell of failures (logged once, `storage:failing`), the first that
 * succeeds after it ends the spell (logged, `storage:ok`), and `health()`
 * says which holds now. Reads pass through.
 *
 * A failed write of libp2p's caches (LIBP2P_CACHE_PREFIXES) is dropped once
 * reported: libp2p carries on. Any other failed write rejects with a
 * StorageWriteError (an aborted one with its abort error, unreported).
 * While writes fail, a probe write every `probeIntervalMs` finds
 * when they succeed again, even on an idle node; `stop()` ends it. When
 * they do, `reseal` (if given) runs before the spell ends.
 */
export class MonitoredDatastore extends TypedEventEmitter<StorageEvents> implements Datastore {
  private readonly inner: Datastore
  private readonly log: Logger
  private readonly now: () => number
  private readonly softPrefixes: readonly string[]
  private readonly probeIntervalMs: number
  private readonly reseal?: () => Promise<void>
  /** a reseal is under way: the spell ends once it is done */
  private resealing = false
  private failing?: StorageFailing
  private probe?: ReturnType<typeof setInterval>
  private stopped = false

  constructor (inner: Datastore, init: MonitoredDatastoreInit) {
    super()
    this.inner = inner
    this.log = init.logger.forComponent('peergate:storage')
    this.now = init.now ?? Date.now
    this.softPrefixes = init.softPrefixes ?? LIBP2P_CACHE_PREFIXES
    this.probeIntervalMs = init.probeIntervalMs ?? STORAGE_PROBE_INTERVAL_MS
    this.reseal = init.reseal
  }

  /** whether writes succeed now, or since when and how they fail */
  health (): StorageHealth {
    return this.failing == null ? { state: 'ok' } : { ...this.failing }
  }

  /** ends the probe; the wrapped datastore is the caller's to close */
  stop (): void {
    this.stopped = true
    clearInterval(this.probe)
    this.probe = undefined
  }

  async put (key: Key, val: Uint8Array, options?: AbortOptions): Promise<Key> {
    try {
      await this.inner.put(key, val, options)
    } catch (err) {
      this.failed(err, [key], options)
      return key
    }
    this.succeeded()
    return key
  }

  async delete (key: Key, options?: AbortOptions): Promise<void> {
    try {
      await this.inner.delete(key, options)
    } catch (err) {
      this.failed(err, [key], options)
      return
    }
    this.succeeded()
  }

  async * putMany (source: Iterable<Pair> | AsyncIterable<Pair>, options?: AbortOptions): AsyncGenerator<Key> {
    try {
      yield * this.inner.putMany(source, options)
    } catch (err) {
      this.failed(err, undefined, options)
      return
    }
    this.succeeded()
  }

  async * deleteMany (source: Iterable<Key> | AsyncIterable<Key>, options?: AbortOptions): AsyncGenerator<Key> {
    try {
      yield * this.inner.deleteMany(source, options)
    } catch (err) {
      this.failed(err, undefined, options)
      return
    }
    this.succeeded()
  }

  batch (): Batch {
    const batch = this.inner.batch()
    const keys: Key[] = []
    return {
      put: (key, value) => {
        keys.push(key)
        batch.put(key, value)
      },
      delete: (key) => {
        keys.push(key)
        batch.delete(key)
      },
      commit: async (options?: AbortOptions) => {
        try {
          await batch.commit(options)
        } catch (err) {
          this.failed(err, keys, options)
          return
        }
        this.succeeded()
      }
    }
  }

  get (key: Key, options?: AbortOptions): Uint8Array | Promise<Uint8Array> {
    return this.inner.get(key, options)
  }

  has (key: Key, options?: AbortOptions): boolean | Promise<boolean> {
    return this.inner.has(key, options)
  }

  getMany (source: Iterable<Key> | AsyncIterable<Key>, options?: AbortOptions): Generator<Pair> | AsyncGenerator<Pair> {
    return this.inner.getMany(source, options)
  }

  query (query: Query, options?: AbortOptions): Generator<Pair> | AsyncGenerator<Pair> {
    return this.inner.query(query, options)
  }

  queryKeys (query: KeyQuery, options?: AbortOptions): Generator<Key> | AsyncGenerator<Key> {
    return this.inner.queryKeys(query, options)
  }

  /**
   * A write failed: an abort is the caller's and rethrown as it is; anything
   * else is reported, then dropped when every key is a libp2p cache's, else
   * rethrown as a StorageWriteError
   */
  private failed (err: unknown, keys: Key[] | undefined, options?: AbortOptions): void {
    if (options?.signal?.aborted === true || (err as Error)?.name === 'AbortError') {
      throw err
    }
    this.report(err)
    if (keys != null && keys.length > 0 && keys.every(key => this.isSoft(key))) {
      this.log.trace('dropped a failed write of %s', keys.map(key => key.toString()).join(', '))
      return
    }
    throw new StorageWriteError(err)
  }

  private isSoft (key: Key): boolean {
    const text = key.toString()
    return this.softPrefixes.some(prefix => text.startsWith(prefix))
  }

  /** counts a failed write; the first of a spell is logged and announced, and starts the probe */
  private report (err: unknown): void {
    const error = causeText(err)
    if (this.failing != null) {
      this.failing.failedWrites++
      this.failing.error = error
      return
    }
    this.failing = { state: 'failing', since: this.now(), error, failedWrites: 1 }
    this.log.error('writes fail: %s. The node carries on with what it holds in memory; what it could not write is written once writes succeed again', error)
    if (!this.stopped) {
      this.probe = setInterval(() => { void this.tryProbe() }, this.probeIntervalMs)
      this.probe.unref?.()
    }
    this.safeDispatchEvent('storage:failing', { detail: this.health() as StorageFailing })
  }

  /** a write succeeded: a spell of failures, if any, ends (once the datastore is resealed, when it needs it) */
  private succeeded (): void {
    if (this.failing == null || this.resealing) {
      return
    }
    if (this.reseal == null) {
      this.endSpell()
      return
    }
    this.resealing = true
    const failedWrites = this.failing.failedWrites
    this.reseal().then(() => {
      this.resealing = false
      // a write that failed meanwhile keeps the spell going; the probe tries again
      if (this.failing?.failedWrites === failedWrites) {
        this.endSpell()
      }
    }, (err) => {
      this.resealing = false
      this.log.error('could not reseal the datastore after writes succeeded again - %e', err)
      this.report(err)
    })
  }

  private endSpell (): void {
    const spell = this.failing
    if (spell == null) {
      return
    }
    this.failing = undefined
    clearInterval(this.probe)
    this.probe = undefined
    const until = this.now()
    this.log('writes succeed again, after %d failed in %d ms', spell.failedWrites, until - spell.since)
    this.safeDispatchEvent('storage:ok', { detail: { since: spell.since, until, failedWrites: spell.failedWrites } })
  }

  private async tryProbe (): Promise<void> {
    try {
      await this.inner.put(new Key(STORAGE_PROBE_KEY), new TextEncoder().encode(String(this.now())))
    } catch (err) {
      if (this.failing != null) {
        this.failing.error = causeText(err)
      }
      return
    }
    this.succeeded()
  }
}
