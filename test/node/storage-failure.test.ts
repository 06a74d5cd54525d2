/**
 * Issue 22, faults: the disk fills up (or turns read-only) under a running
 * node. Its datastore (a real LevelDB) starts refusing every write, as a
 * full disk's LevelDB does (ENOSPC); the node keeps its sessions and makes
 * new ones, its commands (contacts, bans, reserved peers) take effect, it
 * logs the failure once and says so in `status()` and `GET /status`, nothing
 * crashes; once writes succeed again it says so, and what it could not write
 * meanwhile is in the datastore.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { LevelDatastore } from 'datastore-level'
import { createApiServer } from '../../src/index.js'
import { captureLogger } from '../utils/capture-logger.js'
import { faultyDatastore } from '../utils/faulty-datastore.js'
import { TestNetwork, nextEvent } from '../utils/nodes.js'
import type { StorageRecoveredDetail } from '../../src/index.js'

const net = new TestNetwork()
after(async () => { await net.cleanup() })

test('a full disk under a running node: sessions kept and made, commands in force, logged once, in the status; written once the disk takes writes again', async (t) => {
  const unhandled: unknown[] = []
  const onUnhandled = (err: unknown): void => { unhandled.push(err) }
  process.on('unhandledRejection', onUnhandled)
  t.after(() => { process.off('unhandledRejection', onUnhandled) })

  const dir = await net.dir()
  const level = new LevelDatastore(join(dir, 'datastore'))
  await level.open()
  const disk = faultyDatastore(level)
  const { logger, records } = captureLogger()
  const node = await net.node({ datastore: disk.datastore, logger })
  const b = await net.node()
  const c = await net.node()
  const api = createApiServer(node, { port: 0, token: 'f'.repeat(64) })
  await api.start()
  t.after(async () => { await api.stop() })
  await node.connect(b.getMultiaddrs()[0])
  assert.deepEqual(node.status().storage, { state: 'ok' })
  const errorsBefore = records.filter(r => r.level === 'error' && r.component.startsWith('peergate')).length

  disk.failing = true
  const failingEvent = nextEvent(node, 'storage:failing')
  // a status round opens a stream of a protocol the peer store has not recorded for the peer: its write fails
  await node.refreshStatus(b.peerId)
  const contact = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  await node.addContact(`/ip4/127.0.0.1/tcp/1234/p2p/${contact.toString()}`)
  await node.ban('did:key:z6MkDiskFull', 3_600_000)
  await node.addReserved(c.getMultiaddrs()[0])
  // sessions are made, ended and made again
  await node.connect(c.getMultiaddrs()[0])
  const ended = nextEvent(node, 'session:close')
  await b.disconnect(node.peerId)
  await ended
  await node.connect(b.getMultiaddrs()[0])
  await node.refreshStatus(c.peerId)
  await failingEvent

  assert.ok(disk.refused > 5, `${disk.refused} writes refused`)
  assert.ok(node.session(b.peerId) != null && node.session(c.peerId) != null, 'both sessions are up')
  assert.equal(node.contact(contact)?.peerId.toString(), contact.toString(), 'the contact is in the book')
  assert.ok(node.banExpiry('did:key:z6MkDiskFull') != null, 'the ban is in force')
  assert.ok(node.reserved().some(r => r.peerId.equals(c.peerId)), 'the peer is reserved')
  const storage = node.status().storage
  assert.equal(storage?.state, 'failing')
  // writes still in flight are refused but not yet counted
  assert.ok(storage?.state === 'failing' && /no space left on device/.test(storage.error) && storage.failedWrites > 5 && storage.failedWrites <= disk.refused)
  const status = await (await fetch(`${api.url}/status`)).json()
  assert.equal(status.storage.state, 'failing')
  assert.match(status.storage.error, /no space left on device/)
  assert.equal(typeof status.storage.since, 'number')
  const errors = records.filter(r => r.level === 'error' && r.component.startsWith('peergate')).slice(errorsBefore)
  assert.deepEqual(errors.map(r => r.component), ['peergate:storage'], 'one error logged, by the storage monitor')
  assert.deepEqual(unhandled, [])

  // the disk has room again: the next write tells, and what waited is written
  disk.failing = false
  const recovered = nextEvent<StorageRecoveredDetail>(node, 'storage:ok')
  await node.refreshStatus(b.peerId)
  await node.addContact(`/ip4/127.0.0.1/tcp/1235/p2p/${peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()}`)
  const detail = await recovered
  assert.ok(detail.failedWrites > 5 && detail.failedWrites <= disk.refused)
  assert.deepEqual(node.status().storage, { state: 'ok' })
  assert.equal((await (await fetch(`${api.url}/status`)).json()).storage.state, 'ok')
  assert.ok(records.some(r => r.component === 'peergate:storage' && r.level === 'info' && /succeed again/.test(r.formatter)), 'says so')

  // all of it is in the datastore: a node on it after a restart has it
  await node.stop()
  const again = await net.node({ datastore: level })
  assert.ok(again.contact(contact) != null, 'the contact written while the disk was full')
  assert.ok(again.banExpiry('did:key:z6MkDiskFull') != null, 'the ban set while the disk was full')
  assert.ok(again.reserved().some(r => r.peerId.equals(c.peerId) && r.stored), 'the reserved peer added while the disk was full')
  assert.ok(again.contact(b.peerId)?.lastSession != null, 'the sessions recorded while the disk was full')
  await again.stop()
  await level.close()
  assert.deepEqual(unhandled, [])
})
