import { NO_SESSION } from './candidates.js'
import type { Contact } from './index.js'
import type { StoredContact } from './stored-contact.js'
import type { DialCandidates } from './candidates.js'

/** Slots the columns of a book start with; they double when full */
const INITIAL_COLUMN_SLOTS = 64

/**
 * The numbers a dial tick compares, for every contact of a book, in dense
 * typed arrays (one slot per contact, slots 0 to size - 1), plus the contacts
 * themselves by slot. Removing a contact moves the last slot into its place.
 * It is the book's `DialCandidates` view.
 */
export class ContactColumns implements DialCandidates {
  size = 0
  nextAttempt: Float64Array
  /** NO_SESSION when never (so a session time of exactly -1 ms reads back as none) */
  lastSession: Float64Array
  failures: Uint32Array
  lastSeen: Float64Array
  private readonly contacts: StoredContact[] = []

  constructor (slots = INITIAL_COLUMN_SLOTS) {
    this.nextAttempt = new Float64Array(slots)
    this.lastSession = new Float64Array(slots)
    this.failures = new Uint32Array(slots)
    this.lastSeen = new Float64Array(slots)
  }

  contact (slot: number): Contact {
    return this.contacts[slot]
  }

  forEach (fn: (contact: Contact) => void): void {
    for (let slot = 0; slot < this.size; slot++) {
      fn(this.contacts[slot])
    }
  }

  /** a new slot holding `contact` with these numbers; returns it */
  append (contact: StoredContact, fields: DialFields): number {
    if (this.size === this.nextAttempt.length) {
      this.grow()
    }
    const slot = this.size++
    this.contacts.push(contact)
    this.nextAttempt[slot] = fields.nextAttempt
    this.lastSession[slot] = fields.lastSession ?? NO_SESSION
    this.failures[slot] = fields.failures
    this.lastSeen[slot] = fields.lastSeen
    return slot
  }

  /** frees `slot`: the contact of the last slot moves into it */
  release (slot: number): void {
    const last = --this.size
    const moved = this.contacts[last]
    this.contacts.pop()
    if (slot === last) {
      return
    }
    this.contacts[slot] = moved
    moved.slot = slot
    this.nextAttempt[slot] = this.nextAttempt[last]
    this.lastSession[slot] = this.lastSession[last]
    this.failures[slot] = this.failures[last]
    this.lastSeen[slot] = this.lastSeen[last]
  }

  private grow (): void {
    const slots = this.nextAttempt.length * 2
    this.nextAttempt = filledWith(new Float64Array(slots), this.nextAttempt)
    this.lastSession = filledWith(new Float64Array(slots), this.lastSession)
    this.failures = filledWith(new Uint32Array(slots), this.failures)
    this.lastSeen = filledWith(new Float64Array(slots), this.lastSeen)
  }
}

/** `target` with `source` copied to its start */
function filledWith<T extends Float64Array | Uint32Array> (target: T, source: ArrayLike<number>): T {
  target.set(source)
  return target
}

/** the fields a contact keeps in its book's columns */
export type DialFields = Pick<Contact, 'nextAttempt' | 'lastSession' | 'failures' | 'lastSeen'>
