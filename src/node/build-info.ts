import { readFileSync } from 'node:fs'
import { version as libp2pVersion } from 'libp2p/version'

/** package.json, from dist/src/node/ (the only place this module runs from) */
const PACKAGE_JSON = new URL('../../../package.json', import.meta.url)

/** What `npm run build` wrote beside dist/src (scripts/build-info.mjs): the git commit, when built from a checkout */
const BUILD_INFO_JSON = new URL('../../build-info.json', import.meta.url)

/** What this peergate is: `peergate --version` prints it, the `peergate_build_info` metric labels it */
export interface BuildInfo {
  /** peergate's version, package.json's */
  version: string
  /** the git commit it was built from (`-dirty` when tracked files differed); undefined when not built from a git checkout */
  commit?: string
  /** the libp2p it runs on */
  libp2p: string
  /** the Node.js it runs on, `process.versions.node` */
  node: string
}

/** The package version, as package.json says it */
function packageVersion (): string {
  return (JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { version: string }).version
}

/** The commit the build recorded; undefined without a record or when it is unreadable (a build by hand, an old dist) */
function builtCommit (): string | undefined {
  try {
    const { commit } = JSON.parse(readFileSync(BUILD_INFO_JSON, 'utf8')) as { commit?: unknown }
    return typeof commit === 'string' && commit !== '' ? commit : undefined
  } catch {
    return undefined
  }
}

/** This build's version, commit, libp2p and Node.js */
export function buildInfo (): BuildInfo {
  return { version: packageVersion(), commit: builtCommit(), libp2p: libp2pVersion, node: process.versions.node }
}
