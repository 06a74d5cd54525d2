/*
 * The live handshake fuzzer's sequences (issue 22, item 1): what a scripted
 * peer plays against a running node, and what the protocol says must come of
 * it. Pure: the plans, the actions they expand to and the expected outcome;
 * live-fuzz.ts plays them over real libp2p streams.
 *
 * A plan is the honest sequence of one role (docs/PROTOCOL.md §5) with
 * perturbations applied to it: field faults (each with the reason code §8.2
 * gives it), bit flips in transit, truncation, reordering, duplication,
 * dropping, delays, early ends, injected rejects and garbage.
 */
import fc from 'fast-check'
import { ReasonCode } from '../../src/index.js'
import { anyBytes } from '../utils/fuzz.js'

/** The fuzzer's role: `initiator` dials the node's responder; `responder` answers the node's `connect` */
export type FuzzRole = 'initiator' | 'responder'

/** The four messages of §5 */
export type MessageName = 'first' | 'second' | 'third' | 'fourth'

/** How a scripted peer stops: close its write side, reset the stream, close the connection, or go silent */
export type EndHow = 'close' | 'reset' | 'close-connection' | 'stall'

/** Field-level changes of one message, made before it is signed (so they reach the node's checks) */
export type FieldFault =
  // a hello's (message 1 or 2)
  | 'nonce-short' | 'nonce-long' | 'did-empty' | 'chain-id-long' | 'protocol-version' | 'wrong-chain'
  | 'wrong-genesis' | 'chain-version' | 'self-did' | 'unresolvable-did' | 'other-did' | 'no-hello'
  // a signature's (message 2 or 3)
  | 'sig-flip' | 'sig-other-key' | 'sig-wrong-role' | 'sig-other-peer' | 'sig-other-nonce' | 'sig-short'
  | 'sig-empty' | 'sig-long' | 'no-signature'
  // message 4's
  | 'accept-false' | 'accept-missing'
  // valid variants: the handshake must succeed
  | 'accept-two' | 'unknown-field'

const HELLO_FAULTS: FieldFault[] = ['nonce-short', 'nonce-long', 'did-empty', 'chain-id-long', 'protocol-version', 'wrong-chain', 'wrong-genesis', 'chain-version', 'self-did', 'unresolvable-did', 'other-did', 'no-hello']
const SIGNATURE_FAULTS: FieldFault[] = ['sig-flip', 'sig-other-key', 'sig-wrong-role', 'sig-other-peer', 'sig-other-nonce', 'sig-short', 'sig-empty', 'sig-long', 'no-signature']

/** The field faults each message can carry */
export const FAULTS_OF: Record<MessageName, FieldFault[]> = {
  first: [...HELLO_FAULTS, 'unknown-field'],
  second: [...HELLO_FAULTS, ...SIGNATURE_FAULTS, 'unknown-field'],
  third: [...SIGNATURE_FAULTS, 'unknown-field'],
  fourth: ['accept-false', 'accept-missing', 'accept-two', 'unknown-field']
}

/**
 * The reason the node gives a field fault (§8.2's first failing check, §4.2,
 * §6), or `undefined` for a valid variant that must open a session
 */
export function faultReason (fault: FieldFault): ReasonCode | undefined {
  switch (fault) {
    case 'protocol-version':
    case 'chain-version':
      return ReasonCode.INCOMPATIBLE_VERSION
    case 'wrong-chain':
      return ReasonCode.WRONG_CHAIN
    case 'wrong-genesis':
      return ReasonCode.WRONG_GENESIS
    case 'self-did':
      return ReasonCode.SELF
    case 'unresolvable-did':
      return ReasonCode.DID_UNRESOLVABLE
    case 'other-did':
    case 'sig-flip':
    case 'sig-other-key':
    case 'sig-wrong-role':
    case 'sig-other-peer':
    case 'sig-other-nonce':
    case 'sig-short':
    case 'sig-empty':
    case 'sig-long':
      return ReasonCode.BAD_SIGNATURE
    case 'accept-two':
    case 'unknown-field':
      return undefined
    default:
      return ReasonCode.MALFORMED
  }
}

/** One change to the honest sequence */
export type Perturbation =
  /** a field fault, made before signing */
  | { kind: 'field', at: MessageName, fault: FieldFault }
  /** one bit of the framed message flipped in transit, after signing (`byte` modulo the frame's length) */
  | { kind: 'flip', at: MessageName, byte: number, bit: number }
  /** only the first `keep` bytes of the frame (modulo its length), then `then` */
  | { kind: 'truncate', at: MessageName, keep: number, then: EndHow }
  /**
   * the role's two messages swapped (`swap`), or the message that answers
   * the node's (the initiator's 3, the responder's 2) sent before reading it
   * (`early`, signed over a transcript with a made-up remote hello)
   */
  | { kind: 'reorder', how: 'swap' | 'early' }
  /** a message sent twice */
  | { kind: 'duplicate', at: MessageName }
  /** a message never sent; the script goes on */
  | { kind: 'drop', at: MessageName }
  /** a message sent past the node's handshake deadline */
  | { kind: 'late', at: MessageName }
  /** a reject (any number, defined or not) in place of a message */
  | { kind: 'reject', at: MessageName, code: number }
  /** a message written in `pieces` chunks, a moment apart: harmless, frames may arrive in any pieces */
  | { kind: 'split', at: MessageName, pieces: number }
  /** arbitrary bytes on the stream before a message */
  | { kind: 'garbage', at: MessageName, bytes: Uint8Array }
  /** the script ends before a message */
  | { kind: 'end', at: MessageName, how: EndHow }

/** A sequence for the live fuzzer */
export interface Plan {
  role: FuzzRole
  /** changes that break the handshake (or may: a valid field variant, a bit flip of message 4) */
  faults: Perturbation[]
  /** ms of delay before each of the role's sends (within the deadline: harmless) */
  delays: [number, number]
  /** after the node's reject, the fuzzer stays silent instead of closing its side: the node hangs up after its wait */
  silent: boolean
}

/** The role's messages, in order */
export function sendsOf (role: FuzzRole): [MessageName, MessageName] {
  return role === 'initiator' ? ['first', 'third'] : ['second', 'fourth']
}

/** Every code of §12: 0–20 */
export const DEFINED_REASON_NUMBERS = 21

const REASON_BY_NUMBER: ReasonCode[] = [
  ReasonCode.UNSPECIFIED, ReasonCode.WRONG_CHAIN, ReasonCode.WRONG_GENESIS, ReasonCode.INCOMPATIBLE_VERSION,
  ReasonCode.MALFORMED, ReasonCode.BAD_SIGNATURE, ReasonCode.DID_UNRESOLVABLE, ReasonCode.BANNED, ReasonCode.SELF,
  ReasonCode.DUPLICATE, ReasonCode.TOO_MANY_PEERS, ReasonCode.TIMEOUT, ReasonCode.SHUTDOWN, ReasonCode.CONNECTION_CLOSED,
  ReasonCode.DISCONNECT_REQUESTED, ReasonCode.UNEXPECTED_DID, ReasonCode.APPLICATION_REJECTED, ReasonCode.KEY_REVOKED,
  ReasonCode.INBOUND_DISABLED, ReasonCode.SCORE_TOO_LOW, ReasonCode.TOO_MANY_FROM_IP
]

/** The ReasonCode of a wire number, undefined for a number §12 does not define */
export function reasonOfNumber (code: number): ReasonCode | undefined {
  return REASON_BY_NUMBER[code]
}

/** What the protocol says the node makes of a plan */
export interface Expectation {
  /**
   * true: the node must open a session (the fully valid sequence, or a valid
   * variant of it); false: it must not; 'either': what message 4 says
   * depends on bytes this model does not decode (a flip of message 4 beside
   * another change, garbage read as message 4), and a session is fine
   * exactly when the node read an accept
   */
  session: boolean | 'either'
  /** when one fault decides it: the node's reason, and whose decision it was */
  reason?: ReasonCode
  side?: 'local' | 'remote'
}

/**
 * Does a bit flip of message 4 (`02 20 01`) still say `accept = true`? Only
 * a flip of the value byte to another value that is not 0 and still a
 * one-byte varint (bits 1–6): §4.3, "a bool is true for any value other than
 * 0". Every other flip is undecodable, lacks `accept`, or announces a longer
 * frame that never comes (TIMEOUT).
 */
export function flipOfFourthAccepts (byte: number, bit: number): boolean {
  return byte % 3 === 2 && bit >= 1 && bit <= 6
}

/** The outcome of one perturbation alone */
function expectationOf (p: Perturbation, role: FuzzRole): Expectation {
  const [, last] = sendsOf(role)
  switch (p.kind) {
    case 'field': {
      const reason = faultReason(p.fault)
      return reason == null ? { session: true } : { session: false, reason, side: 'local' }
    }
    case 'flip':
      // the signature covers the message as it was meant, so a flip of 1, 2
      // or 3 never verifies; message 4 carries no signature
      return p.at === 'fourth' && flipOfFourthAccepts(p.byte, p.bit) ? { session: true } : { session: false }
    case 'truncate':
      return p.then === 'stall'
        ? { session: false, reason: ReasonCode.TIMEOUT, side: 'local' }
        : { session: false, reason: ReasonCode.CONNECTION_CLOSED, side: 'remote' }
    case 'reorder':
      // swap: the node reads the other message in place of a hello (MALFORMED);
      // early: a signature over a transcript that is not the node's
      return { session: false, reason: p.how === 'swap' ? ReasonCode.MALFORMED : ReasonCode.BAD_SIGNATURE, side: 'local' }
    case 'duplicate':
      // the copy of the last message comes after the node is done: harmless;
      // the copy of the first is read in place of the next one, which lacks its field
      return p.at === last ? { session: true } : { session: false, reason: ReasonCode.MALFORMED, side: 'local' }
    case 'drop':
    case 'late':
      return { session: false, reason: ReasonCode.TIMEOUT, side: 'local' }
    case 'reject': {
      const reason = reasonOfNumber(p.code)
      return reason == null
        ? { session: false, reason: ReasonCode.MALFORMED, side: 'local' }
        : { session: false, reason, side: 'remote' }
    }
    case 'split':
      return { session: true }
    case 'garbage':
      // garbage in place of 1, 2 or 3 cannot carry a signature that verifies;
      // in place of 4 it may happen to say accept
      return { session: p.at === 'fourth' ? 'either' : false }
    case 'end':
      return p.how === 'stall'
        ? { session: false, reason: ReasonCode.TIMEOUT, side: 'local' }
        : { session: false, reason: ReasonCode.CONNECTION_CLOSED, side: 'remote' }
  }
}

/**
 * What must come of a plan. With no fault, or only valid variants, a
 * session; with one fault, that fault's outcome; with two (one on each
 * message), no session unless both are harmless, and any documented reason.
 */
export function expectationOfPlan (plan: Plan): Expectation {
  const outcomes = plan.faults.map(p => expectationOf(p, plan.role))
  if (outcomes.length === 1) {
    return outcomes[0]
  }
  // (two faults are on two messages, so each is judged as if alone)
  if (outcomes.some(o => o.session === false)) {
    return { session: false }
  }
  return { session: outcomes.some(o => o.session === 'either') ? 'either' : true }
}

/** Everything a scripted peer does, in order */
export type Action =
  | { do: 'send', message: MessageName, delayMs: number, fault?: FieldFault, flip?: { byte: number, bit: number }, keep?: number, early?: boolean, pieces?: number }
  | { do: 'raw', bytes: Uint8Array, delayMs: number }
  | { do: 'reject', code: number, delayMs: number }
  | { do: 'read' }
  | { do: 'end', how: EndHow }

/**
 * The honest sequence of `plan.role` with its faults applied, in the order
 * the plan lists them; a fault on a message that an earlier fault removed
 * does nothing
 */
export function actionsOf (plan: Plan, lateMs: number): Action[] {
  const [firstSend, secondSend] = sendsOf(plan.role)
  let actions: Action[] = plan.role === 'initiator'
    ? [{ do: 'send', message: 'first', delayMs: plan.delays[0] }, { do: 'read' }, { do: 'send', message: 'third', delayMs: plan.delays[1] }, { do: 'read' }]
    : [{ do: 'read' }, { do: 'send', message: 'second', delayMs: plan.delays[0] }, { do: 'read' }, { do: 'send', message: 'fourth', delayMs: plan.delays[1] }]
  const indexOf = (message: MessageName): number => actions.findIndex(a => a.do === 'send' && a.message === message)

  for (const p of plan.faults) {
    if (p.kind === 'reorder') {
      if (p.how === 'swap') {
        const i = indexOf(firstSend)
        const j = indexOf(secondSend)
        if (i >= 0 && j >= 0) {
          [actions[i], actions[j]] = [actions[j], actions[i]]
        }
      } else {
        // the send that answers a message of the node (the initiator's 3, the
        // responder's 2) goes before the read of that message
        const d = indexOf(plan.role === 'initiator' ? 'third' : 'second')
        const send = actions[d]
        if (d > 0 && actions[d - 1].do === 'read' && send.do === 'send') {
          actions[d] = actions[d - 1]
          actions[d - 1] = { ...send, early: true }
        }
      }
      continue
    }
    const i = indexOf(p.at)
    if (i < 0) {
      continue
    }
    const action = actions[i]
    if (action.do !== 'send') {
      continue
    }
    switch (p.kind) {
      case 'field':
        actions[i] = { ...action, fault: action.fault ?? p.fault }
        break
      case 'flip':
        actions[i] = { ...action, flip: action.flip ?? { byte: p.byte, bit: p.bit } }
        break
      case 'split':
        actions[i] = { ...action, pieces: p.pieces }
        break
      case 'truncate':
        actions = [...actions.slice(0, i), { ...action, keep: p.keep }, { do: 'end', how: p.then }]
        break
      case 'duplicate':
        actions.splice(i + 1, 0, { ...action, delayMs: 0 })
        break
      case 'drop':
        actions.splice(i, 1)
        break
      case 'late':
        actions[i] = { ...action, delayMs: lateMs }
        break
      case 'reject':
        actions = [...actions.slice(0, i), { do: 'reject', code: p.code, delayMs: action.delayMs }]
        break
      case 'garbage':
        actions.splice(i, 0, { do: 'raw', bytes: p.bytes, delayMs: 0 })
        break
      case 'end':
        actions = [...actions.slice(0, i), { do: 'end', how: p.how }]
        break
    }
  }
  return actions
}

const endHow: fc.Arbitrary<EndHow> = fc.constantFrom('close', 'reset', 'close-connection', 'stall')

/** A perturbation of `role`: of one of its messages (`at`, or either), or a reordering */
function perturbation (role: FuzzRole, at?: MessageName): fc.Arbitrary<Perturbation> {
  const message = at == null ? fc.constantFrom(...sendsOf(role)) : fc.constant(at)
  const field = message.chain(m => fc.constantFrom(...FAULTS_OF[m]).map(fault => ({ kind: 'field' as const, at: m, fault })))
  const kinds: Array<fc.WeightedArbitrary<Perturbation>> = [
    { weight: 8, arbitrary: field },
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: message, byte: fc.nat(255), bit: fc.nat(7) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: message, keep: fc.nat(255), then: endHow }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), at: message }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('split' as const), at: message, pieces: fc.integer({ min: 2, max: 6 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const), at: message }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('late' as const), at: message }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('reject' as const), at: message, code: fc.oneof(fc.nat(DEFINED_REASON_NUMBERS - 1), fc.integer({ min: DEFINED_REASON_NUMBERS, max: 1000 })) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('garbage' as const), at: message, bytes: anyBytes(48).filter(b => b.byteLength > 0) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('end' as const), at: message, how: endHow }) }
  ]
  if (at == null) {
    kinds.push({ weight: 2, arbitrary: fc.record({ kind: fc.constant('reorder' as const), how: fc.constantFrom('swap' as const, 'early' as const) }) })
  }
  return fc.oneof(...kinds)
}

/** Plans of both roles: one in six fully valid, most with one fault, some with two (one on each message) */
export const planArbitrary: fc.Arbitrary<Plan> = fc.constantFrom<FuzzRole>('initiator', 'responder').chain(role => fc.record({
  role: fc.constant(role),
  faults: fc.oneof(
    { weight: 1, arbitrary: fc.constant([]) },
    { weight: 4, arbitrary: fc.tuple(perturbation(role)) },
    // two faults, one on each message, so that neither undoes the other
    { weight: 1, arbitrary: fc.tuple(perturbation(role, sendsOf(role)[0]), perturbation(role, sendsOf(role)[1])) }
  ) as fc.Arbitrary<Perturbation[]>,
  delays: fc.tuple(fc.oneof(fc.constant(0), fc.nat(15)), fc.oneof(fc.constant(0), fc.nat(15))),
  silent: fc.nat(9).map(n => n === 0)
}))
