/** Percentile of already sorted numbers, nearest-rank */
export function percentile (sorted: number[], p: number): number {
  if (sorted.length === 0) {
    return Number.NaN
  }
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]
}

export interface Summary {
  n: number
  p50: number
  p90: number
  mean: number
}

export function summarize (samples: number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b)
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    mean: sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length)
  }
}

export interface LinearFit {
  /** change of y per unit of x */
  slope: number
  intercept: number
  /** standard deviation of the residuals: the noise a slope is judged against */
  residualSd: number
}

/** Least-squares line through `points` ([x, y] pairs) */
export function linearFit (points: Array<[number, number]>): LinearFit {
  const n = points.length
  if (n < 2) {
    return { slope: Number.NaN, intercept: Number.NaN, residualSd: Number.NaN }
  }
  const mx = points.reduce((s, [x]) => s + x, 0) / n
  const my = points.reduce((s, [, y]) => s + y, 0) / n
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0)
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0)
  const slope = sxx === 0 ? 0 : sxy / sxx
  const intercept = my - slope * mx
  const residualSd = Math.sqrt(points.reduce((s, [x, y]) => s + (y - (intercept + slope * x)) ** 2, 0) / n)
  return { slope, intercept, residualSd }
}
