import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { after, test } from 'node:test'
import { createPeerNode } from '../../src/index.js'

const dirs: string[] = []
after(async () => { await Promise.all(dirs.map(async d => rm(d, { recursive: true, force: true }))) })

test('kill -9 of a node while its book is being written: restarted, it loads every contact written before the kill', async () => {
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

  // the same node again, on the same data dir
  const node = await createPeerNode({ dataDir: dir, listen: ['/ip4/127.0.0.1/tcp/0'], chain: { chainId: 'test-chain' }, dial: { autoDial: false }, discovery: false })
  try {
    const contacts = node.contacts()
    const loaded = new Set(contacts.map(c => c.peerId.toString()))
    const missing = written.filter(id => !loaded.has(id))
    assert.deepEqual(missing, [], 'every acknowledged contact survived')
    // at most the one write in flight beyond what was acknowledged
    assert.ok(contacts.length >= written.length && contacts.length <= written.length + 1, `loaded ${contacts.length} of ${written.length}`)
    for (const contact of contacts.filter(c => written.includes(c.peerId.toString()))) {
      assert.equal(contact.failures, 1, 'the acknowledged update is there too')
      assert.equal(contact.multiaddrs.length, 1)
    }
  } finally {
    await node.stop()
  }
})
