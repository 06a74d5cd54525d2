/**
 * @packageDocumentation
 *
 * What a chain says about itself in a handshake, and when two chain versions
 * can talk: plain types and a pure rule that the handshake, the session
 * registry and the node share.
 */

export { HEAD_SPEC } from './head-spec.js'

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

/**
 * The code points that end a line, which a version's suffix may not hold
 * (docs/PROTOCOL.md §8.2): Unicode's mandatory line breaks (UAX #14 classes
 * BK, CR, LF and NL), LF, VT, FF, CR, NEL, LINE SEPARATOR and PARAGRAPH
 * SEPARATOR. In UTF-8: 0a, 0b, 0c, 0d, c2 85, e2 80 a8, e2 80 a9. Every other
 * character, other control characters included, is allowed.
 */
export const VERSION_LINE_BREAKS: readonly number[] = [0x0a, 0x0b, 0x0c, 0x0d, 0x85, 0x2028, 0x2029]

const LINE_BREAK_CLASS = VERSION_LINE_BREAKS.map(cp => `\\u${cp.toString(16).padStart(4, '0')}`).join('')

/**
 * A version, in full: an optional lowercase `v`, MAJOR.MINOR.PATCH of 1 to 9
 * ASCII digits each, then optionally a suffix that starts with `-` or `+` and
 * holds no line break. (`.` alone would not do: it refuses LF, CR, U+2028 and
 * U+2029 but lets VT, FF and NEL through.)
 */
const SEMVER = new RegExp(`^v?([0-9]{1,9})\\.([0-9]{1,9})\\.([0-9]{1,9})(?:[-+][^${LINE_BREAK_CLASS}]*)?$`)

function parseSemVer (version: string): SemVer | undefined {
  const match = SEMVER.exec(version)
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
