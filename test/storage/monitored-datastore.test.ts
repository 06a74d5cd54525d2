import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MemoryDatastore } from 'datastore-core'
import { Key } from 'interface-datastore'
import { monitorDatastore, STORAGE_PROBE_KEY, type StorageFailing, type StorageRecoveredDetail } from '../../src/storage/index.js'
import { captureLogger } from '../utils/capture-logger.js'
import { faultyDatastore } from '../utils/faulty-datastore.js'

const bytes = Uint8Array.of(1, 2, 3)

function setup (probeIntervalMs = 60_000): { faulty: ReturnType<typeof faultyDatastore>, storage: ReturnType<typeof monitorDatastore>, errors: () => number, failing: StorageFailing[], recovered: StorageRecoveredDetail[], clock: { now: number } } {
  const faulty = faultyDatastore(new MemoryDatastore())
  const { logger, records } = captureLogger()
  const clock = { now: 1_000 }
  const storage = monitorDatastore(faulty.datastore, { logger, now: () => clock.now, probeIntervalMs })
  const failing: StorageFailing[] = []
  const recovered: StorageRecoveredDetail[] = []
  storage.addEventListener('storage:failing', (evt) => { failing.push(evt.detail) })
  storage.addEventListener('storage:ok', (evt) => { recovered.push(evt.detail) })
  return { faulty, storage, errors: () => records.filter(r => r.level === 'error').length, failing, recovered, clock }
}

describe('monitored datastore', () => {
  it('passes writes and reads through while they succeed, and says ok', async () => {
    const { storage, errors } = setup()
    await storage.put(new Key('/peergate/a'), bytes)
    assert.deepEqual(await storage.get(new Key('/peergate/a')), bytes)
    const batch = storage.batch()
    batch.put(new Key('/peergate/b'), bytes)
    await batch.commit()
    assert.equal(await storage.has(new Key('/peergate/b')), true)
    await storage.delete(new Key('/peergate/b'))
    assert.deepEqual(storage.health(), { state: 'ok' })
    assert.equal(errors(), 0)
  })

  it('a spell of refused writes: reported once, rejected (peergate\'s and the application\'s keys) or dropped (libp2p\'s caches), ended by the next write that succeeds', async () => {
    const { faulty, storage, errors, failing, recovered, clock } = setup()
    faulty.failing = true
    const cases: Array<{ write: () => Promise<unknown>, rejects: boolean, what: string }> = [
      { what: 'a contact', rejects: true, write: async () => storage.put(new Key('/peergate/addressbook/x'), bytes) },
      { what: 'the application\'s record', rejects: true, write: async () => storage.put(new Key('/devnet-1/head'), bytes) },
      { what: 'a ban lifted', rejects: true, write: async () => storage.delete(new Key('/peergate/bans/x')) },
      { what: 'a batch of contacts', rejects: true, write: async () => { const b = storage.batch(); b.put(new Key('/peergate/addressbook/y'), bytes); await b.commit() } },
      { what: 'a batch of a contact and a peer record', rejects: true, write: async () => { const b = storage.batch(); b.put(new Key('/peers/z'), bytes); b.delete(new Key('/peergate/addressbook/z')); await b.commit() } },
      { what: 'a peer store record', rejects: false, write: async () => storage.put(new Key('/peers/bafz'), bytes) },
      { what: 'a peer store record deleted', rejects: false, write: async () => storage.delete(new Key('/peers/bafz')) },
      { what: 'a DHT record', rejects: false, write: async () => storage.put(new Key('/dht/record/abc'), bytes) },
      { what: 'a batch of peer records', rejects: false, write: async () => { const b = storage.batch(); b.put(new Key('/peers/a'), bytes); b.put(new Key('/dht/b'), bytes); await b.commit() } },
      { what: 'many puts', rejects: true, write: async () => { for await (const _ of storage.putMany([{ key: new Key('/peergate/m'), value: bytes }])) {} } }
    ]
    for (const [i, { what, rejects, write }] of cases.entries()) {
      clock.now += 10
      if (rejects) {
        await assert.rejects(write(), (err: any) => err.name === 'StorageWriteError' && err.cause?.code === 'ENOSPC' && /no space left on device/.test(err.message), what)
      } else {
        await write()
      }
      assert.deepEqual(storage.health(), { state: 'failing', since: 1_010, error: 'ENOSPC: no space left on device, write', failedWrites: i + 1 }, what)
    }
    assert.equal(errors(), 1, 'logged once')
    assert.equal(failing.length, 1, 'announced once')
    assert.equal(failing[0].failedWrites, 1)

    faulty.failing = false
    clock.now = 5_000
    await storage.put(new Key('/peergate/addressbook/x'), bytes)
    assert.deepEqual(storage.health(), { state: 'ok' })
    assert.deepEqual(recovered, [{ since: 1_010, until: 5_000, failedWrites: cases.length }])

    // the next spell is reported again
    faulty.failing = true
    await assert.rejects(storage.put(new Key('/peergate/addressbook/x'), bytes), { name: 'StorageWriteError' })
    assert.equal(errors(), 2)
    assert.equal(failing.length, 2)
    storage.stop()
  })

  it('an aborted write is the caller\'s: rethrown as it is, not a storage failure', async () => {
    const { storage, failing } = setup()
    const inner = (storage as any).inner
    inner.put = async () => { throw Object.assign(new Error('aborted'), { name: 'AbortError' }) }
    await assert.rejects(storage.put(new Key('/peergate/a'), bytes, { signal: AbortSignal.abort() }), { name: 'AbortError' })
    assert.deepEqual(storage.health(), { state: 'ok' })
    assert.equal(failing.length, 0)
  })

  it('once writes succeed again, the reseal runs before the spell ends; a reseal that fails keeps it going', async () => {
    const faulty = faultyDatastore(new MemoryDatastore())
    const order: string[] = []
    let resealFails = true
    const storage = monitorDatastore(faulty.datastore, {
      logger: captureLogger().logger,
      probeIntervalMs: 60_000,
      reseal: async () => {
        order.push('reseal')
        if (resealFails) {
          throw new Error('IO error: 000005.ldb: No space left on device')
        }
      }
    })
    storage.addEventListener('storage:ok', () => { order.push('ok') })
    faulty.failing = true
    await assert.rejects(storage.put(new Key('/peergate/a'), bytes))
    faulty.failing = false
    await storage.put(new Key('/peergate/a'), bytes)
    await new Promise(resolve => setTimeout(resolve, 10))
    const health = storage.health()
    assert.ok(health.state === 'failing' && /000005\.ldb/.test(health.error) && health.failedWrites === 2, 'the failed reseal counts as a failed write')
    resealFails = false
    await storage.put(new Key('/peergate/a'), bytes)
    await new Promise(resolve => setTimeout(resolve, 10))
    assert.deepEqual(order, ['reseal', 'reseal', 'ok'])
    assert.deepEqual(storage.health(), { state: 'ok' })
    storage.stop()
  })

  it('while writes fail, a probe finds when they work again although nothing else writes; stop() ends it', async () => {
    const { faulty, storage, recovered } = setup(20)
    faulty.failing = true
    await assert.rejects(storage.put(new Key('/peergate/a'), bytes))
    await new Promise(resolve => setTimeout(resolve, 70))
    assert.equal(storage.health().state, 'failing')
    const refusedBefore = faulty.refused
    assert.ok(refusedBefore > 1, 'the probe tried')
    faulty.failing = false
    for (let i = 0; i < 50 && recovered.length === 0; i++) {
      await new Promise(resolve => setTimeout(resolve, 10))
    }
    assert.equal(recovered.length, 1)
    assert.deepEqual(storage.health(), { state: 'ok' })
    assert.equal(await faulty.datastore.has(new Key(STORAGE_PROBE_KEY)), true)

    faulty.failing = true
    await assert.rejects(storage.put(new Key('/peergate/a'), bytes))
    storage.stop()
    const refused = faulty.refused
    await new Promise(resolve => setTimeout(resolve, 70))
    assert.equal(faulty.refused, refused, 'no probe after stop')
  })
})
