import { randomBytes } from 'node:crypto'
import { readFile, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { API_URL_FILE } from './constants.js'

/** Where a running node with this data dir writes its API's URL */
export function apiUrlPath (dataDir: string): string {
  return join(dataDir, API_URL_FILE)
}

/**
 * The URL a client on this machine reaches a server at: an unspecified host
 * (0.0.0.0, ::) becomes the loopback address of its family
 */
export function clientUrl (url: string): string {
  const parsed = new URL(url)
  if (parsed.hostname === '0.0.0.0') {
    parsed.hostname = '127.0.0.1'
  } else if (parsed.hostname === '[::]') {
    parsed.hostname = '[::1]'
  }
  return parsed.origin
}

/**
 * Writes the API's URL (as clients reach it) into the data dir, atomically: a
 * client reads the old file or the new one, never half of one (a temporary
 * file renamed over it, as Kubo's `$IPFS_PATH/api`)
 */
export async function writeApiUrl (dataDir: string, url: string): Promise<void> {
  const path = apiUrlPath(dataDir)
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`
  try {
    await writeFile(temporary, `${clientUrl(url)}\n`, { mode: 0o644 })
    await rename(temporary, path)
  } catch (err) {
    await rm(temporary, { force: true })
    throw err
  }
}

/** The API URL a node wrote into its data dir; undefined when there is none */
export async function readApiUrl (dataDir: string): Promise<string | undefined> {
  try {
    const url = (await readFile(apiUrlPath(dataDir), 'utf8')).trim()
    return url === '' ? undefined : url
  } catch (err: any) {
    if (err.code === 'ENOENT') {
      return undefined
    }
    throw err
  }
}

/** Removes the API URL file: the node stops cleanly, or runs without an API */
export async function removeApiUrl (dataDir: string): Promise<void> {
  await rm(apiUrlPath(dataDir), { force: true })
}
