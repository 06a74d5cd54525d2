/**
 * @packageDocumentation
 *
 * What a chain says about itself in a handshake, and when two chain versions
 * can talk: plain types and a pure rule that the handshake, the session
 * registry and the node share.
 */

/**
 * What the local node says about its chain in every hello
 */
export interface ChainIdentity {
  /** A short chain name, e.g. `devnet-1` */
  chainId: string
  /** Hash of the chain's genesis block */
  genesisHash: Uint8Array
  /** Version of the chain software, semver (`1.4.0`) */
  version: string
}

/** The current head of the local chain, sent in the hello */
export interface ChainHead {
  height: bigint
  hash: Uint8Array
}

/**
 * Decides whether a remote chain version can talk to the local one. The
 * default, {@link isCompatibleVersion}, follows semver's caret rule.
 */
export interface VersionCompatibility {
  (local: string, remote: string): boolean
}

interface SemVer {
  major: number
  minor: number
}

function parseSemVer (version: string): SemVer | undefined {
  const match = /^v?(\d{1,9})\.(\d{1,9})\.(\d{1,9})(?:[-+].*)?$/.exec(version)
  if (match == null) {
    return undefined
  }
  return { major: Number(match[1]), minor: Number(match[2]) }
}

/**
 * Semver caret compatibility: same major version, and for 0.x the same minor
 * version; the patch and any `-pre`/`+build` suffix are not compared, and a
 * leading `v` is allowed. A version that is not semver is compatible with
 * nothing. docs/PROTOCOL.md §8.2 states the rule exactly.
 */
export function isCompatibleVersion (local: string, remote: string): boolean {
  const a = parseSemVer(local)
  const b = parseSemVer(remote)
  if (a == null || b == null || a.major !== b.major) {
    return false
  }
  return a.major !== 0 || a.minor === b.minor
}
