/**
 * npm run lab:charts [-- DIR]
 *
 * Draws the scale lab's charts (docs/scale-*.svg) from its JSON figures in
 * DIR (default docs/lab: real-<N>[-tag].json and sim-<N>[-tag].json, the
 * newest run of each kind and N; simulations on the wall clock are left
 * out): convergence time, propagation p50/p99, duplicates and bytes per node
 * per block, each against N, gossip against flood, real processes against
 * the simulation.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { lineChart, type Series } from './svg-chart.js'

const dir = process.argv[2] ?? join('docs', 'lab')
/** per kind and N, the newest run; simulations on the wall clock are left out (they measure one core, not the network) */
const newest = new Map<string, any>()
for (const file of (await readdir(dir)).filter(f => /^(real|sim)-\d+(-[\w-]+)?\.json$/.test(f))) {
  const run = JSON.parse(await readFile(join(dir, file), 'utf8'))
  run.kind = file.startsWith('real') ? 'real' : 'sim'
  if (run.kind === 'sim' && !(run.dilation > 1)) continue
  const key = `${run.kind} ${run.nodes}`
  if (newest.get(key) == null || newest.get(key).date < run.date) newest.set(key, run)
}
const runs: any[] = [...newest.values()]
const kinds = ['real', 'sim'] as const
const kindName = { real: 'real processes (TCP)', sim: 'simulation (memory, a core per node)' }
const colors = { gossip: { real: '#1f77b4', sim: '#6baed6' }, flood: { real: '#d62728', sim: '#fc9272' } }

function series (name: string, kind: 'real' | 'sim', pick: (run: any) => number | undefined, color: string, dashed = false): Series {
  const points = runs.filter(r => r.kind === kind)
    .map(r => [r.nodes, pick(r)] as [number, number | undefined])
    .filter((p): p is [number, number] => p[1] != null && Number.isFinite(p[1]))
  return { name, points, color, dashed }
}
const nonEmpty = (list: Series[]): Series[] => list.filter(s => s.points.length > 0)
const logX = new Set(runs.map(r => r.nodes)).size > 2

const charts: Record<string, string> = {
  'scale-reached.svg': lineChart({
    title: 'Nodes at their outbound target when the lab stopped waiting (%)',
    xLabel: 'nodes (N)',
    yLabel: '% of nodes',
    logX,
    bar: { y: 100, label: 'converged: 100 %' },
    series: nonEmpty(kinds.map(k => series(kindName[k], k, r => r.convergence == null ? undefined : 100 * r.convergence.reached / r.nodes, k === 'real' ? '#333' : '#999', k === 'sim')))
  }),
  'scale-convergence.svg': lineChart({
    title: 'Time until every node holds its outbound target',
    xLabel: 'nodes (N)',
    yLabel: 'seconds',
    logX,
    empty: 'no run converged (every node at its outbound target) within its timeout: see docs/SCALE.md',
    bar: { y: 30, label: 'bar: 30 s' },
    series: nonEmpty(kinds.map(k => series(kindName[k], k, r => r.convergence?.all === true ? r.convergence.seconds : undefined, k === 'real' ? '#333' : '#999', k === 'sim')))
  }),
  'scale-propagation.svg': lineChart({
    title: 'Block propagation to every node (ms from publish, log scale)',
    xLabel: 'nodes (N)',
    yLabel: 'ms',
    logX,
    logY: true,
    bar: { y: 1000, label: 'bar: gossip p99 1 s' },
    series: nonEmpty(kinds.flatMap(k => (['gossip', 'flood'] as const).flatMap(relay => [
      series(`${relay} p50, ${k}`, k, r => r.relays?.[relay]?.latencyMs.p50, colors[relay][k], true),
      series(`${relay} p99, ${k}`, k, r => r.relays?.[relay]?.latencyMs.p99, colors[relay][k])
    ])))
  }),
  'scale-duplicates.svg': lineChart({
    title: 'Duplicates received per node per block (median over nodes)',
    xLabel: 'nodes (N)',
    yLabel: 'copies beyond the first',
    logX,
    bar: { y: 6, label: 'bar: gossip median 6' },
    series: nonEmpty(kinds.flatMap(k => (['gossip', 'flood'] as const).map(relay =>
      series(`${relay}, ${k}`, k, r => r.relays?.[relay]?.duplicatesPerNodePerBlock.p50, colors[relay][k], k === 'sim'))))
  }),
  'scale-bytes.svg': lineChart({
    title: 'Bytes sent per node per 1 KiB block (median over nodes)',
    xLabel: 'nodes (N)',
    yLabel: 'bytes',
    logX,
    series: nonEmpty(kinds.flatMap(k => (['gossip', 'flood'] as const).map(relay =>
      series(`${relay}, ${k}`, k, r => r.relays?.[relay]?.bytesSentPerNodePerBlock.p50, colors[relay][k], k === 'sim'))))
  })
}
for (const [file, svg] of Object.entries(charts)) {
  await writeFile(join('docs', file), svg)
  console.info(`docs/${file}`)
}
