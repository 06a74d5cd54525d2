/**
 * What makes a node itself, each in its own file of the data dir, apart from
 * the LevelDB datastore: the libp2p peer key, the DID key and the chain
 * record. One torn or garbled LevelDB log must not give the node a new peer
 * id, a new DID or another chain (go-ethereum keeps `nodekey`, Lodestar
 * `peer-id.json`, each its own file, for the same reason).
 */
import { randomBytes } from 'node:crypto'
import { link, lstat, open, readFile, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { loadOrCreateSelfKey } from '@libp2p/config'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { Key } from 'interface-datastore'
import { fromString as uint8ArrayFromString } from 'uint8arrays/from-string'
import { toString as uint8ArrayToString } from 'uint8arrays/to-string'
import { DID_KEY_DATASTORE_KEY } from '../did/constants.js'
import { KeyDidSigner } from '../did/identity.js'
import { CHAIN_FILE, CHAIN_RECORD_KEY, DATASTORE_DIR, DID_KEY_FILE, KEY_FILE_MODE, LEGACY_PEER_KEY_DATASTORE_KEY, PEER_KEY_FILE, RECORD_FILE_MODE } from './constants.js'
import { damagedDatastore, describeCause, isCorruption } from './data-dir.js'
import { DamagedDataDirError, DataDirError } from './errors.js'
import type { ChainIdentity } from '../chain/index.js'
import type { PrivateKey } from '@libp2p/interface'
import type { Datastore } from 'interface-datastore'

/** The chain a data dir belongs to, as `chain.json` holds it */
export interface ChainRecord {
  chainId: string
  /** lower-case hex */
  genesisHash: string
}

/** What the data dir's files hold, and its opened datastore */
export interface DataDirIdentity {
  chain: ChainRecord
  /** undefined when the caller gave the peer key */
  privateKey?: PrivateKey
  /** undefined when the caller gave the DID signer */
  signer?: KeyDidSigner
  datastore: Datastore
}

/** What `loadDataDirIdentity` needs besides the data dir */
export interface LoadDataDirIdentityOptions {
  /** the chain this start was given: recorded on a first start */
  chain: ChainIdentity
  /** the peer key given by the caller: no peer key file then */
  privateKey?: PrivateKey
  /** true when the caller gives the DID signer: no DID key file then */
  ownSigner?: boolean
  /**
   * Opens the data dir's datastore (and takes its lock); on a first start it
   * is called after the files are written, so that a datastore never exists
   * without them
   */
  openDatastore(): Promise<Datastore>
}

/**
 * A data dir was used before when its datastore exists: a first start writes
 * the key and chain files before it creates the datastore
 */
export async function dataDirUsed (dataDir: string): Promise<boolean> {
  try {
    await lstat(join(dataDir, DATASTORE_DIR))
    return true
  } catch (err: any) {
    if (err.code === 'ENOENT') {
      return false
    }
    throw new DataDirError(`cannot read ${dataDir}: ${err.message as string}`)
  }
}

/**
 * The node's peer key, DID key and chain record from their files in
 * `dataDir`, created on a first start, copied out of the datastore where an
 * older peergate kept them, and otherwise refused: a data dir that was used
 * before and has lost one of them, or holds a damaged one, fails with a
 * DamagedDataDirError naming what and how to recover, and nothing is
 * replaced. Resolves with the opened datastore too (the caller closes it
 * when this fails after opening it).
 */
export async function loadDataDirIdentity (dataDir: string, options: LoadDataDirIdentityOptions): Promise<DataDirIdentity> {
  const files = {
    chain: join(dataDir, CHAIN_FILE),
    peerKey: join(dataDir, PEER_KEY_FILE),
    didKey: join(dataDir, DID_KEY_FILE)
  }
  const wantPeerKey = options.privateKey == null
  const wantDidKey = options.ownSigner !== true

  if (!(await dataDirUsed(dataDir))) {
    // a first start (or one a crash interrupted before the datastore was made): what is there is kept, what is not is made
    const chain = await readChainFile(files.chain) ?? await createFile(files.chain, chainRecord(options.chain), RECORD_FILE_MODE, text => parseChainRecord(text, files.chain))
    const privateKey = wantPeerKey ? await readPeerKeyFile(files.peerKey) ?? await createFile(files.peerKey, peerKeyFile(await generateKeyPair('Ed25519')), KEY_FILE_MODE, text => parsePeerKey(text, files.peerKey)) : undefined
    const signer = wantDidKey ? await readDidKeyFile(files.didKey) ?? await createFile(files.didKey, didKeyFile(new KeyDidSigner(await generateKeyPair('Ed25519'))), KEY_FILE_MODE, text => parseDidKey(text, files.didKey)) : undefined
    const datastore = await options.openDatastore()
    return { chain, privateKey, signer, datastore }
  }

  // read before the datastore opens: a damaged file is named whatever state the datastore is in
  const chain = await readChainFile(files.chain)
  const privateKey = wantPeerKey ? await readPeerKeyFile(files.peerKey) : undefined
  const signer = wantDidKey ? await readDidKeyFile(files.didKey) : undefined
  const datastore = await options.openDatastore()
  return { ...await copyOutOfDatastore(dataDir, datastore, files, options, { chain, privateKey, signer }), datastore }
}

/**
 * What is missing from the files of a used data dir, copied out of its
 * datastore where an older peergate kept it (and left there, for that older
 * peergate); refused when the datastore has no copy either
 */
async function copyOutOfDatastore (dataDir: string, datastore: Datastore, files: { chain: string, peerKey: string, didKey: string }, options: LoadDataDirIdentityOptions, found: Omit<DataDirIdentity, 'chain' | 'datastore'> & { chain?: ChainRecord }): Promise<Omit<DataDirIdentity, 'datastore'>> {
  let { chain, privateKey, signer } = found
  const wantPeerKey = options.privateKey == null
  const wantDidKey = options.ownSigner !== true
  const missing: string[] = []
  if (chain == null) {
    const legacy = await readLegacy(datastore, CHAIN_RECORD_KEY, dataDir)
    chain = legacy == null ? undefined : await createFile(files.chain, legacyChainRecord(legacy, dataDir), RECORD_FILE_MODE, text => parseChainRecord(text, files.chain))
    if (chain == null) {
      missing.push(`its chain record (${files.chain})`)
    }
  }
  if (wantPeerKey && privateKey == null) {
    const legacy = await readLegacy(datastore, LEGACY_PEER_KEY_DATASTORE_KEY, dataDir)
    if (legacy != null) {
      privateKey = await createFile(files.peerKey, peerKeyFile(await legacyPeerKey(datastore, dataDir)), KEY_FILE_MODE, text => parsePeerKey(text, files.peerKey))
    } else {
      missing.push(`its peer key (${files.peerKey})`)
    }
  }
  if (wantDidKey && signer == null) {
    const legacy = await readLegacy(datastore, DID_KEY_DATASTORE_KEY, dataDir)
    if (legacy != null) {
      const text = didKeyFile(legacyDidSigner(legacy, dataDir))
      signer = await createFile(files.didKey, text, KEY_FILE_MODE, text => parseDidKey(text, files.didKey))
    } else {
      missing.push(`its DID key (${files.didKey})`)
    }
  }
  if (chain == null || missing.length > 0) {
    throw new DamagedDataDirError(missingMessage(dataDir, missing, options.chain, chain == null))
  }
  return { chain, privateKey, signer }
}

/** The peer key an older peergate kept in libp2p's keychain (encrypted): libp2p's own loader reads it */
async function legacyPeerKey (datastore: Datastore, dataDir: string): Promise<PrivateKey> {
  try {
    return await loadOrCreateSelfKey(datastore)
  } catch (err) {
    if (isCorruption(err)) {
      throw damagedDatastore(dataDir, err)
    }
    throw damagedFile(`record ${LEGACY_PEER_KEY_DATASTORE_KEY} in ${join(dataDir, DATASTORE_DIR)}`, 'peer key', `a key libp2p's keychain cannot read (${describeCause(err)})`)
  }
}

function missingMessage (dataDir: string, missing: string[], given: ChainIdentity, chainMissing: boolean): string {
  const keysMissing = missing.length - (chainMissing ? 1 : 0)
  const lines = [
    `data dir ${dataDir} was used before (it has a datastore) but has lost ${missing.join(' and ')}, and its datastore holds no copy. ` +
    'The node did not start, so that it does not come up as another node; nothing was changed.',
    `To recover, restore ${missing.length === 1 ? 'that file' : 'those files'} from a backup of the data dir.`
  ]
  if (keysMissing > 0) {
    lines.push(`To give the node a new identity instead (peers that knew the old one will take it for another node), move ${join(dataDir, DATASTORE_DIR)} aside: ` +
      'its contacts, backoffs and bans go with it, and the next start makes what is missing.')
  }
  if (chainMissing) {
    // last: the record ends the message, to be copied as it is
    lines.push(`If the data dir belongs to the chain this start was given, you may instead write ${join(dataDir, CHAIN_FILE)} holding ${chainRecord(given).trim()}`)
  }
  return lines.join(' ')
}

/** The file's text, or undefined when there is no such file; refuses an unreadable one */
async function readEntry (path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (err: any) {
    if (err.code === 'ENOENT') {
      return undefined
    }
    throw new DataDirError(`cannot read ${path}: ${err.message as string}`)
  }
}

async function readChainFile (path: string): Promise<ChainRecord | undefined> {
  const text = await readEntry(path)
  return text == null ? undefined : parseChainRecord(text, path)
}

async function readPeerKeyFile (path: string): Promise<PrivateKey | undefined> {
  const text = await readEntry(path)
  return text == null ? undefined : parsePeerKey(text, path)
}

async function readDidKeyFile (path: string): Promise<KeyDidSigner | undefined> {
  const text = await readEntry(path)
  return text == null ? undefined : parseDidKey(text, path)
}

/** A datastore record of an older peergate, or undefined; a datastore too damaged to say is refused */
async function readLegacy (datastore: Datastore, key: string, dataDir: string): Promise<Uint8Array | undefined> {
  try {
    const datastoreKey = new Key(key)
    return (await datastore.has(datastoreKey)) ? await datastore.get(datastoreKey) : undefined
  } catch (err) {
    throw damagedDatastore(dataDir, err)
  }
}

function chainRecord (chain: ChainIdentity): string {
  return JSON.stringify({ chainId: chain.chainId, genesisHash: uint8ArrayToString(chain.genesisHash, 'base16') }) + '\n'
}

function peerKeyFile (privateKey: PrivateKey): string {
  return JSON.stringify({ peerId: peerIdFromPrivateKey(privateKey).toString(), privateKey: uint8ArrayToString(privateKeyToProtobuf(privateKey), 'base64pad') }, null, 2) + '\n'
}

function didKeyFile (signer: KeyDidSigner): string {
  return JSON.stringify({ did: signer.did, privateKey: uint8ArrayToString(privateKeyToProtobuf(signer.privateKey), 'base64pad') }, null, 2) + '\n'
}

/** A file's JSON object, or a DamagedDataDirError naming the file */
function parseObject (text: string, path: string, what: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    value = undefined
  }
  if (value == null || typeof value !== 'object' || Array.isArray(value)) {
    throw damagedFile(path, what, `${Buffer.byteLength(text)} bytes that are not a JSON object`)
  }
  return value as Record<string, unknown>
}

function parseChainRecord (text: string, path: string): ChainRecord {
  const record = parseObject(text, path, 'chain record')
  if (typeof record.chainId !== 'string' || typeof record.genesisHash !== 'string' || !/^([0-9a-f]{2})+$/.test(record.genesisHash)) {
    throw damagedFile(path, 'chain record', 'no "chainId" string and "genesisHash" in hex')
  }
  return { chainId: record.chainId, genesisHash: record.genesisHash }
}

function parsePrivateKey (record: Record<string, unknown>, path: string, what: string): PrivateKey {
  if (typeof record.privateKey !== 'string') {
    throw damagedFile(path, what, 'no "privateKey"')
  }
  try {
    return privateKeyFromProtobuf(uint8ArrayFromString(record.privateKey, 'base64pad'))
  } catch (err: any) {
    throw damagedFile(path, what, `a "privateKey" that is not a libp2p private key (${err?.message ?? err})`)
  }
}

function parsePeerKey (text: string, path: string): PrivateKey {
  const record = parseObject(text, path, 'peer key')
  const privateKey = parsePrivateKey(record, path, 'peer key')
  const peerId = peerIdFromPrivateKey(privateKey).toString()
  if (record.peerId !== peerId) {
    throw damagedFile(path, 'peer key', `a key of peer id ${peerId} under "peerId" ${JSON.stringify(record.peerId)}`)
  }
  return privateKey
}

function parseDidKey (text: string, path: string): KeyDidSigner {
  const record = parseObject(text, path, 'DID key')
  const privateKey = parsePrivateKey(record, path, 'DID key')
  if (privateKey.type !== 'Ed25519') {
    throw damagedFile(path, 'DID key', `a ${privateKey.type} key, where an Ed25519 key belongs`)
  }
  const signer = new KeyDidSigner(privateKey)
  if (record.did !== signer.did) {
    throw damagedFile(path, 'DID key', `a key of ${signer.did} under "did" ${JSON.stringify(record.did)}`)
  }
  return signer
}

function legacyChainRecord (bytes: Uint8Array, dataDir: string): string {
  // checked as the file would be: a damaged record is named where it is
  const record = parseChainRecord(uint8ArrayToString(bytes), `record ${CHAIN_RECORD_KEY} in ${join(dataDir, DATASTORE_DIR)}`)
  return JSON.stringify(record) + '\n'
}

function legacyDidSigner (bytes: Uint8Array, dataDir: string): KeyDidSigner {
  const where = `record ${DID_KEY_DATASTORE_KEY} in ${join(dataDir, DATASTORE_DIR)}`
  let privateKey: PrivateKey
  try {
    privateKey = privateKeyFromProtobuf(bytes)
  } catch (err: any) {
    throw damagedFile(where, 'DID key', `${bytes.byteLength} bytes that are not a libp2p private key (${err?.message ?? err})`)
  }
  if (privateKey.type !== 'Ed25519') {
    throw damagedFile(where, 'DID key', `a ${privateKey.type} key, where an Ed25519 key belongs`)
  }
  return new KeyDidSigner(privateKey)
}

function damagedFile (path: string, what: string, found: string): DamagedDataDirError {
  return new DamagedDataDirError(`the node's ${what}, ${path}, is damaged: it holds ${found}. It is left as it is and the node did not start, ` +
    `so that it does not come up ${what === 'chain record' ? 'on another chain' : 'as another node'}. To recover, restore it from a backup of the data dir.`)
}

/**
 * Writes a new file atomically and never over an existing one: the text goes
 * to a temporary file in the same directory, which is flushed to disk and
 * then linked to `path` (a link, unlike a rename, fails when `path` exists,
 * so of two first starts at once the second takes the first's file), then
 * the directory is flushed so that the new entry survives a crash. Resolves
 * with what `path` holds afterwards, parsed.
 */
async function createFile<T> (path: string, text: string, mode: number, parse: (text: string) => T): Promise<T> {
  const dir = dirname(path)
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  try {
    const handle = await open(temp, 'wx', mode)
    try {
      await handle.writeFile(text)
      // the umask may have narrowed the mode; make it exactly this one
      await handle.chmod(mode)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await linkOrRename(temp, path)
  } catch (err: any) {
    throw err instanceof DamagedDataDirError ? err : new DataDirError(`cannot write ${path}: ${err.message as string}`)
  } finally {
    await rm(temp, { force: true })
  }
  await syncDir(dir)
  const written = await readEntry(path)
  return parse(written ?? '')
}

/** `link`, where the file system has hard links; else a rename unless `path` is there */
async function linkOrRename (temp: string, path: string): Promise<void> {
  try {
    await link(temp, path)
  } catch (err: any) {
    if (err.code === 'EEXIST') {
      return
    }
    if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS'].includes(err.code)) {
      throw err
    }
    // a file system without hard links (FAT, some network ones)
    if ((await lstat(path).catch(() => undefined)) == null) {
      await rename(temp, path)
    }
  }
}

/** Flushes a directory's entries to disk; a platform that cannot open directories (Windows) has nothing to flush here */
async function syncDir (dir: string): Promise<void> {
  let handle
  try {
    handle = await open(dir, 'r')
  } catch (err: any) {
    if (['EISDIR', 'EPERM', 'EACCES'].includes(err.code)) {
      return
    }
    throw err
  }
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}
