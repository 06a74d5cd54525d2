/**
 * A tiny SVG line chart for the scale lab's plots (docs/SCALE.md): numbered
 * axes with round ticks, one polyline with dots per series, a legend. No
 * dependency; the scaling and the ticks are pure functions, tested by tables
 * (test/scripts/svg-chart.test.ts).
 */

export interface Series {
  name: string
  points: Array<[number, number]>
  /** stroke colour; a palette colour by position when absent */
  color?: string
  dashed?: boolean
}

export interface LineChart {
  title: string
  xLabel: string
  yLabel: string
  series: Series[]
  /** a dashed horizontal line: a bar to meet */
  bar?: { y: number, label: string }
  /** x on a log scale (N from 100 to 1,000) */
  logX?: boolean
  /** y on a log scale, ticks at powers of 10 (latencies from ms to s); points at or under 0 are left out */
  logY?: boolean
  width?: number
  height?: number
  /** what the chart says when no series has a point */
  empty?: string
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b']
const MARGIN = { left: 64, right: 16, top: 36, bottom: 48 }

/** maps `domain` linearly (or logarithmically) onto `range`; a zero-width domain maps to the range's middle */
export function scale (domain: [number, number], range: [number, number], log = false): (v: number) => number {
  const f = log ? Math.log10 : (v: number) => v
  const [d0, d1] = [f(domain[0]), f(domain[1])]
  return (v: number) => d1 === d0 ? (range[0] + range[1]) / 2 : range[0] + (f(v) - d0) / (d1 - d0) * (range[1] - range[0])
}

/**
 * Round ticks from 0 (or below `min`, when negative) to at least `max`: a
 * step of 1, 2 or 5 × 10^k giving at most `count` intervals
 */
export function ticks (max: number, count = 5, min = 0): number[] {
  const lo = Math.min(0, min)
  if (!(max > lo)) {
    return [lo, lo + 1]
  }
  const raw = (max - lo) / count
  const power = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 5, 10].map(m => m * power).find(s => s >= raw) as number
  const out: number[] = []
  for (let v = Math.floor(lo / step) * step; v < max + step * 0.999; v += step) {
    out.push(Number(v.toPrecision(12)))
  }
  return out
}

/** powers of 10 from at or under `min` to at or over `max` (both > 0) */
export function logTicks (min: number, max: number): number[] {
  if (!(min > 0) || !(max > 0)) {
    return [1, 10]
  }
  const lo = Math.floor(Math.log10(Math.min(min, max)))
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(min, max))))
  const out: number[] = []
  for (let k = lo; k <= hi; k++) {
    out.push(Number((10 ** k).toPrecision(12)))
  }
  return out
}

const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
const label = (v: number): string => Math.abs(v) >= 10_000 ? `${v / 1000}k` : String(v)

export function lineChart (chart: LineChart): string {
  const width = chart.width ?? 560
  const height = chart.height ?? 320
  const plotted = (p: [number, number]): boolean => Number.isFinite(p[1]) && (chart.logY !== true || p[1] > 0)
  const all = chart.series.flatMap(s => s.points).filter(plotted)
  if (all.length === 0) {
    return [
      `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
      `<rect width="${width}" height="${height}" fill="white" stroke="#ccc"/>`,
      `<text x="${width / 2}" y="18" text-anchor="middle" font-size="13" font-weight="bold">${escape(chart.title)}</text>`,
      `<text x="${width / 2}" y="${height / 2}" text-anchor="middle" fill="#666">${escape(chart.empty ?? 'no data')}</text>`,
      '</svg>'
    ].join('\n') + '\n'
  }
  const xs = all.map(p => p[0])
  const ys = all.map(p => p[1]).concat(chart.bar != null ? [chart.bar.y] : [])
  const xDomain: [number, number] = [Math.min(...xs), Math.max(...xs)]
  const yTicks = chart.logY === true ? logTicks(Math.min(...ys), Math.max(...ys)) : ticks(Math.max(...ys), 5, Math.min(...ys))
  const x = scale(xDomain, [MARGIN.left, width - MARGIN.right], chart.logX)
  const y = scale([yTicks[0], yTicks[yTicks.length - 1]], [height - MARGIN.bottom, MARGIN.top], chart.logY)
  const xTicks = [...new Set(xs)].sort((a, b) => a - b)
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="18" text-anchor="middle" font-size="13" font-weight="bold">${escape(chart.title)}</text>`
  ]
  for (const t of yTicks) {
    parts.push(`<line x1="${MARGIN.left}" x2="${width - MARGIN.right}" y1="${y(t).toFixed(1)}" y2="${y(t).toFixed(1)}" stroke="#ddd"/>`)
    parts.push(`<text x="${MARGIN.left - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end">${label(t)}</text>`)
  }
  for (const t of xTicks) {
    parts.push(`<text x="${x(t).toFixed(1)}" y="${height - MARGIN.bottom + 16}" text-anchor="middle">${label(t)}</text>`)
  }
  parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${height - MARGIN.bottom}" stroke="#333"/>`)
  parts.push(`<line x1="${MARGIN.left}" x2="${width - MARGIN.right}" y1="${height - MARGIN.bottom}" y2="${height - MARGIN.bottom}" stroke="#333"/>`)
  parts.push(`<text x="${width / 2}" y="${height - 10}" text-anchor="middle">${escape(chart.xLabel)}</text>`)
  parts.push(`<text transform="translate(14 ${height / 2}) rotate(-90)" text-anchor="middle">${escape(chart.yLabel)}</text>`)
  if (chart.bar != null) {
    const by = y(chart.bar.y).toFixed(1)
    parts.push(`<line x1="${MARGIN.left}" x2="${width - MARGIN.right}" y1="${by}" y2="${by}" stroke="#888" stroke-dasharray="6 4"/>`)
    parts.push(`<text x="${width - MARGIN.right - 4}" y="${Number(by) - 4}" text-anchor="end" fill="#666">${escape(chart.bar.label)}</text>`)
  }
  chart.series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length]
    const points = [...s.points].sort((a, b) => a[0] - b[0]).filter(plotted)
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2"${s.dashed === true ? ' stroke-dasharray="5 3"' : ''} points="${points.map(p => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' ')}"/>`)
    for (const p of points) {
      parts.push(`<circle cx="${x(p[0]).toFixed(1)}" cy="${y(p[1]).toFixed(1)}" r="3" fill="${color}"/>`)
    }
    const ly = MARGIN.top + 4 + i * 15
    parts.push(`<line x1="${MARGIN.left + 10}" x2="${MARGIN.left + 28}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"${s.dashed === true ? ' stroke-dasharray="5 3"' : ''}/>`)
    parts.push(`<text x="${MARGIN.left + 32}" y="${ly + 4}">${escape(s.name)}</text>`)
  })
  parts.push('</svg>')
  return parts.join('\n') + '\n'
}
