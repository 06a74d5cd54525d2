import assert from 'node:assert/strict'
import { test } from 'node:test'
import { backoff, banBackoff, cleanCloseBackoffMs, failureBackoffMs, resolveBackoff, sessionEndOutcome } from '../../src/addressbook/backoff.js'
import { LocalReason, REASON_CODES, ReasonCode } from '../../src/reason/index.js'
import type { BackoffState } from '../../src/addressbook/backoff.js'
import type { BackoffInit } from '../../src/addressbook/index.js'
import type { Outcome } from '../../src/reason/index.js'

const defaults = resolveBackoff()

test('backoff: defaults', () => {
  assert.deepEqual(defaults, {
    initialMs: 1000,
    maxMs: 3_600_000,
    jitter: 0.2,
    cleanCloseMinMs: 1000,
    cleanCloseMaxMs: 5000,
    longMs: 86_400_000
  })
})

test('backoff: failure wait doubles from 1 s and stops at 1 h (random 0: full wait)', () => {
  const table: Array<[failures: number, waitMs: number]> = [
    [0, 0],
    [1, 1000],
    [2, 2000],
    [3, 4000],
    [4, 8000],
    [10, 512_000],
    [12, 2_048_000],
    [13, 3_600_000],
    [20, 3_600_000],
    [1000, 3_600_000],
    [1024, 3_600_000],
    [1025, 3_600_000],
    [0xFFFF_FFFF, 3_600_000],
    [Number.MAX_SAFE_INTEGER, 3_600_000],
    [Number.POSITIVE_INFINITY, 3_600_000]
  ]
  for (const [failures, waitMs] of table) {
    assert.equal(failureBackoffMs(failures, defaults, 0), waitMs, `failures ${failures}`)
  }
})

test('backoff: no failure, or a nonsense count, waits nothing', () => {
  for (const failures of [0, -1, Number.NaN, 0.5]) {
    assert.equal(failureBackoffMs(failures, defaults, 0.5), 0, `failures ${failures}`)
  }
})

test('backoff: jitter shortens the wait by up to 20 %', () => {
  const table: Array<[failures: number, random: number, waitMs: number]> = [
    [1, 0, 1000],
    [1, 0.5, 900],
    [3, 0.25, 3800],
    [13, 0.5, 3_240_000],
    [1_000_000, 0.5, 3_240_000]
  ]
  for (const [failures, random, waitMs] of table) {
    assert.equal(failureBackoffMs(failures, defaults, random), waitMs, `failures ${failures}, random ${random}`)
  }
  const nearlyOne = 1 - Number.EPSILON
  for (const [failures, fullMs] of [[1, 1000], [5, 16_000], [64, 3_600_000]]) {
    const waitMs = failureBackoffMs(failures, defaults, nearlyOne)
    assert.ok(waitMs > fullMs * 0.8 - 1e-6 && waitMs < fullMs * 0.8 + 1e-6, `failures ${failures}: ${waitMs}`)
  }
})

test('backoff: the wait stays in [0.8 × wait, wait] and finite for any draw and count', () => {
  for (const failures of [1, 2, 7, 13, 52, 53, 1023, 1024, 1e9, 1e300]) {
    const full = failureBackoffMs(failures, defaults, 0)
    for (const random of [0, 0.1, 0.5, 0.999, 1, -1, 2, Number.NaN]) {
      const waitMs = failureBackoffMs(failures, defaults, random)
      assert.ok(Number.isFinite(waitMs), `failures ${failures}, random ${random}: ${waitMs}`)
      assert.ok(waitMs <= full && waitMs >= full * 0.8, `failures ${failures}, random ${random}: ${waitMs}`)
    }
  }
})

test('backoff: huge counts do not overflow with unusual settings', () => {
  const zero = resolveBackoff({ initialMs: 0, maxMs: 0 })
  assert.equal(failureBackoffMs(1e6, zero, 0), 0)
  const tiny = resolveBackoff({ initialMs: 1e-6, maxMs: Number.MAX_SAFE_INTEGER })
  assert.equal(failureBackoffMs(1e6, tiny, 0), Number.MAX_SAFE_INTEGER)
  const noJitter = resolveBackoff({ jitter: 0 })
  assert.equal(failureBackoffMs(3, noJitter, 0.99), 4000)
})

test('backoff: a clean close waits 1 s to 5 s', () => {
  const table: Array<[random: number, waitMs: number]> = [
    [0, 1000],
    [0.25, 2000],
    [0.5, 3000],
    [1, 5000],
    [-3, 1000],
    [7, 5000],
    [Number.NaN, 1000]
  ]
  for (const [random, waitMs] of table) {
    assert.equal(cleanCloseBackoffMs(defaults, random), waitMs, `random ${random}`)
  }
  for (let i = 0; i < 100; i++) {
    const waitMs = cleanCloseBackoffMs(defaults, Math.random())
    assert.ok(waitMs >= 1000 && waitMs <= 5000, String(waitMs))
  }
})

test('backoff: resolveBackoff keeps given values', () => {
  assert.deepEqual(resolveBackoff({ initialMs: 10, maxMs: 10, jitter: 1, cleanCloseMinMs: 0, cleanCloseMaxMs: 0, longMs: 0 }), {
    initialMs: 10,
    maxMs: 10,
    jitter: 1,
    cleanCloseMinMs: 0,
    cleanCloseMaxMs: 0,
    longMs: 0
  })
})

test('backoff: resolveBackoff rejects bad settings with an InvalidParametersError naming them', () => {
  const table: Array<[init: BackoffInit, message: RegExp]> = [
    [{ initialMs: -1 }, /backoff\.initialMs must be a finite number of milliseconds ≥ 0, got -1/],
    [{ initialMs: Number.NaN }, /backoff\.initialMs .* got NaN/],
    [{ maxMs: Number.POSITIVE_INFINITY }, /backoff\.maxMs .* got Infinity/],
    [{ maxMs: -5 }, /backoff\.maxMs/],
    [{ cleanCloseMinMs: -1 }, /backoff\.cleanCloseMinMs/],
    [{ cleanCloseMaxMs: Number.NaN }, /backoff\.cleanCloseMaxMs/],
    [{ longMs: -86_400_000 }, /backoff\.longMs/],
    [{ jitter: -0.1 }, /backoff\.jitter must be a fraction in \[0, 1\], got -0\.1/],
    [{ jitter: 1.5 }, /backoff\.jitter/],
    [{ jitter: Number.NaN }, /backoff\.jitter .* got NaN/],
    [{ initialMs: 2000, maxMs: 1000 }, /backoff\.initialMs \(2000\) must not exceed backoff\.maxMs \(1000\)/],
    [{ cleanCloseMinMs: 6000 }, /backoff\.cleanCloseMinMs \(6000\) must not exceed backoff\.cleanCloseMaxMs \(5000\)/]
  ]
  for (const [init, message] of table) {
    assert.throws(() => resolveBackoff(init), (err: unknown) => {
      assert.ok(err instanceof Error && err.name === 'InvalidParametersError', `${JSON.stringify(init)} threw ${String(err)}`)
      assert.match(err.message, message)
      return true
    })
  }
})

/** every member of ReasonCode and LocalReason */
const ALL_OUTCOMES: Outcome[] = [...REASON_CODES, ...Object.values(LocalReason)]

test('backoff: the policy for every outcome', () => {
  const now = 1_700_000_000_000
  const random = 0.5
  const contact: BackoffState = { failures: 2, nextAttempt: now - 5, backoffReason: ReasonCode.TIMEOUT }
  /** what each outcome does to a contact with 2 failures (a Record: a new member does not compile until it is placed) */
  const table: Record<Outcome, 'nothing' | 'clean end' | 'long' | 'failure'> = {
    [ReasonCode.UNSPECIFIED]: 'failure',
    [ReasonCode.WRONG_CHAIN]: 'long',
    [ReasonCode.WRONG_GENESIS]: 'long',
    [ReasonCode.INCOMPATIBLE_VERSION]: 'failure',
    [ReasonCode.MALFORMED]: 'failure',
    [ReasonCode.BAD_SIGNATURE]: 'failure',
    [ReasonCode.DID_UNRESOLVABLE]: 'failure',
    [ReasonCode.APPLICATION_REJECTED]: 'long',
    [ReasonCode.BANNED]: 'long',
    [ReasonCode.SELF]: 'failure',
    [ReasonCode.DUPLICATE]: 'nothing',
    [ReasonCode.TOO_MANY_PEERS]: 'failure',
    [ReasonCode.TIMEOUT]: 'failure',
    [ReasonCode.SHUTDOWN]: 'failure',
    [ReasonCode.CONNECTION_CLOSED]: 'failure',
    [ReasonCode.DISCONNECT_REQUESTED]: 'failure',
    [ReasonCode.UNEXPECTED_DID]: 'long',
    [ReasonCode.KEY_REVOKED]: 'failure',
    [ReasonCode.INBOUND_DISABLED]: 'long',
    [ReasonCode.SCORE_TOO_LOW]: 'failure',
    [ReasonCode.TOO_MANY_FROM_IP]: 'failure',
    [LocalReason.DIAL_FAILED]: 'failure',
    [LocalReason.SESSION_ENDED]: 'clean end'
  }
  assert.deepEqual(Object.keys(table).sort(), [...ALL_OUTCOMES].sort(), 'the table covers every outcome')

  const expected = {
    nothing: undefined,
    // 1 s + 0.5 × (5 s - 1 s)
    'clean end': (reason: Outcome) => ({ failures: 2, nextAttempt: now + 3000, backoffReason: reason }),
    long: (reason: Outcome) => ({ failures: 3, nextAttempt: now + 86_400_000, backoffReason: reason }),
    // the third failure: 4 s, less half the 20 % jitter
    failure: (reason: Outcome) => ({ failures: 3, nextAttempt: now + 3600, backoffReason: reason })
  }
  for (const reason of ALL_OUTCOMES) {
    const effect = expected[table[reason]]
    assert.deepEqual(backoff(reason, contact, defaults, random, now), effect?.(reason), reason)
  }
  assert.deepEqual(contact, { failures: 2, nextAttempt: now - 5, backoffReason: ReasonCode.TIMEOUT }, 'the contact itself is left alone')
})

test('backoff: waits round up to whole milliseconds, and the failure count stops at the largest a record holds', () => {
  const odd = resolveBackoff({ initialMs: 1.2, cleanCloseMinMs: 0.5, cleanCloseMaxMs: 0.5, longMs: 2.1 })
  const contact: BackoffState = { failures: 0, nextAttempt: 0 }
  assert.equal(backoff(ReasonCode.TIMEOUT, contact, odd, 0, 100)?.nextAttempt, 102)
  assert.equal(backoff(LocalReason.SESSION_ENDED, contact, odd, 0, 100)?.nextAttempt, 101)
  assert.equal(backoff(ReasonCode.WRONG_CHAIN, contact, odd, 0, 100)?.nextAttempt, 103)
  for (const reason of [ReasonCode.TIMEOUT, ReasonCode.BANNED]) {
    assert.equal(backoff(reason, { failures: 0xFFFF_FFFF, nextAttempt: 0 }, defaults, 0, 0)?.failures, 0xFFFF_FFFF, reason)
  }
})

test('sessionEndOutcome: a clean end waits a little; otherwise the reason counts, but for this node\'s shutdown and its own bans', () => {
  const clean = new Set<string>([ReasonCode.CONNECTION_CLOSED, ReasonCode.DISCONNECT_REQUESTED, ReasonCode.TOO_MANY_PEERS])
  for (const reason of REASON_CODES) {
    const local = clean.has(reason) ? LocalReason.SESSION_ENDED : reason === ReasonCode.SHUTDOWN || reason === ReasonCode.BANNED ? undefined : reason
    assert.equal(sessionEndOutcome(reason, 'local'), local, `local ${reason}`)
    const remote = clean.has(reason) || reason === ReasonCode.SHUTDOWN ? LocalReason.SESSION_ENDED : reason
    assert.equal(sessionEndOutcome(reason, 'remote'), remote, `remote ${reason}`)
  }
  assert.equal(sessionEndOutcome(ReasonCode.SHUTDOWN, 'local'), undefined, 'this node going away says nothing about the peer')
  assert.equal(sessionEndOutcome(ReasonCode.APPLICATION_REJECTED, 'local'), ReasonCode.APPLICATION_REJECTED, 'the application refused the peer: the long wait here too')
  assert.equal(sessionEndOutcome(ReasonCode.BANNED, 'remote'), ReasonCode.BANNED, 'the peer banned us: the long backoff')
})

test('banBackoff: a contact this node banned waits until the ban ends; a longer wait is kept', () => {
  const until = 1_000_000
  const table: Array<[string, BackoffState, BackoffState | undefined]> = [
    ['no backoff', { failures: 0, nextAttempt: 0 }, { failures: 0, nextAttempt: until, backoffReason: ReasonCode.BANNED }],
    ['a shorter failure backoff', { failures: 3, nextAttempt: until - 1, backoffReason: LocalReason.DIAL_FAILED }, { failures: 3, nextAttempt: until, backoffReason: ReasonCode.BANNED }],
    ['a backoff that ends with the ban', { failures: 1, nextAttempt: until, backoffReason: ReasonCode.WRONG_CHAIN }, undefined],
    ['a longer backoff', { failures: 1, nextAttempt: until + 1, backoffReason: ReasonCode.WRONG_CHAIN }, undefined]
  ]
  for (const [what, contact, expected] of table) {
    assert.deepEqual(banBackoff(contact, until), expected, what)
  }
  assert.equal(banBackoff({ failures: 0, nextAttempt: 0 }, until + 0.5)?.nextAttempt, until + 1, 'rounded up to whole ms')
})
