import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readdir, readFile, rename, rm, stat, truncate, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { loadOrCreateSelfKey } from '@libp2p/config'
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { LevelDatastore } from 'datastore-level'
import { Key } from 'interface-datastore'
import { createPeerNode, DamagedDataDirError, loadOrCreateDidSigner } from '../../src/index.js'
import { TestNetwork } from '../utils/nodes.js'
import type { PeerNodeOptions } from '../../src/index.js'

const CHAIN_ID = 'test-chain'
const PEER_KEY = 'peer-key.json'
const DID_KEY = 'did-key.json'
const CHAIN = 'chain.json'
/** where peergate kept them in LevelDB before the files */
const LEGACY_PEER_KEY = '/pkcs8/self'
const LEGACY_DID_KEY = '/peergate/did/private-key'
const LEGACY_CHAIN = '/peergate/chain'

const net = new TestNetwork()
after(async () => { await net.cleanup() })

function options (dataDir: string, chainId = CHAIN_ID): PeerNodeOptions {
  return { dataDir, listen: ['/ip4/127.0.0.1/tcp/0'], chain: { chainId }, dial: { autoDial: false }, discovery: false }
}

/** starts and stops a node on `dataDir`; resolves with who it was */
async function run (dataDir: string, chainId = CHAIN_ID): Promise<{ peerId: string, did: string }> {
  const node = await createPeerNode(options(dataDir, chainId))
  const identity = { peerId: node.peerId.toString(), did: node.did }
  await node.stop()
  return identity
}

/** The files of the data dir's datastore whose names pass `match`, overwritten as `how` says */
async function garble (dataDir: string, match: RegExp, how: 'garbage' | 'zeros' | 'half'): Promise<string[]> {
  const dir = join(dataDir, 'datastore')
  const names = (await readdir(dir)).filter(name => match.test(name))
  assert.ok(names.length > 0, `a datastore file matching ${String(match)} in ${(await readdir(dir)).join(' ')}`)
  for (const name of names) {
    const path = join(dir, name)
    const { size } = await stat(path)
    if (how === 'half') {
      await truncate(path, Math.floor(size / 2))
    } else {
      await writeFile(path, Buffer.alloc(Math.max(size, 64), how === 'zeros' ? 0 : 0xab))
    }
  }
  return names
}

/** LevelDB's lock and its info log, which every attempt to open rewrites */
const NOT_DATA = new Set(['LOCK', 'LOG', 'LOG.old'])

/** a digest of the data files of a LevelDB directory, to tell that nothing was changed */
async function digest (dir: string): Promise<string> {
  const hash = createHash('sha256')
  for (const name of (await readdir(dir)).sort()) {
    const path = join(dir, name)
    if ((await stat(path)).isFile() && !NOT_DATA.has(name)) {
      hash.update(name).update(await readFile(path))
    }
  }
  return hash.digest('hex')
}

async function rejectsDamaged (dataDir: string, message: RegExp, chainId = CHAIN_ID): Promise<void> {
  await assert.rejects(createPeerNode(options(dataDir, chainId)), (err: Error) => {
    assert.equal(err.name, DamagedDataDirError.name, `${err.name}: ${err.message}`)
    assert.match(err.message, message)
    return true
  })
}

test('a first start writes the peer key, the DID key and the chain record to files of their own (keys 0600), and none to LevelDB', async () => {
  const dataDir = await net.dir()
  const node = await createPeerNode(options(dataDir))
  const peerId = node.peerId.toString()
  const did = node.did
  await node.stop()

  assert.deepEqual((await readdir(dataDir)).sort(), [CHAIN, 'datastore', DID_KEY, PEER_KEY], 'no temporary file left')
  const peerKey = JSON.parse(await readFile(join(dataDir, PEER_KEY), 'utf8'))
  assert.equal(peerKey.peerId, peerId)
  assert.match(peerKey.privateKey, /^[A-Za-z0-9+/]+=*$/)
  const didKey = JSON.parse(await readFile(join(dataDir, DID_KEY), 'utf8'))
  assert.equal(didKey.did, did)
  assert.deepEqual(JSON.parse(await readFile(join(dataDir, CHAIN), 'utf8')), { chainId: CHAIN_ID, genesisHash: createHash('sha256').update(`peergate-genesis:${CHAIN_ID}`).digest('hex') })
  assert.equal((await stat(join(dataDir, PEER_KEY))).mode & 0o777, 0o600)
  assert.equal((await stat(join(dataDir, DID_KEY))).mode & 0o777, 0o600)
  assert.equal((await stat(join(dataDir, CHAIN))).mode & 0o777, 0o644)

  const store = new LevelDatastore(join(dataDir, 'datastore'))
  await store.open()
  for (const key of [LEGACY_PEER_KEY, LEGACY_DID_KEY, LEGACY_CHAIN]) {
    assert.equal(await store.has(new Key(key)), false, `${key} is not in LevelDB: one place for each`)
  }
  await store.close()
  assert.deepEqual(await run(dataDir), { peerId, did }, 'the next start reads them')
})

test('a garbled LevelDB log never yields a new identity: the same peer id, DID and chain', async () => {
  for (const how of ['garbage', 'zeros', 'half'] as const) {
    const dataDir = await net.dir()
    const first = await run(dataDir)
    // after one start every record is in the log, none in a table yet
    await garble(dataDir, /\.log$/, how)
    assert.deepEqual(await run(dataDir), first, `${how}: the same identity`)
    // and the chain record is still there: another chain is refused
    await assert.rejects(createPeerNode(options(dataDir, 'devnet-1')), { name: 'InvalidParametersError', message: new RegExp(`belongs to chain "${CHAIN_ID}"`) }, how)
  }
})

// a garbled table (*.ldb) fails later, on the first read inside libp2p's start, after which kad-dht
// leaves timers running in the process: that case is the CLI test's, in a process of its own
test('a datastore LevelDB cannot open (MANIFEST, CURRENT) is refused, named and left as it is; moved aside, the node starts with the same identity', async () => {
  for (const match of [/^MANIFEST-/, /^CURRENT$/]) {
    const dataDir = await net.dir()
    const first = await run(dataDir)
    // a second start turns the first log into a table
    await run(dataDir)
    await garble(dataDir, match, 'garbage')
    const before = await digest(join(dataDir, 'datastore'))
    await rejectsDamaged(dataDir, new RegExp(`^the datastore of data dir ${dataDir} \\(${join(dataDir, 'datastore')}\\) is damaged: Corruption: .*\\. It is left as it is and the node did not start\\. ` +
      `To recover, restore ${join(dataDir, 'datastore')} from a backup, or move it aside and start again: the node keeps its peer id, DID and chain`))
    assert.equal(await digest(join(dataDir, 'datastore')), before, `${String(match)}: nothing in the datastore was changed`)

    await rename(join(dataDir, 'datastore'), join(dataDir, 'datastore.damaged'))
    assert.deepEqual(await run(dataDir), first, `${String(match)}: moved aside, the same identity`)
  }
})

test('a used data dir that lost a key file or its chain record refuses to start, naming what and how to recover, and makes nothing', async () => {
  const dataDir = await net.dir()
  const first = await run(dataDir)
  const cases: Array<[string, RegExp]> = [
    [PEER_KEY, new RegExp(`^data dir ${dataDir} was used before \\(it has a datastore\\) but has lost its peer key \\(${join(dataDir, PEER_KEY)}\\), and its datastore holds no copy\\. ` +
      'The node did not start, so that it does not come up as another node; nothing was changed\\. To recover, restore that file from a backup of the data dir\\. ' +
      `To give the node a new identity instead \\(peers that knew the old one will take it for another node\\), move ${join(dataDir, 'datastore')} aside`)],
    [DID_KEY, new RegExp(`has lost its DID key \\(${join(dataDir, DID_KEY)}\\)`)],
    [CHAIN, new RegExp(`has lost its chain record \\(${join(dataDir, CHAIN)}\\), .* To recover, restore that file from a backup of the data dir\\. ` +
      `If the data dir belongs to the chain this start was given, you may instead write ${join(dataDir, CHAIN)} holding \\{"chainId":"${CHAIN_ID}","genesisHash":"[0-9a-f]{64}"\\}$`)]
  ]
  for (const [file, message] of cases) {
    const path = join(dataDir, file)
    const saved = await readFile(path)
    await rm(path)
    await rejectsDamaged(dataDir, message)
    await assert.rejects(stat(path), { code: 'ENOENT' }, `${file}: not made again`)
    await writeFile(path, saved)
    assert.deepEqual(await run(dataDir), first, `${file} restored: the same identity`)
  }
  // both keys at once are named together
  await rm(join(dataDir, PEER_KEY))
  await rm(join(dataDir, DID_KEY))
  await rejectsDamaged(dataDir, /has lost its peer key \(.*\) and its DID key \(.*\), and its datastore holds no copy\. .* To recover, restore those files from a backup/)
})

test('a damaged key or chain file (a torn write, garbage, another key) is refused and left as it is', async () => {
  const dataDir = await net.dir()
  const first = await run(dataDir)
  const peerKey = await readFile(join(dataDir, PEER_KEY), 'utf8')
  const didKey = await readFile(join(dataDir, DID_KEY), 'utf8')
  const other = await generateKeyPair('Ed25519')
  const otherEncoded = Buffer.from(privateKeyToProtobuf(other)).toString('base64')
  const secp = Buffer.from(privateKeyToProtobuf(await generateKeyPair('secp256k1'))).toString('base64')
  const cases: Array<[string, string, RegExp]> = [
    [PEER_KEY, peerKey.slice(0, 40), /peer key, .*peer-key\.json, is damaged: it holds 40 bytes that are not a JSON object\. It is left as it is and the node did not start, so that it does not come up as another node\. To recover, restore it from a backup of the data dir\.$/],
    [PEER_KEY, '', /peer key, .* is damaged: it holds 0 bytes that are not a JSON object/],
    [PEER_KEY, '\u00ab'.repeat(100), /peer key, .* is damaged: it holds 200 bytes that are not a JSON object/],
    [PEER_KEY, JSON.stringify({ peerId: first.peerId, privateKey: otherEncoded }), new RegExp(`peer key, .* is damaged: it holds a key of peer id ${peerIdFromPrivateKey(other).toString()} under "peerId" "${first.peerId}"`)],
    [PEER_KEY, JSON.stringify({ peerId: first.peerId, privateKey: 'AAAA' }), /peer key, .* is damaged: it holds a "privateKey" that is not a libp2p private key/],
    [DID_KEY, didKey.slice(0, didKey.length - 3), /DID key, .*did-key\.json, is damaged: it holds \d+ bytes that are not a JSON object/],
    [DID_KEY, JSON.stringify({ did: first.did, privateKey: secp }), /DID key, .* is damaged: it holds a secp256k1 key, where an Ed25519 key belongs/],
    [CHAIN, '{"chainId":"test-ch', /chain record, .*chain\.json, is damaged: it holds 19 bytes that are not a JSON object\. It is left as it is and the node did not start, so that it does not come up on another chain/],
    [CHAIN, '{"chainId":"x"}', /chain record, .* is damaged: it holds no "chainId" string and "genesisHash" in hex/]
  ]
  for (const [file, content, message] of cases) {
    const path = join(dataDir, file)
    const saved = await readFile(path)
    await writeFile(path, content)
    await rejectsDamaged(dataDir, message)
    assert.equal(await readFile(path, 'utf8'), content, `${file}: left as it is`)
    await writeFile(path, saved)
  }
  assert.deepEqual(await run(dataDir), first, 'restored: the same identity')
})

/** A data dir as peergate made it before the key files: everything in LevelDB */
async function olderDataDir (): Promise<{ dataDir: string, peerId: string, did: string }> {
  const dataDir = await net.dir()
  const store = new LevelDatastore(join(dataDir, 'datastore'))
  await store.open()
  const privateKey = await loadOrCreateSelfKey(store)
  const signer = await loadOrCreateDidSigner(store)
  const genesisHash = createHash('sha256').update(`peergate-genesis:${CHAIN_ID}`).digest('hex')
  await store.put(new Key(LEGACY_CHAIN), new TextEncoder().encode(JSON.stringify({ chainId: CHAIN_ID, genesisHash })))
  await store.close()
  return { dataDir, peerId: peerIdFromPrivateKey(privateKey).toString(), did: signer.did }
}

test('a data dir of an older peergate (keys and chain in LevelDB) has them copied out to their files at its first start, and kept in LevelDB', async () => {
  const { dataDir, peerId, did } = await olderDataDir()
  assert.deepEqual(await run(dataDir), { peerId, did }, 'the identity it had')
  assert.equal(JSON.parse(await readFile(join(dataDir, PEER_KEY), 'utf8')).peerId, peerId)
  assert.equal(JSON.parse(await readFile(join(dataDir, DID_KEY), 'utf8')).did, did)
  assert.equal(JSON.parse(await readFile(join(dataDir, CHAIN), 'utf8')).chainId, CHAIN_ID)
  assert.equal((await stat(join(dataDir, PEER_KEY))).mode & 0o777, 0o600)

  const store = new LevelDatastore(join(dataDir, 'datastore'))
  await store.open()
  for (const key of [LEGACY_PEER_KEY, LEGACY_DID_KEY, LEGACY_CHAIN]) {
    assert.equal(await store.has(new Key(key)), true, `${key} is left for an older peergate`)
  }
  await store.close()

  // from now on the files are what counts: a garbled log changes nothing
  await garble(dataDir, /\.log$/, 'garbage')
  assert.deepEqual(await run(dataDir), { peerId, did })
})

test('an older data dir whose LevelDB log was garbled before this version ran (its keys were only there) is refused, not given a new identity', async () => {
  const { dataDir } = await olderDataDir()
  await garble(dataDir, /\.log$/, 'garbage')
  await rejectsDamaged(dataDir, /has lost its chain record \(.*\) and its peer key \(.*\) and its DID key \(.*\), and its datastore holds no copy\./)
  assert.deepEqual(await readdir(dataDir), ['datastore'], 'nothing made')
})

test('two first starts at once on one data dir agree on one identity: the one that runs has the keys in the files', async () => {
  const dataDir = await net.dir()
  const results = await Promise.allSettled([createPeerNode(options(dataDir)), createPeerNode(options(dataDir))])
  const started = results.flatMap(result => result.status === 'fulfilled' ? [result.value] : [])
  const failed = results.flatMap(result => result.status === 'rejected' ? [result.reason as Error] : [])
  assert.equal(started.length, 1, failed.map(err => err.message).join('; '))
  assert.equal(failed[0].name, 'DataDirLockedError')
  const running = { peerId: started[0].peerId.toString(), did: started[0].did }
  await started[0].stop()
  assert.equal(JSON.parse(await readFile(join(dataDir, PEER_KEY), 'utf8')).peerId, running.peerId)
  assert.deepEqual(await run(dataDir), running)
})
