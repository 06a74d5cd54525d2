import { randomBytes } from 'node:crypto'
import { chmod, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { makeDataDir } from '../node/data-dir.js'
import { API_TOKEN_BYTES, API_TOKEN_FILE } from './constants.js'

/** Where the API token of a node with this data dir lives */
export function apiTokenPath (dataDir: string): string {
  return join(dataDir, API_TOKEN_FILE)
}

/** Reads the API token of a data dir; undefined when there is none yet */
export async function readApiToken (dataDir: string): Promise<string | undefined> {
  try {
    const token = (await readFile(apiTokenPath(dataDir), 'utf8')).trim()
    return token === '' ? undefined : token
  } catch (err: any) {
    if (err.code === 'ENOENT') {
      return undefined
    }
    throw err
  }
}

/**
 * The API token of a data dir: read, or made at first start (32 random bytes
 * in hex, written with mode 0600 so only the node's user reads it)
 */
export async function loadOrCreateApiToken (dataDir: string): Promise<string> {
  const existing = await readApiToken(dataDir)
  if (existing != null) {
    return existing
  }
  // as createPeerNode makes it: a recursive mkdir spins forever where a file system refuses directories (/proc)
  await makeDataDir(dataDir)
  const token = randomBytes(API_TOKEN_BYTES).toString('hex')
  try {
    // 'wx': two nodes starting at once on one data dir must not overwrite each other's token
    await writeFile(apiTokenPath(dataDir), `${token}\n`, { mode: 0o600, flag: 'wx' })
  } catch (err: any) {
    if (err.code === 'EEXIST') {
      return loadOrCreateApiToken(dataDir)
    }
    throw err
  }
  // the umask may have narrowed the mode; make sure it is exactly 0600
  await chmod(apiTokenPath(dataDir), 0o600)
  return token
}
