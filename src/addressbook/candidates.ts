import type { Contact } from './index.js'

/** `DialCandidates.lastSession` of a contact that never had a session */
export const NO_SESSION = -1

/**
 * The contacts a dial tick chooses from, as columns: entry `i` of each column
 * belongs to `contact(i)`, for `i` below `size` (a column may be longer). The
 * selection compares numbers in these dense arrays instead of visiting one
 * object per contact scattered over the heap, which keeps a pass over 100,000
 * contacts under a millisecond once optimised; it reads `contact(i)` only for
 * the few contenders.
 *
 * The address book hands out a live view of its own columns
 * (`AddressBook.candidates()`): read it synchronously, and never write to it.
 * `dialCandidates` builds one from a plain array.
 */
export interface DialCandidates {
  readonly size: number
  /** no dial before this time, ms since the epoch */
  readonly nextAttempt: Float64Array
  /** when the last session opened, ms since the epoch; NO_SESSION when never */
  readonly lastSession: Float64Array
  /** consecutive failed dials or handshakes */
  readonly failures: Uint32Array
  /** ms since the epoch */
  readonly lastSeen: Float64Array
  /** the contact of entry `i` */
  contact(i: number): Contact
}

/**
 * Columns of a plain array of contacts, in its order (for tests, and callers
 * without a book). `failures` must be whole numbers below 2^32, as the
 * address book keeps them.
 */
export function dialCandidates (contacts: readonly Contact[]): DialCandidates {
  const size = contacts.length
  const nextAttempt = new Float64Array(size)
  const lastSession = new Float64Array(size)
  const failures = new Uint32Array(size)
  const lastSeen = new Float64Array(size)
  contacts.forEach((contact, i) => {
    nextAttempt[i] = contact.nextAttempt
    lastSession[i] = contact.lastSession ?? NO_SESSION
    failures[i] = contact.failures
    lastSeen[i] = contact.lastSeen
  })
  return { size, nextAttempt, lastSession, failures, lastSeen, contact: (i) => contacts[i] }
}
