import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { loadOrCreateSelfKey } from '@libp2p/config'
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { MemoryDatastore } from 'datastore-core'
import { LevelDatastore } from 'datastore-level'
import { Key } from 'interface-datastore'
import { createPeerNode, DamagedDataDirError, DamagedDidKeyError, loadOrCreateDidSigner } from '../../src/index.js'
import { TestNetwork } from '../utils/nodes.js'

const DID_KEY = '/peergate/did/private-key'
const net = new TestNetwork()
after(async () => { await net.cleanup() })

function assertDamaged (err: Error, location: string | undefined): true {
  assert.equal(err.name, DamagedDidKeyError.name, `${err.name}: ${err.message}`)
  assert.ok(err.message.includes(`record ${DID_KEY}`), 'names the record')
  if (location != null) {
    assert.ok(err.message.includes(location), 'names where the datastore is')
  }
  assert.match(err.message, /did not start, so that it does not come up under a new DID/)
  assert.match(err.message, /restore the record \(or the whole data dir\) from a backup/)
  assert.match(err.message, /To give the node a new DID instead/)
  return true
}

test('a DID key record that is not an Ed25519 key is refused, named, and left as it is', async () => {
  const ed25519 = privateKeyToProtobuf(await generateKeyPair('Ed25519'))
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['three bytes of garbage (the RangeError of the issue)', Uint8Array.of(1, 2, 3), /3 bytes that are not a libp2p private key \(index out of range/],
    ['an empty record', new Uint8Array(0), /0 bytes that are not a libp2p private key/],
    ['an Ed25519 key cut short', ed25519.subarray(0, 20), /20 bytes that are not a libp2p private key/],
    ['random bytes', Uint8Array.from({ length: 100 }, (_, i) => (i * 37 + 11) & 0xff), /100 bytes that are not a libp2p private key/],
    ['a secp256k1 key', privateKeyToProtobuf(await generateKeyPair('secp256k1')), /a secp256k1 key, where an Ed25519 key belongs/]
  ]
  for (const [name, record, found] of cases) {
    const datastore = new MemoryDatastore()
    await datastore.put(new Key(DID_KEY), record)
    await assert.rejects(loadOrCreateDidSigner(datastore, { location: '/somewhere/datastore' }), (err: Error) => {
      assertDamaged(err, '/somewhere/datastore')
      assert.match(err.message, found, name)
      return true
    }, name)
    assert.deepEqual(Uint8Array.from(await datastore.get(new Key(DID_KEY))), Uint8Array.from(record), `${name}: the record is untouched`)
  }
})

test('a data dir of an older peergate whose DID key record is damaged does not start, and starts again once the record is restored', async () => {
  // as peergate kept the keys before they had files of their own: in LevelDB
  const dataDir = await net.dir()
  const location = join(dataDir, 'datastore')
  let store = new LevelDatastore(location)
  await store.open()
  await loadOrCreateSelfKey(store)
  await store.put(new Key('/peergate/chain'), new TextEncoder().encode(JSON.stringify({ chainId: 'test-chain', genesisHash: createHash('sha256').update('peergate-genesis:test-chain').digest('hex') })))
  const signer = await loadOrCreateDidSigner(store)
  const original = await store.get(new Key(DID_KEY))
  const garbage = Uint8Array.of(1, 2, 3)
  await store.put(new Key(DID_KEY), garbage)
  await store.close()

  await assert.rejects(
    createPeerNode({ dataDir, listen: ['/ip4/127.0.0.1/tcp/0'], chain: { chainId: 'test-chain' }, dial: { autoDial: false }, discovery: false }),
    (err: Error) => {
      assert.equal(err.name, DamagedDataDirError.name, `${err.name}: ${err.message}`)
      assert.match(err.message, new RegExp(`^the node's DID key, record ${DID_KEY} in ${location}, is damaged: it holds 3 bytes that are not a libp2p private key .* It is left as it is and the node did not start, so that it does not come up as another node`))
      return true
    }
  )
  await assert.rejects(readFile(join(dataDir, 'did-key.json')), { code: 'ENOENT' }, 'no DID key file made in its place')

  // the datastore was closed and the record left as it was: no new DID in its place
  store = new LevelDatastore(location)
  await store.open()
  assert.deepEqual(Uint8Array.from(await store.get(new Key(DID_KEY))), garbage)
  await store.put(new Key(DID_KEY), original)
  await store.close()

  const again = await net.node({ dataDir })
  assert.equal(again.did, signer.did, 'the restored record is the same DID')
})
