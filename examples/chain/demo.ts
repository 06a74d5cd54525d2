/**
 * The example chain at work (`npm run example:chain`): a producer and four
 * nodes, each its own process on 127.0.0.1, ~40 blocks, then a late node.
 * Prints the block propagation time (p50/max over 40 blocks, from the
 * producer's `block` line to each node's) and the late node's catch-up time.
 *
 * npm run example:chain [-- --block-ms MS]
 */

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { DEFAULT_BLOCK_MS } from './chain-node.js'
import { ChainProcess, percentile, propagationDelays } from './processes.js'

const FOLLOWERS = 4
const MEASURED_BLOCKS = 40
const START_TIMEOUT_MS = 15_000

async function main (): Promise<void> {
  const { values } = parseArgs({ options: { 'block-ms': { type: 'string', default: String(DEFAULT_BLOCK_MS) } } })
  const blockMs = Number(values['block-ms'])
  const root = await mkdtemp(join(tmpdir(), 'peergate-example-chain-'))
  const processes: ChainProcess[] = []
  const start = (name: string, args: string[]): ChainProcess => {
    // every node dials from 127.0.0.1: outside the limit of inbound sessions per IP
    const proc = new ChainProcess(name, join(root, name), ['--block-ms', String(blockMs), '--ip-limit-exempt', '127.0.0.0/8', ...args])
    processes.push(proc)
    return proc
  }
  const ready = async (proc: ChainProcess): Promise<void> => {
    const event = await proc.waitFor('ready', () => true, START_TIMEOUT_MS, 'ready line')
    console.info(`${proc.name.padEnd(9)} ${event.did} ${event.addrs[0]}`)
  }

  try {
    const producer = start('producer', ['--produce'])
    await ready(producer)
    const bootstrap = ['--bootstrap', producer.ready.addrs[0]]
    const followers = Array.from({ length: FOLLOWERS }, (_, i) => start(`node-${i + 1}`, bootstrap))
    await Promise.all(followers.map(ready))
    await Promise.all(followers.map(async node => await node.waitFor('session-open', () => true, START_TIMEOUT_MS, 'session')))

    const first = producer.height + 1
    const heights = Array.from({ length: MEASURED_BLOCKS }, (_, i) => first + i)
    console.info(`measuring blocks ${first}-${heights.at(-1)} (one every ${blockMs} ms)…`)
    await Promise.all([producer, ...followers].map(async node => await node.waitForHeight(heights.at(-1)!, MEASURED_BLOCKS * blockMs + START_TIMEOUT_MS)))
    const delays = propagationDelays(producer, followers, heights)
    console.info(`block propagation, ${MEASURED_BLOCKS} blocks to ${FOLLOWERS} nodes: p50 ${percentile(delays, 50)} ms, max ${Math.max(...delays)} ms`)

    const late = start('late', bootstrap)
    await ready(late)
    const behind = producer.height
    const caughtUp = await late.waitForHeight(behind, START_TIMEOUT_MS)
    console.info(`late node: ${behind} blocks behind at start, caught up in ${caughtUp.t - late.ready.t} ms (from its ready line to block ${behind})`)
  } finally {
    await Promise.all(processes.map(async proc => await proc.stop()))
    await rm(root, { recursive: true, force: true })
  }
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
