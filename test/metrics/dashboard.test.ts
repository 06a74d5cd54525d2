import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { describe, it } from 'node:test'
import { METRIC_NAMES } from '../../src/metrics/constants.js'

/** dashboards/ at the repository root, from dist/test/metrics/ */
const DASHBOARD = new URL('../../../dashboards/peergate.json', import.meta.url)

describe('Grafana dashboard', () => {
  it('queries only series that createNodeMetrics makes', async () => {
    const text = await readFile(DASHBOARD, 'utf8')
    JSON.parse(text)
    const known = new Set<string>(Object.values(METRIC_NAMES))
    const used = new Set([...text.matchAll(/peergate_[a-z_]+/g)].map(m => m[0].replace(/_(bucket|sum|count)$/, '')))
    assert.ok(used.size >= 6)
    for (const name of used) {
      assert.ok(known.has(name), `${name} is not a peergate series`)
    }
  })
})
