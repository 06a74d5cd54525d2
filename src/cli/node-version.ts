/** The oldest Node.js major peergate runs on (libp2p 3 uses `Promise.withResolvers`); package.json `engines` says the same */
export const MIN_NODE_MAJOR = 22

/**
 * Why this Node.js cannot run peergate, or undefined when it can;
 * `version` is `process.versions.node`
 */
export function unsupportedNode (version: string): string | undefined {
  const major = Number(version.split('.')[0])
  if (Number.isInteger(major) && major >= MIN_NODE_MAJOR) {
    return undefined
  }
  return `peergate needs Node ≥ ${MIN_NODE_MAJOR} (this is ${version})`
}
