import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ACTION_SCORE, BAN_SCORE_THRESHOLD, DISCONNECT_SCORE_THRESHOLD, GOSSIP_SCORE_WEIGHT, MAX_GOSSIP_BONUS, MAX_GOSSIP_PENALTY, PeerAction } from '../../src/index.js'
import { applyAction, combinedScore, decayedScore, gossipContribution, refusedForMs, scoreVerdict } from '../../src/score/index.js'
import { freezeUntil } from '../../src/score/score.js'

const H = 600_000 // the default half-life, 10 min

function close (actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: ${actual} is not ${expected}`)
}

test('decayedScore: halves every half-life from `at`, unchanged before it', () => {
  const rows: Array<[string, { score: number, at: number }, number, number]> = [
    ['no time', { score: -40, at: 1000 }, 1000, -40],
    ['one half-life', { score: -40, at: 1000 }, 1000 + H, -20],
    ['two half-lives', { score: -40, at: 0 }, 2 * H, -10],
    ['half a half-life', { score: -40, at: 0 }, H / 2, -40 / Math.SQRT2],
    ['positive decays down', { score: 8, at: 0 }, H, 4],
    ['zero stays zero', { score: 0, at: 0 }, 5 * H, 0],
    ['frozen: at in the future', { score: -60, at: 10 * H }, 3 * H, -60],
    ['frozen until at, then decays', { score: -60, at: 10 * H }, 11 * H, -30]
  ]
  for (const [name, state, now, expected] of rows) {
    close(decayedScore(state, now, H), expected, name)
  }
})

test('applyAction: the weight of each action, decayed first, within [-100, 100]', () => {
  const rows: Array<[string, { score: number, at: number }, PeerAction, number, { score: number, at: number }]> = [
    ['FATAL from 0', { score: 0, at: 0 }, PeerAction.FATAL, 0, { score: -100, at: 0 }],
    ['LOW from 0', { score: 0, at: 0 }, PeerAction.LOW_TOLERANCE, 5, { score: -10, at: 5 }],
    ['MID from 0', { score: 0, at: 0 }, PeerAction.MID_TOLERANCE, 5, { score: -5, at: 5 }],
    ['HIGH from 0', { score: 0, at: 0 }, PeerAction.HIGH_TOLERANCE, 5, { score: -1, at: 5 }],
    ['LOW after a half-life', { score: -20, at: 0 }, PeerAction.LOW_TOLERANCE, H, { score: -20, at: H }],
    ['clamped at -100', { score: -95, at: 0 }, PeerAction.LOW_TOLERANCE, 0, { score: -100, at: 0 }],
    ['a frozen clock stays frozen', { score: -60, at: 2 * H }, PeerAction.HIGH_TOLERANCE, H, { score: -61, at: 2 * H }]
  ]
  for (const [name, state, action, now, expected] of rows) {
    const next = applyAction(state, action, now, H)
    close(next.score, expected.score, name)
    assert.equal(next.at, expected.at, name)
  }
  assert.deepEqual(ACTION_SCORE, { FATAL: -200, LOW_TOLERANCE: -10, MID_TOLERANCE: -5, HIGH_TOLERANCE: -1 })
})

test('freezeUntil: the decayed score, its clock at the ban end', () => {
  assert.deepEqual(freezeUntil({ score: -60, at: 0 }, H, 3 * H, H), { score: -30, at: 3 * H })
  assert.deepEqual(freezeUntil({ score: -60, at: 5 * H }, H, 3 * H, H), { score: -60, at: 5 * H })
})

test('scoreVerdict: disconnect at or below -20, ban at or below -50', () => {
  const rows: Array<[number, string]> = [
    [100, 'ok'], [0, 'ok'], [-19.99, 'ok'],
    [DISCONNECT_SCORE_THRESHOLD, 'disconnect'], [-20.01, 'disconnect'], [-49.99, 'disconnect'],
    [BAN_SCORE_THRESHOLD, 'ban'], [-100, 'ban']
  ]
  for (const [score, verdict] of rows) {
    assert.equal(scoreVerdict(score), verdict, String(score))
  }
})

test('gossipContribution and combinedScore: weighted, capped both ways', () => {
  close(GOSSIP_SCORE_WEIGHT, 19 / 80, 'weight')
  const rows: Array<[number, number]> = [
    [0, 0],
    [-80, -19],
    [-10, -10 * 19 / 80],
    [-1000, MAX_GOSSIP_PENALTY],
    [-Infinity, MAX_GOSSIP_PENALTY],
    [20, 20 * 19 / 80],
    [1000, MAX_GOSSIP_BONUS],
    [Infinity, MAX_GOSSIP_BONUS],
    [Number.NaN, 0]
  ]
  for (const [gossip, expected] of rows) {
    close(gossipContribution(gossip), expected, String(gossip))
  }
  assert.equal(MAX_GOSSIP_PENALTY, -49, 'gossip alone never bans')
  close(combinedScore(-10, -80), -29, 'graylisted plus one LOW report disconnects')
  close(combinedScore(-95, -1000), -100, 'within -100')
  close(combinedScore(0, 1000), 10, 'a bonus of at most 10')
})

test('refusedForMs: frozen time plus half-life × log2(score / -20)', () => {
  const rows: Array<[string, { score: number, at: number }, number, number]> = [
    ['above the threshold', { score: -19, at: 0 }, 0, 0],
    ['at -40', { score: -40, at: 0 }, 0, H],
    ['at -21', { score: -21, at: 0 }, 0, H * Math.log2(21 / 20)],
    ['at -80, half a half-life ago', { score: -80, at: 0 }, H / 2, 1.5 * H],
    ['banned at -50, 30 min of ban left', { score: -50, at: 3 * H }, 0, 3 * H + H * Math.log2(2.5)]
  ]
  for (const [name, state, now, expected] of rows) {
    close(refusedForMs(state, now, H), expected, name)
  }
})
