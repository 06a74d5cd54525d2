import { NotFoundError } from '@libp2p/interface'
import { Key } from 'interface-datastore'
import { WRITE_BEHIND_FLUSH_INTERVAL_MS, WRITE_BEHIND_MAX_CLEAN, WRITE_BEHIND_MAX_DIRTY } from './constants.js'
import { ownBytes } from '../wire/index.js'
import type { AbortOptions, ComponentLogger, Logger } from '@libp2p/interface'
import type { Batch, Datastore, KeyQuery, Pair, Query } from 'interface-datastore'

/** a key the cache knows is absent from the datastore */
const ABSENT = Symbol('absent')

type Cached = Uint8Array | typeof ABSENT

/**
 * A value in bytes of its own. libp2p's peer store encodes a record of a few
 * dozen bytes as a view into a 64 KiB slab that protons allocates from (and
 * a read may be a view into a larger one): kept as it came, each cached
 * record kept its whole slab alive, up to WRITE_BEHIND_MAX_CLEAN of them.
 */
function own (value: Cached): Cached {
  return value === ABSENT ? value : ownBytes(value)
}

/** A key in bytes of its own, for the same reason: a Key's bytes are often a slice of Node's shared Buffer pool */
function ownKey (key: Key): Key {
  const bytes = key.uint8Array()
  const owned = ownBytes(bytes)
  return owned === bytes ? key : new Key(owned, false)
}

export interface WriteBehindInit {
  /** the keys cached and written behind: those starting with one of these */
  prefixes: string[]
  /** how long a write may wait before it reaches `inner` */
  flushIntervalMs?: number
  /** clean entries kept for reads, least recently used dropped first */
  maxClean?: number
  /** pending writes that start a flush at once */
  maxDirty?: number
  logger: ComponentLogger
}

/**
 * A datastore in front of another that keeps the records under some prefixes
 * in memory and writes them behind: reads are answered from memory once a
 * record was read or written, and writes to one record within
 * `flushIntervalMs` reach the inner datastore as one batch.
 *
 * It exists for libp2p's peer store, which reads and rewrites a peer's whole
 * record on every stream the peer opens (libp2p merges the stream's protocol
 * before calling the handler), by identify and by tag changes: about 16
 * LevelDB reads and 11 writes per session, on the path of every handshake.
 * Those records are libp2p's cache of what peers said (addresses, protocols,
 * keys, tags); losing the last second of them to a crash costs nothing a
 * reconnect does not bring back. peergate's own records (address book, bans,
 * reserved peers) are not under these prefixes and are written through.
 *
 * Queries that may cover a cached prefix flush first, so they see every
 * write; `flush()` writes what is pending; `close()` flushes, and from then
 * on every call goes straight to `inner` (a node's stop closes it after
 * libp2p's, before its LevelDB).
 *
 * A failed flush keeps its records pending for the next one. Put it in front
 * of the monitored datastore, which reports the failure in the node's
 * storage health and drops a failed write of libp2p's caches: the records
 * are then dropped too, as they would have been without the cache.
 */
export class WriteBehindDatastore implements Datastore {
  private readonly prefixes: string[]
  private readonly flushIntervalMs: number
  private readonly maxClean: number
  private readonly maxDirty: number
  private readonly log: Logger
  /** every cached key, least recently used first */
  private readonly entries = new Map<string, { key: Key, value: Cached }>()
  /** keys written since their last flush, with the write's sequence number */
  private readonly dirty = new Map<string, number>()
  private sequence = 0
  private timer?: ReturnType<typeof setTimeout>
  private flushing?: Promise<void>
  private failing = false
  private closed = false

  /** the datastore behind the cache */
  readonly inner: Datastore

  constructor (inner: Datastore, init: WriteBehindInit) {
    this.inner = inner
    this.prefixes = init.prefixes
    this.flushIntervalMs = init.flushIntervalMs ?? WRITE_BEHIND_FLUSH_INTERVAL_MS
    this.maxClean = init.maxClean ?? WRITE_BEHIND_MAX_CLEAN
    this.maxDirty = init.maxDirty ?? WRITE_BEHIND_MAX_DIRTY
    this.log = init.logger.forComponent('peergate:datastore:write-behind')
  }

  /** writes that have not reached the inner datastore yet */
  get pending (): number {
    return this.dirty.size
  }

  async put (key: Key, val: Uint8Array, options?: AbortOptions): Promise<Key> {
    if (!this.cached(key)) {
      return this.inner.put(key, val, options)
    }
    this.write(key, val)
    return key
  }

  async get (key: Key, options?: AbortOptions): Promise<Uint8Array> {
    if (!this.cached(key)) {
      return this.inner.get(key, options)
    }
    const value = await this.read(key, options)
    if (value === ABSENT) {
      throw new NotFoundError(`no record for ${key.toString()}`)
    }
    return value
  }

  async has (key: Key, options?: AbortOptions): Promise<boolean> {
    if (!this.cached(key)) {
      return this.inner.has(key, options)
    }
    return (await this.read(key, options)) !== ABSENT
  }

  async delete (key: Key, options?: AbortOptions): Promise<void> {
    if (!this.cached(key)) {
      await this.inner.delete(key, options)
      return
    }
    this.write(key, ABSENT)
  }

  async * putMany (source: Iterable<Pair> | AsyncIterable<Pair>, options?: AbortOptions): AsyncGenerator<Key> {
    for await (const { key, value } of source) {
      yield this.put(key, value, options)
    }
  }

  async * getMany (source: Iterable<Key> | AsyncIterable<Key>, options?: AbortOptions): AsyncGenerator<Pair> {
    for await (const key of source) {
      yield { key, value: await this.get(key, options) }
    }
  }

  async * deleteMany (source: Iterable<Key> | AsyncIterable<Key>, options?: AbortOptions): AsyncGenerator<Key> {
    for await (const key of source) {
      await this.delete(key, options)
      yield key
    }
  }

  batch (): Batch {
    const ops: Array<{ key: Key, value?: Uint8Array }> = []
    return {
      put: (key, value) => { ops.push({ key, value }) },
      delete: (key) => { ops.push({ key }) },
      commit: async (options) => {
        const through = this.inner.batch()
        let writeThrough = false
        for (const { key, value } of ops) {
          if (this.cached(key)) {
            this.write(key, value ?? ABSENT)
          } else if (value == null) {
            through.delete(key)
            writeThrough = true
          } else {
            through.put(key, value)
            writeThrough = true
          }
        }
        if (writeThrough) {
          await through.commit(options)
        }
      }
    }
  }

  async * query (q: Query, options?: AbortOptions): AsyncGenerator<Pair> {
    if (this.covers(q.prefix)) {
      await this.flush()
    }
    yield * this.inner.query(q, options)
  }

  async * queryKeys (q: KeyQuery, options?: AbortOptions): AsyncGenerator<Key> {
    if (this.covers(q.prefix)) {
      await this.flush()
    }
    yield * this.inner.queryKeys(q, options)
  }

  /**
   * Writes every pending record to the inner datastore as one batch. A
   * failed flush keeps them pending for the next one and is logged once
   * until a flush succeeds again.
   */
  async flush (): Promise<void> {
    while (this.flushing != null) {
      await this.flushing
    }
    if (this.timer != null) {
      clearTimeout(this.timer)
      this.timer = undefined
    }
    if (this.dirty.size === 0) {
      return
    }
    this.flushing = this.writePending().finally(() => { this.flushing = undefined })
    await this.flushing
  }

  /** flushes what is pending; from then on every call goes straight to the inner datastore */
  async close (): Promise<void> {
    await this.flush()
    this.closed = true
    // what a failed last flush kept is dropped with the rest: no timer may
    // write after the inner datastore is closed
    clearTimeout(this.timer)
    this.timer = undefined
    this.dirty.clear()
    this.entries.clear()
  }

  private async writePending (): Promise<void> {
    const written = new Map(this.dirty)
    const batch = this.inner.batch()
    for (const key of written.keys()) {
      const entry = this.entries.get(key)
      if (entry == null) {
        continue
      }
      if (entry.value === ABSENT) {
        batch.delete(entry.key)
      } else {
        batch.put(entry.key, entry.value)
      }
    }
    try {
      await batch.commit()
    } catch (err) {
      if (!this.failing) {
        this.log.error('could not write %d cached records, keeping them for the next flush - %e', written.size, err)
      }
      this.failing = true
      this.schedule()
      return
    }
    if (this.failing) {
      this.log('cached records are written again')
      this.failing = false
    }
    for (const [key, seq] of written) {
      // a record written again during the flush stays pending
      if (this.dirty.get(key) === seq) {
        this.dirty.delete(key)
      }
    }
    this.trim()
  }

  private cached (key: Key): boolean {
    if (this.closed) {
      return false
    }
    const text = key.toString()
    return this.prefixes.some(prefix => text.startsWith(prefix))
  }

  /** whether a query with this prefix may return cached keys */
  private covers (prefix: string | undefined): boolean {
    return this.dirty.size > 0 && (prefix == null || this.prefixes.some(cached => cached.startsWith(prefix) || prefix.startsWith(cached)))
  }

  private async read (key: Key, options?: AbortOptions): Promise<Cached> {
    const text = key.toString()
    const entry = this.entries.get(text)
    if (entry != null) {
      // most recently used last
      this.entries.delete(text)
      this.entries.set(text, entry)
      return entry.value
    }
    let value: Cached
    try {
      value = await this.inner.get(key, options)
    } catch (err: any) {
      if (err.name !== 'NotFoundError') {
        throw err
      }
      value = ABSENT
    }
    // a write that landed while the inner read was under way wins
    if (!this.entries.has(text)) {
      value = own(value)
      this.entries.set(text, { key: ownKey(key), value })
      this.trim()
    }
    return this.entries.get(text)?.value ?? value
  }

  private write (key: Key, value: Cached): void {
    const text = key.toString()
    const held = this.entries.get(text)?.key ?? ownKey(key)
    this.entries.delete(text)
    this.entries.set(text, { key: held, value: own(value) })
    this.dirty.set(text, ++this.sequence)
    if (this.dirty.size >= this.maxDirty) {
      void this.flush().catch(() => {})
    } else {
      this.schedule()
    }
  }

  private schedule (): void {
    if (this.timer == null) {
      this.timer = setTimeout(() => {
        this.timer = undefined
        void this.flush().catch(() => {})
      }, this.flushIntervalMs)
      this.timer.unref?.()
    }
  }

  /** drops the least recently used clean entries beyond `maxClean` */
  private trim (): void {
    let excess = this.entries.size - this.dirty.size - this.maxClean
    for (const key of this.entries.keys()) {
      if (excess <= 0) {
        break
      }
      if (!this.dirty.has(key)) {
        this.entries.delete(key)
        excess--
      }
    }
  }
}
