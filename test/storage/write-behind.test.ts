import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { MemoryDatastore } from 'datastore-core'
import { Key, type Batch, type Datastore } from 'interface-datastore'
import { cachePeerStore, monitorDatastore, PEER_STORE_PREFIX, type WriteBehindDatastore } from '../../src/storage/index.js'
import { captureLogger } from '../utils/capture-logger.js'
import { collectGarbage, inLargeBuffer, LARGE_BUFFER_BYTES, settledArrayBuffers } from '../utils/memory.js'
import { faultyDatastore } from '../utils/faulty-datastore.js'
import { TestNetwork, until } from '../utils/nodes.js'

const peerKey = (n: number): Key => new Key(`${PEER_STORE_PREFIX}peer-${n}`)
const bytes = (n: number): Uint8Array => Uint8Array.of(n)

/** The keys written to `inner` (put, delete, or in a committed batch), in order */
function recording (inner: Datastore): { datastore: Datastore, writes: string[] } {
  const writes: string[] = []
  const datastore = new Proxy(inner, {
    get (target, property) {
      const value = Reflect.get(target, property, target)
      if (property === 'put' || property === 'delete') {
        return async (key: Key, ...rest: any[]) => {
          writes.push(key.toString())
          return value.call(target, key, ...rest)
        }
      }
      if (property === 'batch') {
        return (): Batch => {
          const batch = target.batch()
          const keys: string[] = []
          return {
            put: (key, val) => { keys.push(key.toString()); batch.put(key, val) },
            delete: (key) => { keys.push(key.toString()); batch.delete(key) },
            commit: async (options) => { await batch.commit(options); writes.push(...keys) }
          }
        }
      }
      return typeof value === 'function' ? value.bind(target) : value
    }
  })
  return { datastore, writes }
}

function setup (init: { flushIntervalMs?: number, maxDirty?: number, maxClean?: number } = {}): { inner: MemoryDatastore, writes: string[], cache: WriteBehindDatastore } {
  const inner = new MemoryDatastore()
  const { datastore, writes } = recording(inner)
  const cache = cachePeerStore(datastore, { logger: captureLogger().logger, flushIntervalMs: 60_000, ...init })
  return { inner, writes, cache }
}

describe('write-behind cache of the peer store', () => {
  it('coalesces rewrites of a peer record into one write at the flush, answers reads from memory meanwhile, and writes other keys through', async () => {
    const { inner, writes, cache } = setup()
    for (let i = 0; i < 10; i++) {
      await cache.put(peerKey(1), bytes(i))
    }
    await cache.put(new Key('/peergate/addressbook/x'), bytes(7))
    assert.deepEqual(writes, ['/peergate/addressbook/x'], 'only the address book record reached the datastore')
    assert.deepEqual(await cache.get(peerKey(1)), bytes(9))
    assert.equal(await inner.has(peerKey(1)), false)
    assert.equal(cache.pending, 1)
    await cache.flush()
    assert.deepEqual(writes, ['/peergate/addressbook/x', peerKey(1).toString()])
    assert.deepEqual(await inner.get(peerKey(1)), bytes(9))
    assert.equal(cache.pending, 0)
  })

  it('deletes, reads of unknown records and queries: as the datastore would answer them', async () => {
    const { inner, cache } = setup()
    await inner.put(peerKey(2), bytes(2))
    assert.deepEqual(await cache.get(peerKey(2)), bytes(2), 'a record only the datastore has')
    await assert.rejects(cache.get(peerKey(3)), { name: 'NotFoundError' })
    assert.equal(await cache.has(peerKey(3)), false)
    await cache.put(peerKey(3), bytes(3))
    assert.equal(await cache.has(peerKey(3)), true, 'a record known absent, then written')
    await cache.delete(peerKey(2))
    await assert.rejects(cache.get(peerKey(2)), { name: 'NotFoundError' })
    assert.equal(await inner.has(peerKey(2)), true, 'the delete waits for the flush')
    const found: string[] = []
    for await (const { key } of cache.query({ prefix: PEER_STORE_PREFIX })) {
      found.push(key.toString())
    }
    assert.deepEqual(found, [peerKey(3).toString()], 'a query over the peer store flushes first')
    assert.equal(await inner.has(peerKey(2)), false)
  })

  it('a read under way when a write lands answers and keeps the write', async () => {
    const { inner, cache } = setup()
    await inner.put(peerKey(4), bytes(1))
    const read = cache.get(peerKey(4))
    await cache.put(peerKey(4), bytes(2))
    assert.deepEqual(await read, bytes(2))
    assert.deepEqual(await cache.get(peerKey(4)), bytes(2))
  })

  it('flushes on its own after the interval, and at once when maxDirty records are pending', async () => {
    const timed = setup({ flushIntervalMs: 20 })
    await timed.cache.put(peerKey(5), bytes(5))
    await until(() => timed.writes.length === 1, 2_000, 'the timed flush')
    const burst = setup({ maxDirty: 3 })
    for (let i = 0; i < 3; i++) {
      await burst.cache.put(peerKey(10 + i), bytes(i))
    }
    await until(() => burst.writes.length === 3, 2_000, 'the flush of a burst')
  })

  it('keeps at most maxClean clean records in memory, the least recently used dropped first', async () => {
    const { inner, cache } = setup({ maxClean: 2 })
    for (let i = 0; i < 3; i++) {
      await cache.put(peerKey(20 + i), bytes(i))
    }
    await cache.flush()
    await inner.put(peerKey(20), bytes(99))
    await inner.put(peerKey(22), bytes(99))
    assert.deepEqual(await cache.get(peerKey(20)), bytes(99), 'the oldest was dropped: read from the datastore')
    assert.deepEqual(await cache.get(peerKey(22)), bytes(2), 'the newest is still cached')
  })

  it('keeps each record in bytes of its own, not the large buffer it was a view into', async () => {
    const RECORDS = 200
    const { inner, cache } = setup({ maxClean: 2 * RECORDS })
    const gc = collectGarbage()
    const before = await settledArrayBuffers(gc)
    // as libp2p's peer store hands them over: a record of a few dozen bytes
    // encoded into a 64 KiB slab; and, read from the datastore, a view into a larger read
    const view = (n: number): Uint8Array => inLargeBuffer(new Uint8Array(40).fill(n))
    for (let i = 0; i < RECORDS; i++) {
      await cache.put(peerKey(1000 + i), view(i))
      await inner.put(peerKey(2000 + i), view(i))
    }
    await cache.flush()
    // the records written through are the cache's copies; now they are cached clean, and so are the reads
    for (let i = 0; i < RECORDS; i++) {
      assert.deepEqual(await cache.get(peerKey(2000 + i)), view(i))
      // only the cache holds them now
      await inner.delete(peerKey(1000 + i))
      await inner.delete(peerKey(2000 + i))
    }
    const held = await settledArrayBuffers(gc) - before
    // without copies the cache would hold 2 × RECORDS slabs: 25 MiB
    assert.ok(held < RECORDS * LARGE_BUFFER_BYTES / 8, `the cache holds ${(held / 2 ** 20).toFixed(1)} MiB of buffers for ${2 * RECORDS} records`)
    assert.deepEqual(await cache.get(peerKey(1000 + 7)), view(7))
  })

  it('keeps each key in bytes of its own, not the large buffer it was a view into', async () => {
    const KEYS = 200
    const { inner, cache } = setup({ maxClean: 2 * KEYS })
    const gc = collectGarbage()
    const before = await settledArrayBuffers(gc)
    // a key whose bytes are a slice of a larger buffer, as Node's Buffer pool hands them out
    const viewKey = (n: number): Key => new Key(inLargeBuffer(new TextEncoder().encode(peerKey(n).toString())), false)
    for (let i = 0; i < KEYS; i++) {
      await cache.put(viewKey(3000 + i), bytes(i))
      await inner.put(peerKey(4000 + i), bytes(i))
      assert.deepEqual(await cache.get(viewKey(4000 + i)), bytes(i))
    }
    await cache.flush()
    for (let i = 0; i < KEYS; i++) {
      await inner.delete(peerKey(3000 + i))
      await inner.delete(peerKey(4000 + i))
    }
    const held = await settledArrayBuffers(gc) - before
    // kept as they came, the cache's keys would hold 2 × KEYS buffers: 25 MiB
    assert.ok(held < KEYS * LARGE_BUFFER_BYTES / 8, `the cache holds ${(held / 2 ** 20).toFixed(1)} MiB of buffers for ${2 * KEYS} keys`)
    assert.deepEqual(await cache.get(peerKey(3000 + 7)), bytes(7))
  })

  it('a failed flush keeps its records for the next one; the monitored datastore behind it reports the failure', async () => {
    const faulty = faultyDatastore(new MemoryDatastore())
    const { logger } = captureLogger()
    const storage = monitorDatastore(faulty.datastore, { logger, softPrefixes: [] })
    const cache = cachePeerStore(storage, { logger, flushIntervalMs: 60_000 })
    await cache.put(peerKey(30), bytes(30))
    faulty.failing = true
    await cache.flush()
    assert.equal(storage.health().state, 'failing')
    assert.equal(cache.pending, 1)
    faulty.failing = false
    await cache.flush()
    assert.equal(cache.pending, 0)
    assert.deepEqual(await storage.get(peerKey(30)), bytes(30))
    storage.stop()
  })

  it('close() flushes, and from then on every call goes to the datastore', async () => {
    const { inner, writes, cache } = setup()
    await cache.put(peerKey(40), bytes(1))
    await cache.close()
    assert.deepEqual(await inner.get(peerKey(40)), bytes(1))
    await cache.put(peerKey(40), bytes(2))
    assert.deepEqual(writes, [peerKey(40).toString(), peerKey(40).toString()])
    assert.deepEqual(await inner.get(peerKey(40)), bytes(2))
  })
})

describe('a node\'s peer store behind the cache', () => {
  const network = new TestNetwork()
  after(async () => { await network.cleanup() })

  it('a session and twenty streams write the peer\'s record once or twice, not once per stream, and the node\'s stop writes the last of it', async () => {
    const { datastore, writes } = recording(new MemoryDatastore())
    const a = await network.node({ datastore })
    const b = await network.node()
    await a.handle('/test/echo/1.0.0', async (stream) => { await stream.close() })
    const session = await b.connect(a.getMultiaddrs()[0])
    for (let i = 0; i < 20; i++) {
      const stream = await b.openStream(session.peerId, '/test/echo/1.0.0')
      await stream.close()
    }
    await until(() => a.sessions().length === 1)
    const record = `${PEER_STORE_PREFIX}${b.peerId.toCID().toString()}`
    const before = writes.filter(key => key === record).length
    assert.ok(before <= 2, `b's record written ${before} times in A's datastore (once per stream without the cache)`)
    await a.stop()
    assert.ok(writes.filter(key => key === record).length >= 1, 'written by the stop at the latest')
    assert.ok((await datastore.get(new Key(record))).length > 0)
  })
})
