import assert from 'node:assert/strict'
import { test } from 'node:test'
import { linearFit, percentile } from '../../scripts/stats.js'

test('linearFit: slope, intercept and residual spread by least squares', () => {
  const table: Array<[string, Array<[number, number]>, { slope: number, intercept: number, residualSd: number }]> = [
    ['flat', [[0, 5], [1, 5], [2, 5]], { slope: 0, intercept: 5, residualSd: 0 }],
    ['a line', [[0, 1], [1, 3], [2, 5]], { slope: 2, intercept: 1, residualSd: 0 }],
    ['noise around flat', [[0, 4], [1, 6], [2, 4], [3, 6]], { slope: 0.4, intercept: 4.4, residualSd: Math.sqrt(0.8) }],
    ['one x only', [[1, 2], [1, 4]], { slope: 0, intercept: 3, residualSd: 1 }]
  ]
  for (const [name, points, expected] of table) {
    const fit = linearFit(points)
    for (const key of ['slope', 'intercept', 'residualSd'] as const) {
      assert.ok(Math.abs(fit[key] - expected[key]) < 1e-9, `${name}: ${key} ${fit[key]} ≠ ${expected[key]}`)
    }
  }
  assert.ok(Number.isNaN(linearFit([[0, 1]]).slope), 'one point has no slope')
})

test('percentile: nearest rank of sorted samples', () => {
  assert.equal(percentile([1, 2, 3, 4], 50), 2)
  assert.equal(percentile([1, 2, 3, 4], 90), 4)
  assert.ok(Number.isNaN(percentile([], 50)))
})
