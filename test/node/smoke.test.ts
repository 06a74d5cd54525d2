import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { TestNetwork, nextEvent } from '../utils/nodes.js'
import type { Session } from '../../src/index.js'

const net = new TestNetwork()
after(async () => { await net.cleanup() })

test('smoke: two nodes open a session', async () => {
  const a = await net.node()
  const b = await net.node()
  const opened = nextEvent<Session>(b, 'session:open')
  const session = await a.connect(b.getMultiaddrs()[0])
  assert.equal(session.did, b.did)
  const remote = await opened
  assert.equal(remote.did, a.did)
})
