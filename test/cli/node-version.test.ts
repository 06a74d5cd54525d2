import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'
import { unsupportedNode } from '../../src/cli/node-version.js'

const BIN = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url))

test('unsupportedNode: Node 22 and later run peergate, older ones get the reason', () => {
  const table: Array<[string, string | undefined]> = [
    ['22.0.0', undefined],
    ['24.21.0', undefined],
    ['20.20.2', 'peergate needs Node ≥ 22 (this is 20.20.2)'],
    ['18.0.0', 'peergate needs Node ≥ 22 (this is 18.0.0)']
  ]
  for (const [version, expected] of table) {
    assert.equal(unsupportedNode(version), expected, version)
  }
})

/** A `node` on the PATH older than 22 (outside node_modules, where npm puts Node 24), if the machine has one */
function oldNode (): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'node')
    if (dir.includes('node_modules') || !existsSync(candidate)) {
      continue
    }
    const version = execFileSync(candidate, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim()
    if (Number(version.split('.')[0]) < 22) {
      return candidate
    }
  }
  return undefined
}

test('the bin under an older Node says which Node it needs and exits 1', (t) => {
  const node = oldNode()
  if (node == null) {
    t.skip('no Node older than 22 on the PATH')
    return
  }
  const result = spawnSync(node, [BIN, 'start', '--data-dir', '/nonexistent'], { encoding: 'utf8', timeout: 10_000 })
  assert.equal(result.status, 1)
  assert.match(result.stderr, /^peergate: peergate needs Node ≥ 22 \(this is \d+\.\d+\.\d+\)\n$/)
  assert.equal(result.stdout, '')
})
