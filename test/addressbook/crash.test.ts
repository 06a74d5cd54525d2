import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { after, test } from 'node:test'
import { defaultLogger } from '@libp2p/logger'
import { LevelDatastore } from 'datastore-level'
import { PersistentAddressBook } from '../../src/index.js'

const dirs: string[] = []
after(async () => { await Promise.all(dirs.map(async d => rm(d, { recursive: true, force: true }))) })

test('kill -9 while the book is being written: it loads, with every contact written before the kill', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'peergate-crash-'))
  dirs.push(dir)
  const writer = spawn(process.execPath, [fileURLToPath(new URL('../utils/book-writer.js', import.meta.url)), dir], {
    stdio: ['ignore', 'pipe', 'inherit']
  })
  const written: string[] = []
  const exited = new Promise<NodeJS.Signals | null>(resolve => writer.once('exit', (_code, signal) => { resolve(signal) }))
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`only ${written.length} writes in 20 s`)) }, 20_000)
    createInterface({ input: writer.stdout }).on('line', (line) => {
      written.push(line)
      if (written.length === 300) {
        clearTimeout(timer)
        // mid-stream: the writer is busy with its next add or update
        writer.kill('SIGKILL')
        resolve()
      }
    })
  })
  assert.equal(await exited, 'SIGKILL')

  const datastore = new LevelDatastore(dir)
  await datastore.open()
  try {
    const book = new PersistentAddressBook({ datastore, logger: defaultLogger() })
    await book.load()
    const loaded = new Set(book.list().map(c => c.peerId.toString()))
    const missing = written.filter(id => !loaded.has(id))
    assert.deepEqual(missing, [], 'every acknowledged contact survived')
    // at most the one write in flight beyond what was acknowledged
    assert.ok(book.size >= written.length && book.size <= written.length + 1, `loaded ${book.size} of ${written.length}`)
    for (const contact of book.list().filter(c => written.includes(c.peerId.toString()))) {
      assert.equal(contact.failures, 1, 'the acknowledged update is there too')
      assert.equal(contact.multiaddrs.length, 1)
    }
  } finally {
    await datastore.close()
  }
})
