import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { peerIdFromString } from '@libp2p/peer-id'
import { withoutKeepAlive } from '../../src/node/dht-keep-alive.js'
import type { PeerData, PeerStore, TagOptions } from '@libp2p/interface'

const PEER = peerIdFromString('12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA')

type Write = 'merge' | 'patch' | 'save'

/** The tags each write of the wrapped store passes on, as a record */
function wrappedStore (): { store: PeerStore, written: Array<{ write: Write, tags?: Record<string, TagOptions | undefined> }> } {
  const written: Array<{ write: Write, tags?: Record<string, TagOptions | undefined> }> = []
  const record = (write: Write) => async (_id: unknown, data: PeerData) => {
    written.push({ write, tags: data.tags == null ? undefined : Object.fromEntries(data.tags instanceof Map ? data.tags : Object.entries(data.tags)) })
    return {} as any
  }
  const inner = { merge: record('merge'), patch: record('patch'), save: record('save') } as unknown as PeerStore
  const store = withoutKeepAlive((components: { peerStore: PeerStore }) => components.peerStore)({ peerStore: inner })
  return { store, written }
}

describe('the DHT\'s peer store writes no keep-alive tag', () => {
  it('a merge removes keep-alive tags, a patch or save leaves them out, other tags pass as they are', async () => {
    const close = { value: 50 }
    const table: Array<[Write, PeerData['tags'], Record<string, TagOptions | undefined> | undefined]> = [
      // kad-dht's closest-peer tagging: the rank stays, the keep-alive goes (and one stored by an earlier run with it)
      ['merge', { 'kad-close': close, 'keep-alive-kad-dht': { value: 1 } }, { 'kad-close': close, 'keep-alive-kad-dht': undefined }],
      ['merge', new Map([['keep-alive-kad-dht', { value: 1 }]]), { 'keep-alive-kad-dht': undefined }],
      // its untagging
      ['merge', { 'kad-close': undefined, 'keep-alive-kad-dht': undefined }, { 'kad-close': undefined, 'keep-alive-kad-dht': undefined }],
      ['merge', { 'kad-dht': { value: 1 } }, { 'kad-dht': { value: 1 } }],
      ['merge', undefined, undefined],
      ['patch', { 'kad-close': close, 'keep-alive': { value: 1 } }, { 'kad-close': close }],
      ['save', new Map([['keep-alive-kad-dht', { value: 1 }], ['kad-close', close]]), { 'kad-close': close }]
    ]
    for (const [write, tags, expected] of table) {
      const { store, written } = wrappedStore()
      await store[write](PEER, { tags })
      assert.deepEqual(written, [{ write, tags: expected }], `${write} ${JSON.stringify(tags instanceof Map ? Object.fromEntries(tags) : tags)}`)
    }
  })

  it('the service finds every other component where it was', () => {
    const logger = {}
    const components = { peerStore: {} as PeerStore, logger }
    assert.equal(withoutKeepAlive((c: typeof components) => c.logger)(components), logger)
    assert.notEqual(withoutKeepAlive((c: typeof components) => c.peerStore)(components), components.peerStore)
  })
})
