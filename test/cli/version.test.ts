import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, test } from 'node:test'
import { formatVersion } from '../../src/cli/version.js'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const SCRIPT = join(ROOT, 'scripts', 'build-info.mjs')
const dirs: string[] = []
after(async () => { await Promise.all(dirs.map(async dir => rm(dir, { recursive: true, force: true }))) })

/** `node scripts/build-info.mjs <out>` run in `cwd`; its exit code and the file it wrote */
async function buildInfoIn (cwd: string): Promise<{ code: number, stderr: string, info: any }> {
  const out = await mkdtemp(join(tmpdir(), 'peergate-build-info-'))
  dirs.push(out)
  // git must not find a checkout above a directory outside the repository
  const env = { ...process.env, GIT_CEILING_DIRECTORIES: tmpdir() }
  const { code, stderr } = await new Promise<{ code: number, stderr: string }>(resolve => {
    execFile(process.execPath, [SCRIPT, out], { cwd, env }, (err, _stdout, stderr) => {
      resolve({ code: err == null ? 0 : Number(err.code), stderr })
    })
  })
  return { code, stderr, info: code === 0 ? JSON.parse(await readFile(join(out, 'build-info.json'), 'utf8')) : undefined }
}

test('formatVersion: the version alone first, then commit (when known), libp2p and node', () => {
  const table = [
    { info: { version: '0.1.0', commit: 'a'.repeat(40), libp2p: '3.3.11', node: '24.1.0' }, text: `0.1.0\ncommit: ${'a'.repeat(40)}\nlibp2p: 3.3.11\nnode: 24.1.0` },
    { info: { version: '0.1.0', libp2p: '3.3.11', node: '24.1.0' }, text: '0.1.0\nlibp2p: 3.3.11\nnode: 24.1.0' }
  ]
  for (const { info, text } of table) {
    assert.equal(formatVersion(info), text)
  }
})

test('the build records the commit in a git checkout, and nothing (without failing) outside one', async () => {
  const inside = await buildInfoIn(ROOT)
  assert.equal(inside.code, 0, inside.stderr)
  assert.match(inside.info.commit, /^[0-9a-f]{40}(-dirty)?$/)

  const outside = await mkdtemp(join(tmpdir(), 'peergate-no-git-'))
  dirs.push(outside)
  const built = await buildInfoIn(outside)
  assert.equal(built.code, 0, built.stderr)
  assert.deepEqual(built.info, {})
})
