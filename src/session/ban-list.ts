import { Key } from 'interface-datastore'
import { BAN_KEY_PREFIX, MAX_BAN_RECORD_BYTES } from './constants.js'
import type { AbortOptions, Logger } from '@libp2p/interface'
import type { Datastore } from 'interface-datastore'

/**
 * Peer ids and DIDs that may not hold a session until their ban expires,
 * kept in the node's datastore so that a ban outlives a restart. Expired
 * entries are dropped when they are next looked at, and from the datastore
 * at the next load.
 */
export class BanList {
  private readonly bans = new Map<string, number>()
  private readonly now: () => number
  private readonly datastore?: Datastore
  private readonly log?: Logger

  constructor (now: () => number, datastore?: Datastore, log?: Logger) {
    this.now = now
    this.datastore = datastore
    this.log = log
  }

  /** reads the stored bans; unreadable or expired records are deleted */
  async load (options?: AbortOptions): Promise<void> {
    if (this.datastore == null) {
      return
    }
    const stale: Key[] = []
    for await (const { key, value } of this.datastore.query({ prefix: `${BAN_KEY_PREFIX}/` }, options)) {
      const expiry = decodeExpiry(value)
      const target = decodeTarget(key)
      if (expiry == null || target == null) {
        this.log?.error('dropping unreadable ban record %s', key.toString())
        stale.push(key)
      } else if (expiry <= this.now()) {
        stale.push(key)
      } else {
        this.bans.set(target, expiry)
      }
    }
    for (const key of stale) {
      await this.datastore.delete(key, options)
    }
  }

  async ban (target: string, durationMs: number, options?: AbortOptions): Promise<void> {
    const expiry = this.now() + durationMs
    this.bans.set(target, expiry)
    await this.datastore?.put(banKey(target), new TextEncoder().encode(JSON.stringify({ expiresAt: expiry })), options)
  }

  async unban (target: string, options?: AbortOptions): Promise<void> {
    this.bans.delete(target)
    await this.datastore?.delete(banKey(target), options)
  }

  /** When the ban of `target` ends, or undefined when it is not banned */
  expiresAt (target: string): number | undefined {
    const expiry = this.bans.get(target)
    if (expiry == null) {
      return undefined
    }
    if (expiry <= this.now()) {
      this.bans.delete(target)
      return undefined
    }
    return expiry
  }

  isBanned (target: string): boolean {
    return this.expiresAt(target) != null
  }
}

/** a DID may hold any character, so the key carries the target in base64url */
function banKey (target: string): Key {
  return new Key(`${BAN_KEY_PREFIX}/${Buffer.from(target).toString('base64url')}`)
}

function decodeTarget (key: Key): string | undefined {
  const encoded = key.toString().slice(BAN_KEY_PREFIX.length + 1)
  return /^[A-Za-z0-9_-]+$/.test(encoded) ? Buffer.from(encoded, 'base64url').toString() : undefined
}

function decodeExpiry (value: Uint8Array): number | undefined {
  if (value.byteLength > MAX_BAN_RECORD_BYTES) {
    return undefined
  }
  try {
    const expiresAt = JSON.parse(new TextDecoder().decode(value)).expiresAt
    return Number.isFinite(expiresAt) ? expiresAt : undefined
  } catch {
    return undefined
  }
}
