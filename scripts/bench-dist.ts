/**
 * Loads peergate from a checkout's build, so that a benchmark compares the
 * code of two checkouts in one run (`--dist /tmp/other/dist`)
 */
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

export type Peergate = typeof import('../src/index.js')

/** This checkout's dist/ */
const OWN_DIST = new URL('..', import.meta.url)

/** The peergate of the `dist/` folder at `dist` (this checkout's by default) */
export async function loadPeergate (dist?: string): Promise<Peergate> {
  const url = dist == null ? new URL('src/index.js', OWN_DIST) : pathToFileURL(resolve(dist, 'src/index.js'))
  return import(url.href)
}
