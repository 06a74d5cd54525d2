import { readFileSync } from 'node:fs'

/** package.json, from dist/src/cli/ (the only place this module runs from) */
const PACKAGE_JSON = new URL('../../../package.json', import.meta.url)

/** The package version, as `peergate --version` prints it */
export function packageVersion (): string {
  return (JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { version: string }).version
}
