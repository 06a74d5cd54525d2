import assert from 'node:assert/strict'
import { test } from 'node:test'
import { BanList } from '../../src/session/ban-list.js'

test('ban list: bans expire on the injected clock', () => {
  let now = 1_000
  const bans = new BanList(() => now)
  bans.ban('peer-a', 500)
  assert.equal(bans.isBanned('peer-a'), true)
  assert.equal(bans.expiresAt('peer-a'), 1_500)
  assert.equal(bans.isBanned('peer-b'), false)
  now = 1_499
  assert.equal(bans.isBanned('peer-a'), true)
  now = 1_500
  assert.equal(bans.isBanned('peer-a'), false)
  bans.ban('peer-a', 10)
  bans.unban('peer-a')
  assert.equal(bans.isBanned('peer-a'), false)
})
