import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { ReasonCode } from '../../src/index.js'
import { TestNetwork, nextEvent } from '../utils/nodes.js'
import type { SessionRejectDetail } from '../../src/index.js'

const WALK_MS = 500
const net = new TestNetwork()
after(async () => { await net.cleanup() })

describe('a node of another chain', () => {
  it('keeps no connection to a bootstrap node that rejected it with WRONG_CHAIN, on either side', async () => {
    const bootstrap = await net.node()
    const stranger = await net.node({
      chain: { chainId: 'other-chain' },
      bootstrap: [bootstrap.getMultiaddrs()[0].toString()],
      dial: { autoDial: true },
      // walks that meet nobody end fast and ask for the bootstrap peers again
      discovery: { intervalBelowTargetMs: WALK_MS, queryTimeoutMs: WALK_MS }
    })
    const rejected = await nextEvent<SessionRejectDetail>(stranger, 'session:reject', d => d.peerId.equals(bootstrap.peerId))
    assert.equal(rejected.reason, ReasonCode.WRONG_CHAIN)
    // an absence over time: give the walks three rounds to reconnect
    await new Promise(resolve => setTimeout(resolve, 6 * WALK_MS))
    assert.deepEqual(stranger.connections().filter(c => c.peerId.equals(bootstrap.peerId)).map(c => c.role), [])
    assert.deepEqual(bootstrap.connections().filter(c => c.peerId.equals(stranger.peerId)).map(c => c.role), [])
  })
})
