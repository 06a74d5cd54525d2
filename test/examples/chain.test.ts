/**
 * The example chain end to end, every node its own process
 * (dist/examples/chain/node.js) with its own LevelDB data dir on 127.0.0.1:
 * a producer and four nodes converge, a late node catches up by sync, a
 * fork node and a node of another chain never get a session, and a node
 * restarted on its data dir rejoins with its DID and its blocks.
 */

import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { ChainProcess, percentile, propagationDelays } from '../../examples/chain/processes.js'

const BLOCK_MS = 200
/** blocks over which propagation is measured */
const MEASURED_BLOCKS = 40
/** a node's start (a process, libp2p, LevelDB) on two busy cores */
const START_TIMEOUT_MS = 10_000
const SESSION_TIMEOUT_MS = 10_000
/** the measured blocks take MEASURED_BLOCKS × BLOCK_MS, plus slack */
const BLOCKS_TIMEOUT_MS = MEASURED_BLOCKS * BLOCK_MS + 10_000

let root: string
const processes: ChainProcess[] = []
let producer: ChainProcess
let followers: ChainProcess[]
let late: ChainProcess
let fork: ChainProcess
let other: ChainProcess
let restarted: ChainProcess
let heightBeforeRestart: number

function start (name: string, args: string[], dataDir = join(root, name)): ChainProcess {
  // every node dials from 127.0.0.1: outside the limit of inbound sessions per IP
  const proc = new ChainProcess(name, dataDir, ['--listen', '/ip4/127.0.0.1/tcp/0', '--block-ms', String(BLOCK_MS), '--ip-limit-exempt', '127.0.0.0/8', ...args])
  processes.push(proc)
  return proc
}

function bootstrap (): string[] {
  return ['--bootstrap', producer.ready.addrs[0]]
}

async function ready (proc: ChainProcess): Promise<void> {
  await proc.waitFor('ready', () => true, START_TIMEOUT_MS, 'ready line')
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'peergate-example-chain-'))
})

after(async () => {
  for (const proc of processes) {
    proc.kill()
  }
  await Promise.all(processes.map(async proc => await proc.exited))
  await rm(root, { recursive: true, force: true })
})

test('a producer and four nodes in their own processes converge on the producer\'s blocks', async () => {
  producer = start('producer', ['--produce'])
  await ready(producer)
  followers = [1, 2, 3, 4].map(i => start(`node-${i}`, bootstrap()))
  await Promise.all(followers.map(ready))
  await Promise.all(followers.map(async node => await node.waitFor('session-open', () => true, SESSION_TIMEOUT_MS, 'session')))

  const first = producer.height + 1
  const last = first + MEASURED_BLOCKS - 1
  await Promise.all([producer, ...followers].map(async node => await node.waitForHeight(last, BLOCKS_TIMEOUT_MS)))

  const heights = Array.from({ length: MEASURED_BLOCKS }, (_, i) => first + i)
  const delays = propagationDelays(producer, followers, heights)
  console.info(`propagation over ${MEASURED_BLOCKS} blocks to ${followers.length} nodes: p50 ${percentile(delays, 50)} ms, max ${Math.max(...delays)} ms`)
  assert.ok(delays.every(d => d >= 0), 'no node has a block before the producer made it')
  // gossip on loopback: a block arrives well within one block interval
  assert.ok(percentile(delays, 50) < BLOCK_MS, `p50 ${percentile(delays, 50)} ms`)
  assert.ok(followers.every(node => node.all('block').some(b => b.source === 'gossip')), 'every node gets blocks by gossip')
})

test('a late node catches up by sync', async () => {
  late = start('late', bootstrap())
  await ready(late)
  assert.equal(late.ready.head.height, 0)
  const target = producer.height
  const caughtUp = await late.waitForHeight(target, SESSION_TIMEOUT_MS)
  const synced = await late.waitFor('synced', () => true, SESSION_TIMEOUT_MS, 'synced line')
  console.info(`late node: ${target} blocks behind, caught up ${caughtUp.t - late.ready.t} ms after its ready line (${synced.blocks} blocks in its first sync, ${synced.ms} ms)`)
  assert.ok(late.all('block').filter(b => b.height <= target).every(b => b.source === 'sync' || b.source === 'gossip'))
  assert.ok(synced.blocks > MEASURED_BLOCKS / 2, `the first sync brought ${synced.blocks} blocks`)
})

test('a fork node and a node of another chain are refused before any session, for the documented reasons', async () => {
  fork = start('fork', [...bootstrap(), '--fork-seed', 'other block 1'])
  other = start('other-chain', [...bootstrap(), '--chain-id', 'another-chain'])
  await Promise.all([ready(fork), ready(other)])
  assert.equal(fork.ready.head.height, 1)
  assert.equal(fork.ready.chainId, producer.ready.chainId)

  // on the fork's side: the honest node refused it, with app code 1
  const refused = await fork.waitFor('reject', r => r.reason === 'APPLICATION_REJECTED', SESSION_TIMEOUT_MS, 'APPLICATION_REJECTED')
  assert.equal(refused.side, 'remote')
  assert.equal(refused.appCode, 1)
  assert.match(refused.message, /fork at height 1/)
  // and the honest side says it decided
  const decided = await producer.waitFor('reject', r => r.did === fork.ready.did, SESSION_TIMEOUT_MS, 'reject of the fork')
  assert.deepEqual([decided.reason, decided.side, decided.appCode, decided.message], ['APPLICATION_REJECTED', 'local', 1, 'fork at height 1'])

  const wrongChain = await other.waitFor('reject', () => true, SESSION_TIMEOUT_MS, 'reject')
  assert.deepEqual([wrongChain.reason, wrongChain.side], ['WRONG_CHAIN', 'remote'])
  await producer.waitFor('reject', r => r.reason === 'WRONG_CHAIN' && r.side === 'local', SESSION_TIMEOUT_MS, 'WRONG_CHAIN from the other chain')
})

test('a node restarted on its data dir rejoins with the same DID and keeps its blocks', async () => {
  const node = followers[1]
  assert.equal(await node.stop(), 0)
  // what it accepted until it stopped (a block may land while it stops)
  heightBeforeRestart = node.height
  assert.equal(node.events.at(-1)?.event, 'stopped')

  restarted = start('node-2-restarted', bootstrap(), node.dataDir)
  await ready(restarted)
  assert.equal(restarted.ready.did, node.ready.did)
  assert.equal(restarted.ready.peerId, node.ready.peerId)
  assert.equal(restarted.ready.head.height, heightBeforeRestart)
  const lastBefore = node.all('block').find(b => b.height === heightBeforeRestart)
  assert.equal(restarted.ready.head.hash, lastBefore?.hash)

  await restarted.waitFor('session-open', () => true, SESSION_TIMEOUT_MS, 'session')
  await restarted.waitForHeight(producer.height, SESSION_TIMEOUT_MS)
  assert.ok(restarted.all('block').every(b => b.height > heightBeforeRestart), 'no block it kept is fetched again')
})

test('every honest node holds the producer\'s chain; the fork and the other chain never had a session or a block', async () => {
  const honest = [producer, followers[0], followers[2], followers[3], late, restarted]
  const target = producer.height
  await Promise.all(honest.map(async node => await node.waitForHeight(target, SESSION_TIMEOUT_MS)))

  const produced = new Map(producer.all('block').map(b => [b.height, b.hash]))
  for (const node of honest) {
    for (const block of node.all('block')) {
      assert.equal(block.hash, produced.get(block.height), `${node.name}'s block ${block.height} is the producer's`)
    }
    const heights = new Set(node.all('block').map(b => b.height))
    assert.equal(heights.size, node.all('block').length, `${node.name} accepted no block twice`)
  }
  // the restarted node's history: its blocks before the restart, and after it
  const chain2 = new Set([...followers[1].all('block'), ...restarted.all('block')].map(b => b.height))
  for (let height = 1; height <= target; height++) {
    assert.ok(chain2.has(height), `node-2 has block ${height}`)
  }

  const outsiders = [fork, other]
  for (const outsider of outsiders) {
    assert.deepEqual(outsider.all('session-open'), [], `${outsider.name} had no session`)
    assert.deepEqual(outsider.all('block').filter(b => b.source !== 'fork-seed'), [], `${outsider.name} received no block`)
    for (const node of [...honest, followers[1]]) {
      assert.ok(!node.all('session-open').some(s => s.did === outsider.ready.did), `${node.name} had no session with ${outsider.name}`)
    }
  }
  // DUPLICATE is not a refusal: when the fork and an honest node dial each
  // other at once, one of the two crossing handshakes gives way to the other,
  // which goes on (and is refused with app code 1)
  const otherRefusals = fork.all('reject').filter(r => r.reason !== 'DUPLICATE' && !(r.side === 'remote' && r.reason === 'APPLICATION_REJECTED' && r.appCode === 1))
  assert.deepEqual(otherRefusals, [], 'every refusal the fork saw came from an honest node, with app code 1')
})
