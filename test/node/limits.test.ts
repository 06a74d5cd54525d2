import assert from 'node:assert/strict'
import { test } from 'node:test'
import { resolveLimits } from '../../src/node/index.js'
import type { PeerNodeLimits } from '../../src/index.js'

test('resolveLimits: maxPeers splits one third outbound, at least 1, the rest inbound; maxPeers 0 is a DHT-only node', () => {
  const table: Array<[PeerNodeLimits, { out: number, in: number }]> = [
    [{}, { out: 16, in: 34 }],
    [{ maxPeers: 1 }, { out: 1, in: 0 }],
    [{ maxPeers: 2 }, { out: 1, in: 1 }],
    [{ maxPeers: 3 }, { out: 1, in: 2 }],
    [{ maxPeers: 9 }, { out: 3, in: 6 }],
    [{ maxPeers: 10_000 }, { out: 3333, in: 6667 }],
    [{ maxPeers: 10, maxOutboundSessions: 0 }, { out: 0, in: 10 }],
    [{ maxPeers: 10, maxInboundSessions: 0 }, { out: 10, in: 0 }],
    [{ maxPeers: 10, maxInboundSessions: 4 }, { out: 6, in: 4 }],
    [{ maxOutboundSessions: 8 }, { out: 8, in: 42 }],
    [{ maxOutboundSessions: 5, maxInboundSessions: 7 }, { out: 5, in: 7 }],
    [{ maxPeers: 12, maxOutboundSessions: 5, maxInboundSessions: 7 }, { out: 5, in: 7 }],
    // a DHT-only node
    [{ maxPeers: 0 }, { out: 0, in: 0 }],
    [{ maxOutboundSessions: 0, maxInboundSessions: 0 }, { out: 0, in: 0 }],
    [{ maxPeers: 0, maxOutboundSessions: 0 }, { out: 0, in: 0 }]
  ]
  for (const [limits, expected] of table) {
    const resolved = resolveLimits(limits)
    assert.deepEqual({ out: resolved.maxOutboundSessions, in: resolved.maxInboundSessions }, expected, JSON.stringify(limits))
  }
})

test('resolveLimits: the limit per IP is 4 by default with nothing exempt; both are passed on as given', () => {
  assert.deepEqual([resolveLimits().maxInboundSessionsPerIp, resolveLimits().ipLimitExempt], [4, []])
  const given = resolveLimits({ maxInboundSessionsPerIp: 1, ipLimitExempt: ['127.0.0.0/8', '::1'] })
  assert.deepEqual([given.maxInboundSessionsPerIp, given.ipLimitExempt], [1, ['127.0.0.0/8', '::1']])
})

test('resolveLimits: limits that make a useless node are refused, naming the range', () => {
  const table: Array<[PeerNodeLimits, RegExp]> = [
    [{ maxPeers: -1 }, /limits\.maxPeers must be a whole number from 0 to 10000, got -1/],
    [{ maxPeers: 1_000_000_000 }, /limits\.maxPeers must be a whole number from 0 to 10000/],
    [{ maxPeers: 2.5 }, /limits\.maxPeers must be a whole number/],
    [{ maxInboundSessions: -1 }, /limits\.maxInboundSessions must be a whole number from 0 to 10000/],
    [{ maxPeers: 0, maxInboundSessions: 3 }, /maxPeers is 0 \(a DHT-only node\) but maxOutboundSessions is 0 and maxInboundSessions 3/],
    [{ maxPeers: 0, inboundBurst: 1 }, /inboundBurst must be 0 on a DHT-only node/],
    [{ maxPeers: 5, maxOutboundSessions: 6 }, /maxOutboundSessions \(6\) must be at most limits\.maxPeers \(5\)/],
    [{ maxPeers: 5, maxOutboundSessions: 2, maxInboundSessions: 2 }, /must be maxOutboundSessions \+ maxInboundSessions/],
    [{ inboundBurst: -1 }, /limits\.inboundBurst must be a whole number/],
    [{ maxInboundSessionsPerIp: 0 }, /limits\.maxInboundSessionsPerIp must be a whole number from 1 to 10000, got 0/],
    [{ maxInboundSessionsPerIp: 1.5 }, /limits\.maxInboundSessionsPerIp must be a whole number/],
    [{ ipLimitExempt: ['127.0.0.0/8', '127.0.0.1/40'] }, /limits\.ipLimitExempt: an IP range is an address or a CIDR block .*, got "127\.0\.0\.1\/40"/]
  ]
  for (const [limits, message] of table) {
    assert.throws(() => resolveLimits(limits), (err: Error) => err.name === 'InvalidParametersError' && message.test(err.message), JSON.stringify(limits))
  }
})
