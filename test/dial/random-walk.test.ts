import assert from 'node:assert/strict'
import { test } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { defaultLogger } from '@libp2p/logger'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { DIAL_TICK_MS, DIAL_TIMEOUT_MS, MAX_DIALS_PER_TICK } from '../../src/index.js'
import { DISCOVERY_INTERVAL_AT_TARGET_MS, DISCOVERY_INTERVAL_BELOW_TARGET_MS, DISCOVERY_QUERY_TIMEOUT_MS } from '../../src/dial/constants.js'
import { RandomWalk } from '../../src/dial/random-walk.js'
import { readRepoFile } from '../utils/files.js'
import type { AbortOptions, PeerInfo } from '@libp2p/interface'
import type { KadDHT } from '@libp2p/kad-dht'

const log = defaultLogger().forComponent('test:random-walk')

/** A DHT whose lookups yield `peers`, then hang until aborted when `hang` */
function stubDht (peers: PeerInfo[], hang: boolean): KadDHT {
  return {
    async * getClosestPeers (_key: Uint8Array, options: AbortOptions = {}) {
      for (const peer of peers) {
        yield { name: 'PEER_RESPONSE', closer: [peer] }
      }
      if (hang) {
        await new Promise((resolve, reject) => {
          options.signal?.addEventListener('abort', () => { reject(options.signal?.reason) })
        })
      }
    }
  } as unknown as KadDHT
}

function walkOf (dht: KadDHT, queryTimeoutMs?: number): { walk: RandomWalk, met: PeerInfo[], empty: () => number } {
  const met: PeerInfo[] = []
  let empty = 0
  const walk = new RandomWalk(dht, log, {
    queryTimeoutMs,
    onPeer: (peer) => { met.push(peer) },
    onEmpty: () => { empty++ },
    belowTarget: () => true
  })
  return { walk, met, empty: () => empty }
}

test('a walk is given up at its query timeout; the peers it met by then count', async () => {
  const peer = { id: peerIdFromPrivateKey(await generateKeyPair('Ed25519')), multiaddrs: [] }

  const hanging = walkOf(stubDht([], true), 100)
  const started = Date.now()
  await hanging.walk.walk()
  const elapsed = Date.now() - started
  assert.ok(elapsed >= 90 && elapsed < 2_000, `gave up after ${elapsed} ms`)
  assert.equal(hanging.empty(), 1, 'a walk that met nobody asks for a reseed')

  const partial = walkOf(stubDht([peer], true), 100)
  await partial.walk.walk()
  assert.deepEqual(partial.met, [peer], 'a peer met before the timeout is handed on')
  assert.equal(partial.empty(), 0)
})

test('the default query timeout is DISCOVERY_QUERY_TIMEOUT_MS, 10 s', () => {
  assert.equal(DISCOVERY_QUERY_TIMEOUT_MS, 10_000)
  assert.equal(walkOf(stubDht([], false)).walk.queryTimeoutMs, DISCOVERY_QUERY_TIMEOUT_MS)
  assert.equal(walkOf(stubDht([], false), 250).walk.queryTimeoutMs, 250)
})

/** the number after `@default` in the doc comment right above `option` */
function documentedDefault (source: string, option: string): number {
  const match = new RegExp(`@default (\\d+)[^\\n]*\\n\\s*\\*/\\n\\s*${option}\\?:`).exec(source)
  assert.ok(match != null, `a @default for ${option}`)
  return Number(match[1])
}

test('the dial options\' documented defaults quote the constants, and so does the README', async () => {
  const source = await readRepoFile('src/dial/index.ts')
  assert.equal(documentedDefault(source, 'intervalBelowTargetMs'), DISCOVERY_INTERVAL_BELOW_TARGET_MS)
  assert.equal(documentedDefault(source, 'intervalAtTargetMs'), DISCOVERY_INTERVAL_AT_TARGET_MS)
  assert.equal(documentedDefault(source, 'queryTimeoutMs'), DISCOVERY_QUERY_TIMEOUT_MS)
  assert.equal(documentedDefault(source, 'tickMs'), DIAL_TICK_MS)
  assert.equal(documentedDefault(source, 'maxDialsPerTick'), MAX_DIALS_PER_TICK)
  assert.equal(documentedDefault(source, 'dialTimeoutMs'), DIAL_TIMEOUT_MS)

  const readme = await readRepoFile('README.md')
  const row = readme.split('\n').find(line => line.startsWith('| `discovery` |'))
  assert.ok(row != null)
  assert.ok(row.includes(`every ${DISCOVERY_INTERVAL_BELOW_TARGET_MS / 1000} s below the outbound target`), row)
  assert.ok(row.includes(`every ${DISCOVERY_INTERVAL_AT_TARGET_MS / 1000} s at it`), row)
  assert.ok(row.includes(`each lookup given up after ${DISCOVERY_QUERY_TIMEOUT_MS / 1000} s`), row)
  assert.ok(readme.includes(`| \`dial.tickMs\` / \`maxDialsPerTick\` / \`dialTimeoutMs\` | ${DIAL_TICK_MS} / ${MAX_DIALS_PER_TICK} / ${DIAL_TIMEOUT_MS} |`))
})
