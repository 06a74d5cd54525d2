/**
 * The scale lab's pure parts, by tables: the figures it computes from what
 * its nodes recorded (scripts/lab-figures.ts) and the chart's scaling and
 * ticks (scripts/svg-chart.ts). The lab itself is too heavy for the suite
 * (npm run lab, docs/SCALE.md).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { bytesPerBlock, convergenceFigures, duplicatesPerBlock, propagationFigures, spread, type Receipts } from '../../scripts/lab-figures.js'
import { lineChart, logTicks, scale, ticks } from '../../scripts/svg-chart.js'

test('spread: min, median, p99 (nearest rank), max and mean', () => {
  const table: Array<[number[], { min: number, p50: number, p99: number, max: number, mean: number }]> = [
    [[5], { min: 5, p50: 5, p99: 5, max: 5, mean: 5 }],
    [[3, 1, 2], { min: 1, p50: 2, p99: 3, max: 3, mean: 2 }],
    [[4, 1, 3, 2], { min: 1, p50: 2, p99: 4, max: 4, mean: 2.5 }],
    [Array.from({ length: 100 }, (_, i) => 100 - i), { min: 1, p50: 50, p99: 99, max: 100, mean: 50.5 }]
  ]
  for (const [samples, expected] of table) {
    const { n, ...figures } = spread(samples)
    assert.equal(n, samples.length)
    assert.deepEqual(figures, expected, `spread of ${samples.length} samples`)
  }
  assert.ok(Number.isNaN(spread([]).p50))
})

test('convergence: seconds until the last node reached its target, from the first start; NaN while one has not', () => {
  const table: Array<[Array<number | undefined>, boolean, number, number]> = [
    // reachedAt (ms), all, reached, seconds
    [[1_000, 3_500, 2_000], true, 3, 3.5],
    [[1_000, undefined, 2_000], false, 2, Number.NaN],
    [[], false, 0, Number.NaN]
  ]
  for (const [reachedAt, all, reached, seconds] of table) {
    const figures = convergenceFigures(0, reachedAt)
    assert.equal(figures.all, all)
    assert.equal(figures.reached, reached)
    assert.ok(Object.is(figures.seconds, seconds), `${JSON.stringify(reachedAt)} → ${figures.seconds}`)
  }
})

test('propagation: latency over every delivery, time to all nodes per block, missing deliveries counted', () => {
  const published = { 0: 1_000, 1: 2_000 }
  const nodes: Receipts[] = [
    { 0: { at: 1_010, copies: 1 }, 1: { at: 2_030, copies: 3 } },
    { 0: { at: 1_050, copies: 2 }, 1: { at: 2_020, copies: 1 } }
  ]
  const full = propagationFigures(published, nodes)
  assert.equal(full.expected, 4)
  assert.equal(full.delivered, 4)
  assert.equal(full.all, true)
  assert.deepEqual([full.latencyMs.min, full.latencyMs.p50, full.latencyMs.max], [10, 20, 50])
  assert.deepEqual([full.blockToAllMs.n, full.blockToAllMs.min, full.blockToAllMs.max], [2, 30, 50])

  const missing = propagationFigures(published, [nodes[0], { 0: { at: 1_050, copies: 1 } }])
  assert.equal(missing.delivered, 3)
  assert.equal(missing.all, false)
  assert.equal(missing.blockToAllMs.n, 1, 'a block some node lacks has no time to all')
})

test('duplicates per block: copies beyond the first, over the blocks sent', () => {
  const table: Array<[Receipts, number, number]> = [
    [{ 0: { at: 1, copies: 1 }, 1: { at: 2, copies: 1 } }, 2, 0],
    [{ 0: { at: 1, copies: 4 }, 1: { at: 2, copies: 2 } }, 2, 2],
    // the producer's own record (copies 0) adds nothing; a block never received counts no copy
    [{ 0: { at: 1, copies: 0 }, 1: { at: 2, copies: 3 } }, 4, 0.5]
  ]
  for (const [receipts, blocks, expected] of table) {
    assert.equal(duplicatesPerBlock(receipts, blocks), expected)
  }
})

test('bytes per block: what the phase sent beyond the idle rate, per block, never below 0', () => {
  const table: Array<[{ sent: number, ms: number }, { sent: number, ms: number }, number, number]> = [
    [{ sent: 10_000, ms: 1_000 }, { sent: 0, ms: 1_000 }, 10, 1_000],
    [{ sent: 10_000, ms: 2_000 }, { sent: 2_000, ms: 1_000 }, 10, 600],
    [{ sent: 1_000, ms: 2_000 }, { sent: 2_000, ms: 1_000 }, 10, 0],
    [{ sent: 5_000, ms: 1_000 }, { sent: 5_000, ms: 0 }, 5, 1_000]
  ]
  for (const [phase, idle, blocks, expected] of table) {
    assert.equal(bytesPerBlock(phase, idle, blocks), expected)
  }
})

test('chart scale: linear and log domains onto pixel ranges (y flipped)', () => {
  const table: Array<[[number, number], [number, number], boolean, number, number]> = [
    [[0, 10], [0, 100], false, 5, 50],
    [[0, 10], [300, 0], false, 10, 0],
    [[100, 1000], [0, 100], true, 316.2277660168379, 50],
    [[100, 1000], [0, 100], true, 1000, 100],
    [[7, 7], [0, 100], false, 7, 50]
  ]
  for (const [domain, range, log, v, px] of table) {
    assert.ok(Math.abs(scale(domain, range, log)(v) - px) < 1e-9, `${v} in ${domain} → ${px}`)
  }
})

test('chart ticks: 1, 2 or 5 × 10^k from 0 to at least the maximum', () => {
  const table: Array<[number, number[]]> = [
    [10, [0, 2, 4, 6, 8, 10]],
    [9, [0, 2, 4, 6, 8, 10]],
    [30, [0, 10, 20, 30]],
    [1_234, [0, 500, 1_000, 1_500]],
    [0.7, [0, 0.2, 0.4, 0.6, 0.8]],
    [0, [0, 1]]
  ]
  for (const [max, expected] of table) {
    assert.deepEqual(ticks(max), expected, `ticks(${max})`)
  }
})

test('chart log ticks: powers of 10 around the values, at least one decade; nonsense gives one decade', () => {
  const table: Array<[min: number, max: number, expected: number[]]> = [
    [2.2, 14_868, [1, 10, 100, 1000, 10_000, 100_000]],
    [10, 1000, [10, 100, 1000]],
    [0.5, 0.9, [0.1, 1]],
    [5, 5, [1, 10]],
    [0, 100, [1, 10]],
    [Number.NaN, 100, [1, 10]]
  ]
  for (const [min, max, expected] of table) {
    assert.deepEqual(logTicks(min, max), expected, `logTicks(${min}, ${max})`)
  }
})

test('line chart on a log y axis: points at or under 0 are left out, ticks at powers of 10', () => {
  const svg = lineChart({ title: 't', xLabel: 'x', yLabel: 'y', logY: true, series: [{ name: 's', points: [[100, 2], [300, 0], [1000, 2000]] }] })
  assert.equal(svg.match(/<circle /g)?.length, 2, 'the point at 0 is left out')
  for (const tick of ['1', '10', '100', '1000', '10k']) {
    assert.ok(svg.includes(`>${tick}</text>`), `tick ${tick}`)
  }
})

test('line chart: one polyline per series, the bar dashed, text escaped', () => {
  const svg = lineChart({
    title: 'a < b',
    xLabel: 'N',
    yLabel: 's',
    bar: { y: 30, label: 'bar' },
    series: [{ name: 'gossip', points: [[100, 5], [300, 10]] }, { name: 'flood', points: [[100, 8]] }]
  })
  assert.equal(svg.match(/<polyline /g)?.length, 2)
  assert.match(svg, /a &lt; b/)
  assert.match(svg, /stroke-dasharray="6 4"/)
})
