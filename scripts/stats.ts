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
