/*
 * One view of a node under metrics, the status API and the CLI: they read
 * it and nothing else (never libp2p's services), and `nodeView` makes one of
 * any libp2p node carrying peergate's services.
 */
import assert from 'node:assert/strict'
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { createLibp2p } from 'libp2p'
import { nodeView, sessions } from '../../src/index.js'
import { repoRoot } from '../utils/files.js'
import type { NodeViewServices } from '../../src/index.js'
import type { Libp2p } from '@libp2p/interface'


test('no source outside src/node/ reads libp2p.services, doc comments included', async () => {
  const src = join(repoRoot(), 'src')
  const files = (await readdir(src, { recursive: true })).filter(name => name.endsWith('.ts') && !name.startsWith('node/'))
  assert.ok(files.length > 50, 'the sources were found')
  const reading: string[] = []
  for (const name of files) {
    if ((await readFile(join(src, name), 'utf8')).includes('libp2p.services')) {
      reading.push(name)
    }
  }
  assert.deepEqual(reading, [])
})

test('nodeView refuses a libp2p node without peergate\'s services, naming the missing ones', async () => {
  const cases: Array<{ services: Record<string, any>, missing: string }> = [
    { services: {}, missing: 'sessions, handshake, addressBook, dial' },
    { services: { sessions: sessions() }, missing: 'handshake, addressBook, dial' }
  ]
  for (const { services, missing } of cases) {
    const libp2p = await createLibp2p({ start: false, services })
    try {
      assert.throws(() => nodeView(libp2p as unknown as Libp2p<NodeViewServices>), (err: any) => {
        assert.equal(err.name, 'InvalidParametersError')
        assert.ok(err.message.endsWith(`this libp2p node has no ${missing}`), err.message)
        return true
      })
    } finally {
      await libp2p.stop()
    }
  }
})
