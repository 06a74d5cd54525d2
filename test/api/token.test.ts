import assert from 'node:assert/strict'
import { test } from 'node:test'
import { loadOrCreateApiToken } from '../../src/index.js'

test('a token for a data dir where no directory can be made fails at once, as the node\'s own start does', { timeout: 10_000 }, async () => {
  const started = Date.now()
  await assert.rejects(loadOrCreateApiToken('/proc/peergate-token'), (err: Error) => /cannot create \/proc\/peergate-token/.test(err.message))
  assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`)
})
