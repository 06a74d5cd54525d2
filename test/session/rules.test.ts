import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ReasonCode } from '../../src/reason/index.js'
import { beginVerdict, commitVerdict, incomingWins, limitReached, remoteVerdict, sourceLimitReached, type BeginFacts, type CommitFacts, type SlotCounts, type SourceFacts } from '../../src/session/rules.js'
import type { SessionDirection } from '../../src/session/index.js'

const limits = { maxInbound: 4, maxOutbound: 2, inboundBurst: 1 }
const FULL = { reason: ReasonCode.TOO_MANY_PEERS, message: 'inbound session limit 4 (+1) reached' }
const FROM_IP = { reason: ReasonCode.TOO_MANY_FROM_IP, message: 'too many inbound sessions from 192.0.2.7 (limit 4 per IP address)' }

describe('session rules', () => {
  it('limitReached: inbound counts sessions up to limit + burst, outbound counts sessions and own handshakes, reserved peers pass', () => {
    const table: Array<[SessionDirection, boolean, SlotCounts, boolean]> = [
      // direction, reserved, counts, full?
      ['inbound', false, { inbound: 0, outbound: 0, initiating: 0 }, false],
      ['inbound', false, { inbound: 4, outbound: 2, initiating: 5 }, false], // the burst slot
      ['inbound', false, { inbound: 5, outbound: 0, initiating: 0 }, true],
      ['inbound', true, { inbound: 9, outbound: 9, initiating: 9 }, false],
      ['outbound', false, { inbound: 9, outbound: 1, initiating: 0 }, false],
      ['outbound', false, { inbound: 0, outbound: 1, initiating: 1 }, true], // a handshake in flight holds its slot
      ['outbound', false, { inbound: 0, outbound: 2, initiating: 0 }, true], // no burst outbound
      ['outbound', true, { inbound: 0, outbound: 2, initiating: 3 }, false]
    ]
    for (const [direction, reserved, counts, full] of table) {
      const why = limitReached(direction, reserved, counts, limits)
      assert.equal(why != null, full, `${direction} reserved=${reserved} ${JSON.stringify(counts)}: ${why?.message}`)
      if (why != null) {
        assert.equal(why.reason, ReasonCode.TOO_MANY_PEERS)
        assert.match(why.message, direction === 'inbound' ? /inbound session limit 4 \(\+1\) reached/ : /outbound session limit 2 reached/)
      }
    }
  })

  it('limitReached: a node whose inbound limit and burst are 0 refuses every inbound session with INBOUND_DISABLED, reserved peers too', () => {
    const none = { inbound: 0, outbound: 0, initiating: 0 }
    const table: Array<[{ maxInbound: number, maxOutbound: number, inboundBurst: number }, boolean, ReasonCode | undefined, RegExp | undefined]> = [
      // limits, reserved, reason, message
      [{ maxInbound: 0, maxOutbound: 0, inboundBurst: 0 }, false, ReasonCode.INBOUND_DISABLED, /holds no sessions \(DHT only\)/],
      [{ maxInbound: 0, maxOutbound: 0, inboundBurst: 0 }, true, ReasonCode.INBOUND_DISABLED, /holds no sessions/],
      [{ maxInbound: 0, maxOutbound: 3, inboundBurst: 0 }, false, ReasonCode.INBOUND_DISABLED, /accepts no inbound sessions/],
      [{ maxInbound: 0, maxOutbound: 3, inboundBurst: 1 }, false, undefined, undefined], // a burst slot is still a slot
      [{ maxInbound: 1, maxOutbound: 0, inboundBurst: 0 }, false, undefined, undefined]
    ]
    for (const [limits, reserved, reason, message] of table) {
      const why = limitReached('inbound', reserved, none, limits)
      assert.equal(why?.reason, reason, JSON.stringify(limits))
      if (message != null) {
        assert.match(why?.message ?? '', message)
      }
    }
    // a DHT-only node's own dial is refused by its outbound limit, as any full node's
    assert.equal(limitReached('outbound', false, none, { maxInbound: 0, maxOutbound: 0, inboundBurst: 0 })?.reason, ReasonCode.TOO_MANY_PEERS)
  })

  it('sourceLimitReached: inbound sessions per source up to the limit; reserved peers, exempt sources and sources without an IP pass', () => {
    const table: Array<[boolean, SourceFacts, number, boolean]> = [
      // reserved, source, limit, full?
      [false, { group: '192.0.2.7', exempt: false, sessions: 0 }, 4, false],
      [false, { group: '192.0.2.7', exempt: false, sessions: 3 }, 4, false],
      [false, { group: '192.0.2.7', exempt: false, sessions: 4 }, 4, true],
      [false, { group: '192.0.2.7', exempt: false, sessions: 9 }, 4, true],
      [false, { group: '192.0.2.7', exempt: false, sessions: 1 }, 1, true],
      [false, { group: '2001:db8:0:1::/64', exempt: false, sessions: 4 }, 4, true],
      [true, { group: '192.0.2.7', exempt: false, sessions: 9 }, 4, false],
      [false, { group: '127.0.0.1', exempt: true, sessions: 9 }, 4, false],
      [false, { group: undefined, exempt: false, sessions: 9 }, 4, false] // relayed, in memory
    ]
    for (const [reserved, source, limit, full] of table) {
      const why = sourceLimitReached(reserved, source, limit)
      assert.equal(why != null, full, `reserved=${reserved} ${JSON.stringify(source)} limit ${limit}`)
      if (why != null) {
        assert.equal(why.reason, ReasonCode.TOO_MANY_FROM_IP)
        assert.equal(why.message, `too many inbound sessions from ${source.group} (limit ${limit} per IP address)`)
      }
    }
  })

  it('incomingWins: the lower initiator peer id wins; the same initiator keeps the older handshake', () => {
    const low = Uint8Array.of(1, 2, 3)
    const high = Uint8Array.of(1, 2, 4)
    const table: Array<[Uint8Array, Uint8Array, boolean]> = [
      // existing initiator, incoming initiator, incoming wins
      [high, low, true],
      [low, high, false],
      [low, low, false],
      [Uint8Array.of(1, 2), Uint8Array.of(1, 2, 0), false] // a prefix sorts first
    ]
    for (const [existing, incoming, wins] of table) {
      assert.equal(incomingWins(existing, incoming), wins, `${existing} vs ${incoming}`)
      assert.equal(incomingWins(incoming, existing), !wins && !sameBytes(existing, incoming), 'both sides compute the same answer')
    }
  })

  it('beginVerdict checks bans, then a score too low, then duplicates, then the session limits, then the limit per IP (PROTOCOL.md §8.1)', () => {
    const clear: BeginFacts = { peerBanned: false, hasSession: false, losesToExisting: false }
    const LOW = { reason: ReasonCode.SCORE_TOO_LOW, message: 'score -20.7 is at or below -20' }
    const table: Array<[Partial<BeginFacts>, ReasonCode | undefined]> = [
      [{}, undefined],
      [{ peerBanned: true, hasSession: true, losesToExisting: true, full: FULL }, ReasonCode.BANNED],
      [{ hasSession: true, losesToExisting: true, full: FULL }, ReasonCode.DUPLICATE],
      [{ losesToExisting: true, full: FULL }, ReasonCode.DUPLICATE],
      [{ full: FULL }, ReasonCode.TOO_MANY_PEERS],
      [{ full: { reason: ReasonCode.INBOUND_DISABLED, message: 'this node accepts no inbound sessions' } }, ReasonCode.INBOUND_DISABLED],
      [{ full: { reason: ReasonCode.INBOUND_DISABLED, message: 'this node accepts no inbound sessions' }, sourceFull: FROM_IP }, ReasonCode.INBOUND_DISABLED],
      [{ full: FULL, sourceFull: FROM_IP }, ReasonCode.TOO_MANY_PEERS],
      [{ losesToExisting: true, sourceFull: FROM_IP }, ReasonCode.DUPLICATE],
      [{ peerBanned: true, sourceFull: FROM_IP }, ReasonCode.BANNED],
      [{ sourceFull: FROM_IP }, ReasonCode.TOO_MANY_FROM_IP],
      [{ lowScore: LOW }, ReasonCode.SCORE_TOO_LOW],
      [{ peerBanned: true, lowScore: LOW }, ReasonCode.BANNED],
      [{ lowScore: LOW, hasSession: true, losesToExisting: true, full: FULL, sourceFull: FROM_IP }, ReasonCode.SCORE_TOO_LOW]
    ]
    for (const [facts, reason] of table) {
      assert.equal(beginVerdict({ ...clear, ...facts })?.reason, reason, JSON.stringify(facts))
    }
    assert.equal(beginVerdict({ ...clear, full: { reason: ReasonCode.TOO_MANY_PEERS, message: 'outbound session limit 2 reached' } })?.message, 'outbound session limit 2 reached')
  })

  it('remoteVerdict rejects a banned DID, then a DID in a session under another peer id', () => {
    const table: Array<[boolean, boolean, ReasonCode | undefined]> = [
      [false, false, undefined],
      [true, false, ReasonCode.BANNED],
      [true, true, ReasonCode.BANNED],
      [false, true, ReasonCode.DUPLICATE]
    ]
    for (const [didBanned, didInUse, reason] of table) {
      assert.equal(remoteVerdict({ didBanned, didInUse })?.reason, reason, `banned=${didBanned} inUse=${didInUse}`)
    }
  })

  it('commitVerdict: closed connection, then the DID, then a session that won meanwhile, then the inbound limit, then the limit per IP (§8.3)', () => {
    const clear: CommitFacts = { connectionOpen: true, didBanned: false, didInUse: false, hasSession: false }
    const table: Array<[Partial<CommitFacts>, ReasonCode | undefined]> = [
      [{}, undefined],
      [{ connectionOpen: false, didBanned: true, hasSession: true, full: FULL }, ReasonCode.CONNECTION_CLOSED],
      [{ didBanned: true, hasSession: true, full: FULL }, ReasonCode.BANNED],
      [{ didInUse: true, hasSession: true }, ReasonCode.DUPLICATE],
      [{ hasSession: true, full: FULL }, ReasonCode.DUPLICATE],
      [{ full: FULL }, ReasonCode.TOO_MANY_PEERS],
      [{ full: FULL, sourceFull: FROM_IP }, ReasonCode.TOO_MANY_PEERS],
      [{ hasSession: true, sourceFull: FROM_IP }, ReasonCode.DUPLICATE],
      [{ didBanned: true, sourceFull: FROM_IP }, ReasonCode.BANNED],
      [{ sourceFull: FROM_IP }, ReasonCode.TOO_MANY_FROM_IP]
    ]
    for (const [facts, reason] of table) {
      assert.equal(commitVerdict({ ...clear, ...facts })?.reason, reason, JSON.stringify(facts))
    }
  })
})

function sameBytes (a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i])
}
