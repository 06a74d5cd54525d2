import { MAX_MULTIADDRS_PER_CONTACT } from './constants.js'
import type { Multiaddr } from '@multiformats/multiaddr'

/**
 * `known` with `incoming` appended as the newest (an address already known
 * moves to the end), without duplicates, keeping the newest
 * MAX_MULTIADDRS_PER_CONTACT
 */
export function mergeMultiaddrs (known: Multiaddr[], incoming: Multiaddr[]): Multiaddr[] {
  const fresh = new Map<string, Multiaddr>()
  for (const ma of incoming) {
    const text = ma.toString()
    fresh.delete(text)
    fresh.set(text, ma)
  }
  const merged = known.filter(ma => !fresh.has(ma.toString()))
  merged.push(...fresh.values())
  return merged.slice(-MAX_MULTIADDRS_PER_CONTACT)
}

export function sameSet (a: Multiaddr[], b: Multiaddr[]): boolean {
  const texts = new Set(a.map(ma => ma.toString()))
  return texts.size === new Set(b.map(ma => ma.toString())).size && b.every(ma => texts.has(ma.toString()))
}

export function sameSequence (a: Multiaddr[], b: Multiaddr[]): boolean {
  return a.length === b.length && a.every((ma, i) => ma.equals(b[i]))
}
