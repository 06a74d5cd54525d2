import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { GOSSIPSUB_COUNTERS } from '../../src/gossip/constants.js'
import { TopicCounters } from '../../src/gossip/counters.js'

describe('the topic counters gossipsub counts into', () => {
  const cases: Array<[string, string, string, { received: number, duplicate: number }]> = [
    // what, gossipsub's metric, its topic label, the tracked topic's counts after two increments
    ['received, a tracked topic', GOSSIPSUB_COUNTERS.received, '/peergate/c/blocks', { received: 2, duplicate: 0 }],
    ['duplicate, a tracked topic', GOSSIPSUB_COUNTERS.duplicate, '/peergate/c/blocks', { received: 0, duplicate: 2 }],
    ['received, a topic not tracked', GOSSIPSUB_COUNTERS.received, '/peergate/c/other', { received: 0, duplicate: 0 }],
    ['received, the unscoped name of a tracked topic', GOSSIPSUB_COUNTERS.received, 'blocks', { received: 0, duplicate: 0 }],
    ['a metric peergate does not read', 'gossipsub_pre_validation_valid_total', '/peergate/c/blocks', { received: 0, duplicate: 0 }]
  ]
  for (const [what, name, topic, expected] of cases) {
    it(what, () => {
      const counters = new TopicCounters()
      counters.track('/peergate/c/blocks', 'blocks')
      const gauge = counters.gauge<{ topic: string }>({ name, help: '', labelNames: ['topic'] })
      gauge.inc({ topic })
      gauge.inc({ topic }, 1)
      gauge.set({ topic }, 100)
      const count = counters.get('/peergate/c/blocks')
      assert.deepEqual({ received: count?.received, duplicate: count?.duplicate }, expected)
    })
  }

  it('forgets an untracked topic and keeps nothing of topics it never tracked', () => {
    const counters = new TopicCounters()
    counters.track('/peergate/c/blocks', 'blocks')
    counters.gauge<{ topic: string }>({ name: GOSSIPSUB_COUNTERS.received, help: '', labelNames: ['topic'] }).inc({ topic: '/peergate/c/blocks' })
    counters.untrack('/peergate/c/blocks')
    assert.deepEqual([...counters.entries()], [])
    counters.track('/peergate/c/blocks', 'blocks')
    assert.equal(counters.get('/peergate/c/blocks')?.received, 0)
  })

  it('gives gossipsub histograms and summaries that do nothing', () => {
    const counters = new TopicCounters()
    const histogram = counters.histogram<{ topic: string }>()
    histogram.observe({ topic: 'x' }, 1)
    histogram.startTimer()()
    histogram.reset()
    counters.avgMinMax<{ topic: string }>().set({ topic: 'x' }, [1, 2])
    assert.deepEqual([...counters.entries()], [])
  })
})
