import { mkdir, stat } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import type { LevelDatastore } from 'datastore-level'
import { CHAIN_FILE, DATASTORE_DIR, DID_KEY_FILE, PEER_KEY_FILE } from './constants.js'
import { DamagedDataDirError, DataDirError, DataDirLockedError } from './errors.js'

/** errno codes of a write the OS refused for want of rights */
const PERMISSION_CODES = new Set(['EACCES', 'EPERM', 'EROFS'])

/**
 * Creates `dir` and its missing parents, one level at a time. Node's
 * `mkdir(dir, { recursive: true })` spins forever where a file system refuses
 * new directories with ENOENT although the parent exists (`/proc/…`); here
 * every level is tried once, so such a dir fails at once.
 */
export async function makeDataDir (dir: string): Promise<void> {
  const missing: string[] = []
  let current = resolve(dir)
  for (;;) {
    try {
      if (!(await stat(current)).isDirectory()) {
        throw new DataDirError(`cannot create ${dir}: ${current} is not a directory`)
      }
      break
    } catch (err: any) {
      if (err.code !== 'ENOENT') {
        throw dataDirError(err, dir)
      }
      missing.push(current)
      const parent = dirname(current)
      if (parent === current) {
        break
      }
      current = parent
    }
  }
  for (const level of missing.reverse()) {
    try {
      await mkdir(level)
    } catch (err: any) {
      if (err.code !== 'EEXIST') {
        throw dataDirError(err, dir)
      }
    }
  }
}

/**
 * Opens the LevelDB datastore at `location` (inside the data dir `dir`),
 * telling a lock held by another process from a permission problem
 * (datastore-level's own OpenFailedError drops LevelDB's reason)
 */
export async function openLevelDatastore (location: string, dir: string): Promise<LevelDatastore> {
  // loaded here, not with the module: the CLI's client commands use makeDataDir without LevelDB
  const { LevelDatastore } = await import('datastore-level')
  const datastore = new LevelDatastore(location)
  try {
    // the options LevelDatastore.open() passes; its own open() then finds the database open
    await datastore.db.open({ createIfMissing: true, compression: false })
  } catch (err: any) {
    const cause = err.cause ?? err
    if (cause.code === 'LEVEL_LOCKED') {
      throw new DataDirLockedError(`${dir} is in use by another process (another peergate?): ${cause.message}`)
    }
    if (isCorruption(err)) {
      throw damagedDatastore(dir, err)
    }
    if (PERMISSION_CODES.has(cause.code) || /permission denied/i.test(cause.message ?? '')) {
      throw new DataDirError(`cannot write ${dir}: permission denied (${cause.message})`)
    }
    throw new DataDirError(`cannot open the datastore in ${dir}: ${cause.message ?? String(cause)}`)
  }
  await datastore.open()
  return datastore
}

function dataDirError (err: any, dir: string): DataDirError {
  if (PERMISSION_CODES.has(err.code)) {
    return new DataDirError(`cannot write ${dir}: permission denied`)
  }
  if (err instanceof DataDirError) {
    return err
  }
  return new DataDirError(`cannot create ${dir}: ${err.message ?? String(err)}`)
}

/**
 * The error for a datastore LevelDB cannot read: named, left as it is, and
 * how to recover without losing the identity kept in the files
 */
export function damagedDatastore (dataDir: string, err: any): DamagedDataDirError {
  const location = join(dataDir, DATASTORE_DIR)
  return new DamagedDataDirError(`the datastore of data dir ${dataDir} (${location}) is damaged: ${describeCause(err)}. It is left as it is and the node did not start. ` +
    `To recover, restore ${location} from a backup, or move it aside and start again: the node keeps its peer id, DID and chain, which are in their own files beside it ` +
    `(${PEER_KEY_FILE}, ${DID_KEY_FILE}, ${CHAIN_FILE}), and starts with an empty address book (no contacts, backoffs or bans). ` +
    'Where those files are missing (a data dir of a peergate older than them), the keys are in the datastore: restore it from a backup.')
}

/** LevelDB's reason (or any error's), without the wrappers datastore-level and abstract-level put around it */
export function describeCause (err: any): string {
  let cause = err
  while (cause?.cause != null && cause.code !== 'LEVEL_CORRUPTION') {
    cause = cause.cause
  }
  return String(cause?.message ?? cause)
}

/** Whether `err` (or what it wraps) is LevelDB telling of a damaged database */
export function isCorruption (err: any): boolean {
  for (let cause = err, depth = 0; cause != null && depth < 5; cause = cause.cause, depth++) {
    if (cause.code === 'LEVEL_CORRUPTION' || /^Corruption: /.test(String(cause.message ?? ''))) {
      return true
    }
  }
  return false
}
