/*
 * The handshake fuzzed against a live node over real streams (issue 22,
 * item 1): the sequences and their expected outcomes are in live-plans.ts,
 * the scripted peers and the invariants in live-fuzz.ts. This file runs a
 * seeded slice of FUZZ_RUNS / 400 sequences (250 by default, about 12 s on a
 * loaded 2-core machine), after the named cases below; `npm run fuzz:live`
 * runs 10,000 and prints the counts.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { FUZZ_RUNS, FUZZ_SEED } from '../utils/fuzz.js'
import { LiveFuzz } from './live-fuzz.js'
import type { Perturbation, Plan } from './live-plans.js'

/** Live sequences per decoder input: a live sequence costs about what 400 decoded frames do */
const LIVE_SHARE = 1 / 400

const SEQUENCES = Math.max(1, Math.ceil(FUZZ_RUNS * LIVE_SHARE))

function plan (role: Plan['role'], faults: Perturbation[], silent = false): Plan {
  return { role, faults, delays: [0, 0], silent }
}

/**
 * Sequences that once failed a run, shrunk, or that the spec singles out;
 * each is played once against the live node with the same invariants
 */
const NAMED: Array<[string, Plan]> = [
  // §4.3: a bool is true for any value other than 0
  ['message 4 with accept = 2 opens a session', plan('responder', [{ kind: 'field', at: 'fourth', fault: 'accept-two' }])],
  ['message 4 with bit 1 of its value flipped (accept = 3) opens a session', plan('responder', [{ kind: 'flip', at: 'fourth', byte: 2, bit: 1 }])],
  ['message 4 with accept = false is MALFORMED', plan('responder', [{ kind: 'field', at: 'fourth', fault: 'accept-false' }])],
  // §12: a number it does not define is undecodable
  ['a reject with code 21 is answered with MALFORMED', plan('initiator', [{ kind: 'reject', at: 'first', code: 21 }])],
  // §11: the node leaves the connection to a remote that said DUPLICATE
  ['a DUPLICATE reject from the peer in place of 2', plan('responder', [{ kind: 'reject', at: 'second', code: 9 }])],
  // found by a run: a peer that stalls in the middle of its hello and never closes its side is hung up on after the first-message deadline and the hang-up wait
  ['a truncated hello, then silence', plan('initiator', [{ kind: 'truncate', at: 'first', keep: 5, then: 'stall' }], true)],
  ['the initiator\'s signature sent before message 2 (signed over a made-up transcript) is BAD_SIGNATURE', plan('initiator', [{ kind: 'reorder', how: 'early' }])],
  ['the responder\'s hello and signature sent before message 1 is BAD_SIGNATURE', plan('responder', [{ kind: 'reorder', how: 'early' }])],
  ['a signature over a transcript naming another peer id is BAD_SIGNATURE', plan('initiator', [{ kind: 'field', at: 'third', fault: 'sig-other-peer' }])],
  // a frame may reach the node in any pieces
  ['the responder\'s hello and signature in 6 pieces, a moment apart, open a session', plan('responder', [{ kind: 'split', at: 'second', pieces: 6 }])],
  ['a hello presenting the node\'s own DID is SELF', plan('responder', [{ kind: 'field', at: 'second', fault: 'self-did' }])],
  // found by a run: two faults on one message, the second undoing the first in the model (now one fault per message)
  ['accept missing in message 4, and a valid variant of message 2', plan('responder', [{ kind: 'field', at: 'second', fault: 'unknown-field' }, { kind: 'field', at: 'fourth', fault: 'accept-missing' }])]
]

describe('the handshake against a live node, fuzzed', { timeout: 120_000 + SEQUENCES * 100 }, () => {
  let fuzz: LiveFuzz

  before(async () => {
    fuzz = await LiveFuzz.start()
  })

  after(async () => {
    await fuzz.stop()
  })

  for (const [name, p] of NAMED) {
    it(name, async () => {
      await fuzz.sequence(fuzz.workers[0], p)
    })
  }

  it(`${SEQUENCES} generated sequences from both roles: a session exactly for the valid ones, a documented reason and a hang-up within the deadline for the rest, an honest peer served throughout, nothing left over`, async (t) => {
    await fuzz.run(SEQUENCES, FUZZ_SEED)
    await fuzz.finish()
    t.diagnostic(fuzz.report())
    assert.deepEqual(fuzz.stats.violations, [])
    assert.equal(fuzz.stats.sequences >= SEQUENCES, true)
    assert.equal(fuzz.stats.sessionsOpened > 0, true, 'some sequences were valid')
    assert.equal(fuzz.stats.honestHandshakes >= 3, true, 'the honest peer handshook before, during and after the run')
  })
})
