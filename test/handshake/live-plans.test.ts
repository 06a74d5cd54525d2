/*
 * The live fuzzer's model of the protocol (live-plans.ts), by tables: the
 * actions a plan expands to and the outcome docs/PROTOCOL.md gives it.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { HandshakeStage, ReasonCode } from '../../src/index.js'
import { decodeHandshakeMessage } from '../../src/handshake/channel.js'
import { readFrame } from '../../src/wire/index.js'
import { FAULTS_OF, actionsOf, expectationOfPlan, faultReason, flipOfFourthAccepts, type Perturbation, type Plan } from './live-plans.js'

function plan (role: Plan['role'], ...faults: Perturbation[]): Plan {
  return { role, faults, delays: [0, 0], silent: false }
}

/** the actions as short words: s1 (send message 1), r (read), end:stall… */
function words (p: Plan): string[] {
  return actionsOf(p, 9_999).map(a => {
    switch (a.do) {
      case 'send':
        return `s${['first', 'second', 'third', 'fourth'].indexOf(a.message) + 1}${a.early === true ? '!' : ''}${a.pieces == null ? '' : `/${a.pieces}`}${a.fault == null ? '' : `:${a.fault}`}${a.keep == null ? '' : `[${a.keep}]`}${a.delayMs === 9_999 ? '+late' : ''}`
      case 'read':
        return 'r'
      case 'raw':
        return 'raw'
      case 'reject':
        return `reject:${a.code}`
      case 'end':
        return `end:${a.how}`
    }
  })
}

describe('live fuzz plans', () => {
  it('expand to the role\'s honest sequence with the faults applied', () => {
    const table: Array<[Plan, string[]]> = [
      [plan('initiator'), ['s1', 'r', 's3', 'r']],
      [plan('responder'), ['r', 's2', 'r', 's4']],
      [plan('initiator', { kind: 'reorder', how: 'swap' }), ['s3', 'r', 's1', 'r']],
      [plan('responder', { kind: 'reorder', how: 'swap' }), ['r', 's4', 'r', 's2']],
      [plan('initiator', { kind: 'reorder', how: 'early' }), ['s1', 's3!', 'r', 'r']],
      [plan('responder', { kind: 'reorder', how: 'early' }), ['s2!', 'r', 'r', 's4']],
      [plan('initiator', { kind: 'duplicate', at: 'first' }), ['s1', 's1', 'r', 's3', 'r']],
      [plan('responder', { kind: 'drop', at: 'second' }), ['r', 'r', 's4']],
      [plan('initiator', { kind: 'split', at: 'first', pieces: 3 }), ['s1/3', 'r', 's3', 'r']],
      [plan('initiator', { kind: 'late', at: 'third' }), ['s1', 'r', 's3+late', 'r']],
      [plan('initiator', { kind: 'truncate', at: 'third', keep: 5, then: 'stall' }), ['s1', 'r', 's3[5]', 'end:stall']],
      [plan('responder', { kind: 'reject', at: 'fourth', code: 4 }), ['r', 's2', 'r', 'reject:4']],
      [plan('responder', { kind: 'garbage', at: 'second', bytes: Uint8Array.of(1) }), ['r', 'raw', 's2', 'r', 's4']],
      [plan('initiator', { kind: 'end', at: 'first', how: 'reset' }), ['end:reset']],
      [plan('initiator', { kind: 'field', at: 'first', fault: 'wrong-chain' }, { kind: 'drop', at: 'first' }), ['r', 's3', 'r']],
      // a fault on a message the plan does not send, or one an earlier fault removed, does nothing
      [plan('initiator', { kind: 'field', at: 'fourth', fault: 'accept-false' }), ['s1', 'r', 's3', 'r']],
      [plan('initiator', { kind: 'drop', at: 'first' }, { kind: 'field', at: 'first', fault: 'wrong-chain' }), ['r', 's3', 'r']]
    ]
    for (const [p, expected] of table) {
      assert.deepEqual(words(p), expected, JSON.stringify(p.faults))
    }
  })

  it('expect what docs/PROTOCOL.md gives each fault', () => {
    const table: Array<[Plan, ReturnType<typeof expectationOfPlan>]> = [
      [plan('initiator'), { session: true }],
      [plan('responder', { kind: 'field', at: 'fourth', fault: 'accept-two' }), { session: true }],
      [plan('initiator', { kind: 'field', at: 'third', fault: 'unknown-field' }), { session: true }],
      [plan('initiator', { kind: 'field', at: 'first', fault: 'wrong-genesis' }), { session: false, reason: ReasonCode.WRONG_GENESIS, side: 'local' }],
      [plan('responder', { kind: 'field', at: 'second', fault: 'sig-other-peer' }), { session: false, reason: ReasonCode.BAD_SIGNATURE, side: 'local' }],
      [plan('responder', { kind: 'field', at: 'second', fault: 'no-signature' }), { session: false, reason: ReasonCode.MALFORMED, side: 'local' }],
      [plan('responder', { kind: 'field', at: 'fourth', fault: 'accept-false' }), { session: false, reason: ReasonCode.MALFORMED, side: 'local' }],
      [plan('initiator', { kind: 'flip', at: 'first', byte: 3, bit: 0 }), { session: false }],
      [plan('responder', { kind: 'flip', at: 'fourth', byte: 2, bit: 1 }), { session: true }],
      [plan('responder', { kind: 'flip', at: 'fourth', byte: 2, bit: 0 }), { session: false }],
      [plan('initiator', { kind: 'truncate', at: 'first', keep: 3, then: 'stall' }), { session: false, reason: ReasonCode.TIMEOUT, side: 'local' }],
      [plan('initiator', { kind: 'truncate', at: 'first', keep: 3, then: 'reset' }), { session: false, reason: ReasonCode.CONNECTION_CLOSED, side: 'remote' }],
      [plan('initiator', { kind: 'reorder', how: 'swap' }), { session: false, reason: ReasonCode.MALFORMED, side: 'local' }],
      [plan('responder', { kind: 'reorder', how: 'early' }), { session: false, reason: ReasonCode.BAD_SIGNATURE, side: 'local' }],
      [plan('initiator', { kind: 'duplicate', at: 'third' }), { session: true }],
      [plan('responder', { kind: 'split', at: 'second', pieces: 5 }), { session: true }],
      [plan('responder', { kind: 'split', at: 'second', pieces: 5 }, { kind: 'field', at: 'fourth', fault: 'accept-false' }), { session: false }],
      [plan('responder', { kind: 'duplicate', at: 'second' }), { session: false, reason: ReasonCode.MALFORMED, side: 'local' }],
      [plan('responder', { kind: 'drop', at: 'fourth' }), { session: false, reason: ReasonCode.TIMEOUT, side: 'local' }],
      [plan('initiator', { kind: 'reject', at: 'first', code: 9 }), { session: false, reason: ReasonCode.DUPLICATE, side: 'remote' }],
      [plan('initiator', { kind: 'reject', at: 'first', code: 21 }), { session: false, reason: ReasonCode.MALFORMED, side: 'local' }],
      [plan('responder', { kind: 'garbage', at: 'fourth', bytes: Uint8Array.of(1) }), { session: 'either' }],
      [plan('initiator', { kind: 'end', at: 'third', how: 'stall' }), { session: false, reason: ReasonCode.TIMEOUT, side: 'local' }],
      // two faults: no session unless both are harmless, and no single reason
      [plan('initiator', { kind: 'field', at: 'first', fault: 'wrong-chain' }, { kind: 'late', at: 'third' }), { session: false }],
      [plan('responder', { kind: 'field', at: 'second', fault: 'unknown-field' }, { kind: 'flip', at: 'fourth', byte: 2, bit: 1 }), { session: true }],
      [plan('responder', { kind: 'field', at: 'second', fault: 'unknown-field' }, { kind: 'flip', at: 'fourth', byte: 2, bit: 0 }), { session: false }],
      [plan('initiator', { kind: 'duplicate', at: 'third' }, { kind: 'field', at: 'first', fault: 'unknown-field' }), { session: true }],
      [plan('responder', { kind: 'garbage', at: 'fourth', bytes: Uint8Array.of(1) }, { kind: 'field', at: 'second', fault: 'unknown-field' }), { session: 'either' }]
    ]
    for (const [p, expected] of table) {
      assert.deepEqual(expectationOfPlan(p), expected, JSON.stringify(p.faults))
    }
    // every fault a message can carry has a reason, or is one of the two valid variants
    for (const faults of Object.values(FAULTS_OF)) {
      for (const fault of faults) {
        assert.equal(faultReason(fault) == null, fault === 'accept-two' || fault === 'unknown-field', fault)
      }
    }
  })

  it('judge the 24 bit flips of message 4 (02 20 01) as §3 and §4.3 do, and so does the node\'s decoder', async () => {
    // by hand from the spec: which flips still say accept = true, which are
    // refused (MALFORMED), which announce a longer frame that never comes
    const accepting = new Set(['2.1', '2.2', '2.3', '2.4', '2.5', '2.6'])
    const waiting = new Set(['0.0', '0.2', '0.3', '0.4', '0.5', '0.6'])
    for (let byte = 0; byte < 3; byte++) {
      for (let bit = 0; bit < 8; bit++) {
        const name = `${byte}.${bit}`
        assert.equal(flipOfFourthAccepts(byte, bit), accepting.has(name), name)
        const frame = Uint8Array.of(0x02, 0x20, 0x01)
        frame[byte] ^= 1 << bit
        let outcome: string
        try {
          const body = await readFrame((async function * () { yield frame })(), { maxFrameBytes: 4096 })
          outcome = body == null ? 'waiting' : decodeHandshakeMessage(body, HandshakeStage.AwaitResponderAccept).accept === true ? 'accept' : 'refused'
        } catch (err: any) {
          outcome = err.name === 'StreamEndedError' ? 'waiting' : 'refused'
        }
        assert.equal(outcome, accepting.has(name) ? 'accept' : waiting.has(name) ? 'waiting' : 'refused', name)
      }
    }
  })
})
