import { Key } from 'interface-datastore'
import { BAN_KEY_PREFIX, MAX_BAN_RECORD_BYTES } from './constants.js'
import { isStorageWriteError } from '../storage/index.js'
import type { AbortOptions, Logger } from '@libp2p/interface'
import type { Datastore } from 'interface-datastore'

interface Ban {
  expiresAt: number
  /** the ban this one was extended from (a DID's ban covers the peer ids seen with it, and back) */
  via?: string
}

/** Told of every ban made or extended, and of every ban lifted (not of bans that expire) */
export interface BanListener {
  banned(target: string, expiresAt: number): void
  lifted(targets: string[]): void
}

/**
 * Peer ids and DIDs that may not hold a session until their ban expires,
 * kept in the node's datastore so that a ban outlives a restart. Expired
 * entries are dropped when they are next looked at, and from the datastore
 * at the next load.
 *
 * A ban or unban takes effect in memory first. When its write fails the
 * target is kept unsaved and written (as memory then holds it) after the
 * list's next successful write, or by `saveUnsaved` (when the datastore's
 * writes recover, and at stop). A write the datastore refused
 * (`StorageWriteError`, reported by the monitored datastore) does not fail
 * the call; any other failure rejects it.
 */
export class BanList {
  private readonly bans = new Map<string, Ban>()
  private readonly now: () => number
  private readonly datastore?: Datastore
  private readonly log?: Logger

  private readonly changed?: BanListener
  /** targets whose last write failed: memory holds what the datastore lacks */
  private readonly unsaved = new Set<string>()
  /** the write of the unsaved targets in flight */
  private retry?: Promise<void>

  constructor (now: () => number, datastore?: Datastore, log?: Logger, changed?: BanListener) {
    this.now = now
    this.datastore = datastore
    this.log = log
    this.changed = changed
  }

  /** reads the stored bans; unreadable or expired records are deleted */
  async load (options?: AbortOptions): Promise<void> {
    if (this.datastore == null) {
      return
    }
    const stale: Key[] = []
    for await (const { key, value } of this.datastore.query({ prefix: `${BAN_KEY_PREFIX}/` }, options)) {
      const ban = decodeBan(value)
      const target = decodeTarget(key)
      if (ban == null || target == null) {
        this.log?.error('dropping unreadable ban record %s', key.toString())
        stale.push(key)
      } else if (ban.expiresAt <= this.now()) {
        stale.push(key)
      } else {
        this.bans.set(target, ban)
      }
    }
    for (const key of stale) {
      await this.datastore.delete(key, options)
    }
  }

  async ban (target: string, durationMs: number, options?: AbortOptions): Promise<void> {
    await this.put(target, { expiresAt: this.now() + durationMs }, options)
  }

  /**
   * Extends the ban of `via` to `target` until `via`'s ban ends; unbanning
   * `via` lifts it too. A longer ban `target` already has is kept.
   */
  async extend (target: string, via: string, options?: AbortOptions): Promise<void> {
    const expiresAt = this.expiresAt(via)
    if (expiresAt == null || target === via || (this.expiresAt(target) ?? 0) >= expiresAt) {
      return
    }
    await this.put(target, { expiresAt, via }, options)
  }

  /** Lifts the ban of `target` and every ban extended from it */
  async unban (target: string, options?: AbortOptions): Promise<void> {
    const lifted = [target, ...[...this.bans].filter(([, ban]) => ban.via === target).map(([key]) => key)]
    const known = lifted.filter(key => this.bans.delete(key))
    if (known.length > 0) {
      this.changed?.lifted(known)
    }
    for (const key of lifted) {
      await this.write(key, options)
    }
  }

  /** Writes the targets whose last write failed, as memory holds them now (one pass at a time) */
  async saveUnsaved (options?: AbortOptions): Promise<void> {
    this.retry ??= (async () => {
      for (const target of [...this.unsaved]) {
        await this.write(target, options)
      }
    })().finally(() => { this.retry = undefined })
    await this.retry
  }

  /** When the ban of `target` ends, or undefined when it is not banned */
  expiresAt (target: string): number | undefined {
    const ban = this.bans.get(target)
    if (ban == null) {
      return undefined
    }
    if (ban.expiresAt <= this.now()) {
      this.bans.delete(target)
      return undefined
    }
    return ban.expiresAt
  }

  /** Every ban in force: target → when it ends */
  list (): Map<string, number> {
    const active = new Map<string, number>()
    for (const target of [...this.bans.keys()]) {
      const expiresAt = this.expiresAt(target)
      if (expiresAt != null) {
        active.set(target, expiresAt)
      }
    }
    return active
  }

  private async put (target: string, ban: Ban, options?: AbortOptions): Promise<void> {
    this.bans.set(target, ban)
    this.changed?.banned(target, ban.expiresAt)
    await this.write(target, options)
  }

  /** stores the ban of `target` as memory holds it: put, or deleted when there is none */
  private async write (target: string, options?: AbortOptions): Promise<void> {
    if (this.datastore == null) {
      return
    }
    const ban = this.bans.get(target)
    try {
      if (ban == null) {
        await this.datastore.delete(banKey(target), options)
      } else {
        await this.datastore.put(banKey(target), new TextEncoder().encode(JSON.stringify(ban)), options)
      }
    } catch (err) {
      this.unsaved.add(target)
      if (!isStorageWriteError(err)) {
        throw err
      }
      // the monitored datastore reported it; memory keeps the ban in force
      this.log?.trace('the ban of %s kept unsaved - %e', target, err)
      return
    }
    this.unsaved.delete(target)
    if (this.unsaved.size > 0 && this.retry == null) {
      // writes work again: what could not be written is written now
      this.saveUnsaved().catch(err => { this.log?.error('could not write the bans kept unsaved - %e', err) })
    }
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

function decodeBan (value: Uint8Array): Ban | undefined {
  if (value.byteLength > MAX_BAN_RECORD_BYTES) {
    return undefined
  }
  try {
    const { expiresAt, via } = JSON.parse(new TextDecoder().decode(value))
    if (!Number.isFinite(expiresAt) || (via != null && typeof via !== 'string')) {
      return undefined
    }
    return via == null ? { expiresAt } : { expiresAt, via }
  } catch {
    return undefined
  }
}
