/**
 * Peer ids and DIDs that may not hold a session until their ban expires.
 * Expired entries are dropped when they are next looked at.
 */
export class BanList {
  private readonly bans = new Map<string, number>()
  private readonly now: () => number

  constructor (now: () => number) {
    this.now = now
  }

  ban (key: string, durationMs: number): void {
    this.bans.set(key, this.now() + durationMs)
  }

  unban (key: string): void {
    this.bans.delete(key)
  }

  /** When the ban of `key` ends, or undefined when it is not banned */
  expiresAt (key: string): number | undefined {
    const expiry = this.bans.get(key)
    if (expiry == null) {
      return undefined
    }
    if (expiry <= this.now()) {
      this.bans.delete(key)
      return undefined
    }
    return expiry
  }

  isBanned (key: string): boolean {
    return this.expiresAt(key) != null
  }
}
