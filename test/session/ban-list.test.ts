import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { Key } from 'interface-datastore'
import { LevelDatastore } from 'datastore-level'
import { BanList } from '../../src/session/ban-list.js'

const dirs: string[] = []
after(async () => { await Promise.all(dirs.map(async d => rm(d, { recursive: true, force: true }))) })

test('ban list: bans expire on the injected clock', async () => {
  let now = 1_000
  const bans = new BanList(() => now)
  await bans.ban('peer-a', 500)
  assert.equal(bans.isBanned('peer-a'), true)
  assert.equal(bans.expiresAt('peer-a'), 1_500)
  assert.equal(bans.isBanned('peer-b'), false)
  now = 1_499
  assert.equal(bans.isBanned('peer-a'), true)
  now = 1_500
  assert.equal(bans.isBanned('peer-a'), false)
  await bans.ban('peer-a', 10)
  await bans.unban('peer-a')
  assert.equal(bans.isBanned('peer-a'), false)
})

test('ban list: bans outlive a restart; expired and unreadable records are dropped', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'peergate-bans-'))
  dirs.push(dir)
  let now = 10_000
  const datastore = new LevelDatastore(dir)
  await datastore.open()
  const did = 'did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp/with:odd/chars'
  const first = new BanList(() => now, datastore)
  await first.ban(did, 5_000)
  await first.ban('short-lived', 100)
  await first.ban('lifted', 5_000)
  await first.unban('lifted')
  await datastore.put(new Key('/peergate/bans/!!!'), new Uint8Array([1, 2, 3]))
  await datastore.put(new Key('/peergate/bans/YWJj'), new TextEncoder().encode('not json'))
  await datastore.close()

  now = 10_200
  await datastore.open()
  const second = new BanList(() => now, datastore)
  await second.load()
  assert.equal(second.expiresAt(did), 15_000)
  assert.equal(second.isBanned('short-lived'), false)
  assert.equal(second.isBanned('lifted'), false)
  const keys: string[] = []
  for await (const key of datastore.queryKeys({ prefix: '/peergate/bans/' })) {
    keys.push(key.toString())
  }
  assert.equal(keys.length, 1, 'expired and unreadable records were deleted')
  await datastore.close()
})
