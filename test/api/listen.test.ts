import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isLoopbackHost } from '../../src/api/index.js'

test('isLoopbackHost: localhost, 127.0.0.0/8, ::1 and IPv4-mapped 127.x only', () => {
  const table: Array<[string, boolean]> = [
    ['localhost', true],
    ['127.0.0.1', true],
    ['127.0.0.5', true],
    ['127.255.255.254', true],
    ['::1', true],
    ['0:0:0:0:0:0:0:1', true],
    ['::ffff:127.0.0.1', true],
    ['0.0.0.0', false],
    ['::', false],
    ['10.0.0.1', false],
    ['128.0.0.1', false],
    ['::ffff:10.0.0.1', false],
    ['fe80::1', false],
    ['example.com', false]
  ]
  for (const [host, loopback] of table) {
    assert.equal(isLoopbackHost(host), loopback, host)
  }
})
