import type { BuildInfo } from '../node/index.js'

/**
 * `peergate --version`: the version alone on the first line (what a script
 * reads), then the commit it was built from (when built from a git
 * checkout), libp2p's version and Node's
 */
export function formatVersion (info: BuildInfo): string {
  return [
    info.version,
    ...(info.commit == null ? [] : [`commit: ${info.commit}`]),
    `libp2p: ${info.libp2p}`,
    `node: ${info.node}`
  ].join('\n')
}
