/*
 * The status exchange lives in src/status/, beside the sessions it serves:
 * the handshake starts it (handshake → status → session), it never reaches
 * back into the handshake, and src/handshake/ holds the handshake only.
 */
import assert from 'node:assert/strict'
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { repoRoot } from '../utils/files.js'


/** The TypeScript sources of `folder` (its pb/ included), with their text */
async function sources (folder: string): Promise<Array<[string, string]>> {
  const dir = join(repoRoot(), folder)
  const entries = await readdir(dir, { recursive: true })
  const files = entries.filter(name => name.endsWith('.ts')).sort()
  return Promise.all(files.map(async (name): Promise<[string, string]> => [name, await readFile(join(dir, name), 'utf8')]))
}

test('src/status/ imports nothing of src/handshake/', async () => {
  const files = await sources('src/status')
  assert.ok(files.some(([name]) => name === 'status-exchange.ts'), 'the exchange is in src/status/')
  const reaching = files.filter(([, text]) => /from '\.\.\/(\.\.\/)?handshake\//.test(text)).map(([name]) => name)
  assert.deepEqual(reaching, [])
})

test('src/handshake/ holds the handshake only: no status exchange, no STATUS_ constants, no Status message', async () => {
  const files = await sources('src/handshake')
  assert.deepEqual(files.filter(([name]) => /status/i.test(name)).map(([name]) => name), [])
  const defining = files.filter(([, text]) => /export const STATUS_|export (interface|namespace) Status\b|class StatusExchange/.test(text)).map(([name]) => name)
  assert.deepEqual(defining, [])
})
