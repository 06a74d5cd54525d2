/**
 * The scale lab's figures, as pure functions of what its nodes recorded:
 * shared by `lab.ts` and its table test (test/scripts/lab-figures.test.ts).
 */
import { percentile } from './stats.js'

/** min, median, 99th percentile (nearest rank) and max of some samples; NaN for none */
export interface Spread {
  n: number
  min: number
  p50: number
  p99: number
  max: number
  mean: number
}

export function spread (samples: readonly number[]): Spread {
  const sorted = [...samples].sort((a, b) => a - b)
  return {
    n: sorted.length,
    min: sorted.length === 0 ? Number.NaN : sorted[0],
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1],
    mean: sorted.length === 0 ? Number.NaN : sorted.reduce((a, b) => a + b, 0) / sorted.length
  }
}

export interface ConvergenceFigures {
  /** every node reached its outbound target */
  all: boolean
  reached: number
  /** seconds from the first node's start until the last node reached its target; NaN when not all did */
  seconds: number
  /** seconds from the first node's start until each node reached its target */
  perNode: Spread
}

/** `reachedAt`: when each node first held its outbound target (ms since the epoch), undefined when it never did */
export function convergenceFigures (t0: number, reachedAt: ReadonlyArray<number | undefined>): ConvergenceFigures {
  const times = reachedAt.filter((t): t is number => t != null).map(t => Math.max(0, t - t0) / 1000)
  const all = times.length === reachedAt.length && times.length > 0
  const perNode = spread(times)
  return { all, reached: times.length, seconds: all ? perNode.max : Number.NaN, perNode }
}

/** One node's record of one relay's blocks: by block number, the first receipt (ms since the epoch) and the copies received */
export type Receipts = Readonly<Record<number, { at: number, copies: number } | undefined>>

export interface PropagationFigures {
  blocks: number
  /** node–block pairs that should have arrived (every node but the producer, every block) */
  expected: number
  delivered: number
  /** every block reached every node */
  all: boolean
  /** ms from publish to each node's first receipt, over every node–block pair that arrived */
  latencyMs: Spread
  /** ms from publish until the block was at every node, per block (blocks that reached every node) */
  blockToAllMs: Spread
}

/**
 * `publishedAt`: when each block was sent, by number; `receipts`: each
 * node's record, the producer's left out by the caller
 */
export function propagationFigures (publishedAt: Readonly<Record<number, number>>, receipts: readonly Receipts[]): PropagationFigures {
  const latencies: number[] = []
  const toAll: number[] = []
  const blocks = Object.keys(publishedAt).map(Number)
  let delivered = 0
  for (const block of blocks) {
    let last = 0
    let everyNode = true
    for (const node of receipts) {
      const receipt = node[block]
      if (receipt == null) {
        everyNode = false
        continue
      }
      delivered++
      const ms = receipt.at - publishedAt[block]
      latencies.push(ms)
      last = Math.max(last, ms)
    }
    if (everyNode) {
      toAll.push(last)
    }
  }
  const expected = blocks.length * receipts.length
  return { blocks: blocks.length, expected, delivered, all: delivered === expected, latencyMs: spread(latencies), blockToAllMs: spread(toAll) }
}

/**
 * Copies beyond the first a node received, per block, from the copies it
 * counted of each block (flood relay)
 */
export function duplicatesPerBlock (receipts: Receipts, blocks: number): number {
  let extra = 0
  for (const receipt of Object.values(receipts)) {
    if (receipt != null) {
      extra += Math.max(0, receipt.copies - 1)
    }
  }
  return blocks === 0 ? Number.NaN : extra / blocks
}

/**
 * Bytes a node sent per block: what it sent during the blocks' phase less
 * what it would have sent anyway (its idle rate, measured just before, over
 * the phase's duration), divided by the blocks; never below 0
 */
export function bytesPerBlock (phase: { sent: number, ms: number }, idle: { sent: number, ms: number }, blocks: number): number {
  const idleRate = idle.ms > 0 ? idle.sent / idle.ms : 0
  return blocks === 0 ? Number.NaN : Math.max(0, phase.sent - idleRate * phase.ms) / blocks
}
