import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { TestNetwork } from '../utils/nodes.js'

const net = new TestNetwork()
after(async () => { await net.cleanup() })

/** the compiled script, next to this test in dist/ */
const TESTNET = fileURLToPath(new URL('../../scripts/testnet.js', import.meta.url))

describe('local testnet', () => {
  it('starts 4 node processes from one bootstrap node, draws their sessions, and stops them', { timeout: 25_000 }, async () => {
    const out = join(await net.dir(), 'topology.svg')
    const { stdout } = await promisify(execFile)(process.execPath, [TESTNET, '--nodes', '4', '--timeout', '12', '--exit', '--out', out], { timeout: 22_000 })
    assert.match(stdout, /bootstrap node 0: \/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//)
    assert.ok(stdout.includes(`topology: ${out}`), stdout)

    const svg = await readFile(out, 'utf8')
    assert.equal(svg.match(/<circle class="node"/g)?.length, 4, 'one circle per node')
    const sessions = svg.match(/<line class="session"/g)?.length ?? 0
    assert.ok(sessions >= 3, `at least 3 sessions drawn, got ${sessions}:\n${stdout}`)
    assert.ok(!/<line class="session"[^>]*dasharray/.test(svg), 'sessions are solid lines')
  })
})
