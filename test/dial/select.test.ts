import assert from 'node:assert/strict'
import { test } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { dialCandidates } from '../../src/addressbook/candidates.js'
import { selectDials, selectDrops } from '../../src/dial/index.js'
import { testContact } from '../utils/contacts.js'
import type { Contact } from '../../src/index.js'
import type { PeerId } from '@libp2p/interface'

async function peer (): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

async function contact (name: string, fields: Partial<Contact> = {}): Promise<Contact & { name: string }> {
  return { name, ...testContact(await peer(), fields) }
}

test('selectDials: eligibility', async () => {
  const now = 10_000
  const ready = await contact('ready')
  const waiting = await contact('waiting', { nextAttempt: now + 1 })
  const due = await contact('due exactly now', { nextAttempt: now })
  const noAddress = await contact('no address', { multiaddrs: [] })
  const banned = await contact('banned')
  const banOver = await contact('ban over')
  const busy = await contact('busy')
  const picked = selectDials({
    contacts: dialCandidates([ready, waiting, due, noAddress, banned, banOver, busy]),
    now,
    maxDials: 10,
    busy: new Set([busy.peerId.toString()]),
    bans: new Map([[banned.peerId.toString(), now + 5], [banOver.peerId.toString(), now - 5]])
  }) as Array<Contact & { name: string }>
  assert.deepEqual(picked.map(c => c.name).sort(), ['ban over', 'due exactly now', 'ready'])
})

test('selectDials: at most maxDials, best first', async () => {
  const contacts = [
    await contact('never, 3 failures', { failures: 3 }),
    await contact('session long ago', { lastSession: 100 }),
    await contact('never, 0 failures, seen late', { lastSeen: 50 }),
    await contact('recent session', { lastSession: 900 }),
    await contact('never, 0 failures, seen early', { lastSeen: 10 }),
    await contact('never, 1 failure', { failures: 1 })
  ]
  const order = (maxDials: number): string[] => (selectDials({
    contacts: dialCandidates(contacts),
    now: 1_000,
    maxDials,
    busy: new Set(),
    bans: new Map()
  }) as Array<Contact & { name: string }>).map(c => c.name)

  assert.deepEqual(order(10), [
    'recent session',
    'session long ago',
    'never, 0 failures, seen late',
    'never, 0 failures, seen early',
    'never, 1 failure',
    'never, 3 failures'
  ])
  assert.deepEqual(order(2), ['recent session', 'session long ago'])
  assert.deepEqual(order(0), [])
})

test('selectDials: looks at addresses, bans and busyness of contenders only', async () => {
  const looked: string[] = []
  const watched = async (name: string, fields: Partial<Contact>): Promise<Contact> => {
    const plain = await contact(name, fields)
    return Object.defineProperty(plain, 'multiaddrs', {
      get: () => {
        looked.push(name)
        return [multiaddr('/ip4/127.0.0.1/tcp/4001')]
      }
    })
  }
  const contacts = [
    await watched('session', { lastSession: 5 }),
    await watched('never', {}),
    await watched('waiting', { nextAttempt: 2_000 }),
    await watched('failing', { failures: 2 }),
    await watched('newer session', { lastSession: 9 })
  ]
  const asked: string[] = []
  /** a set that notes every lookup */
  class WatchedSet extends Set<string> {
    override has (id: string): boolean {
      asked.push(id)
      return super.has(id)
    }
  }
  const picked = selectDials({
    contacts: dialCandidates(contacts),
    now: 1_000,
    maxDials: 1,
    busy: new WatchedSet(),
    bans: new Map()
  }) as Array<Contact & { name: string }>
  assert.deepEqual(picked.map(c => c.name), ['newer session'])
  assert.deepEqual(looked, ['session', 'newer session'])
  assert.deepEqual(asked, [contacts[0].peerId.toString(), contacts[4].peerId.toString()])
})

test('selectDrops: sheds the newest sessions over each limit, never reserved ones', async () => {
  const s = async (name: string, direction: 'inbound' | 'outbound', since: number, reserved = false) => ({ name, peerId: await peer(), direction, since, reserved })
  const sessions = [
    await s('in old', 'inbound', 1),
    await s('in mid', 'inbound', 2),
    await s('in new', 'inbound', 3),
    await s('in newest reserved', 'inbound', 4, true),
    await s('out a', 'outbound', 1),
    await s('out b', 'outbound', 2)
  ]
  const names = (maxInbound: number, maxOutbound: number): string[] =>
    (selectDrops({ sessions, maxInbound, maxOutbound }) as unknown as Array<{ name: string }>).map(d => d.name)
  assert.deepEqual(names(3, 2), [])
  assert.deepEqual(names(2, 2), ['in new'])
  assert.deepEqual(names(1, 1), ['in new', 'in mid', 'out b'])
  assert.deepEqual(names(0, 2), ['in new', 'in mid', 'in old'])
})

test('selectDials: the peer score, after backoff: a low score is dialed last, the lowest last of all; at or below -20 never', async () => {
  const now = 10_000
  const recent = await contact('recent session, score -0.5', { lastSession: 9_000 })
  const old = await contact('old session, score 0', { lastSession: 1_000 })
  const never = await contact('never a session, no score')
  const slightly = await contact('recent session, score -3', { lastSession: 9_500 })
  const bad = await contact('recent session, score -15', { lastSession: 9_900 })
  const refused = await contact('score -20', { lastSession: 9_950 })
  const waiting = await contact('score 10 but backing off', { nextAttempt: now + 1 })
  const all = [recent, old, never, slightly, bad, refused, waiting]
  const scores = new Map([
    [recent.peerId.toString(), -0.5],
    [old.peerId.toString(), 0],
    [slightly.peerId.toString(), -3],
    [bad.peerId.toString(), -15],
    [refused.peerId.toString(), -20],
    [waiting.peerId.toString(), 10]
  ])
  const rows: Array<[number, string[]]> = [
    [1, ['recent session, score -0.5']],
    [3, ['recent session, score -0.5', 'old session, score 0', 'never a session, no score']],
    [4, ['recent session, score -0.5', 'old session, score 0', 'never a session, no score', 'recent session, score -3']],
    [10, ['recent session, score -0.5', 'old session, score 0', 'never a session, no score', 'recent session, score -3', 'recent session, score -15']]
  ]
  for (const [maxDials, expected] of rows) {
    const picked = selectDials({ contacts: dialCandidates(all), now, maxDials, busy: new Set(), bans: new Map(), scores }) as Array<Contact & { name: string }>
    assert.deepEqual(picked.map(c => c.name), expected, `maxDials ${maxDials}`)
  }
  // without scores, the order of old
  const unscored = selectDials({ contacts: dialCandidates(all), now, maxDials: 3, busy: new Set(), bans: new Map() }) as Array<Contact & { name: string }>
  assert.deepEqual(unscored.map(c => c.name), ['score -20', 'recent session, score -15', 'recent session, score -3'])
})

test('selectDrops: the lowest score goes first, then the newest; never a reserved peer, whatever its score', async () => {
  const s = async (name: string, direction: 'inbound' | 'outbound', since: number, score: number, reserved = false) => ({ name, peerId: await peer(), direction, since, reserved, score })
  const sessions = [
    await s('in old, -12', 'inbound', 1, -12),
    await s('in mid, 0', 'inbound', 2, 0),
    await s('in new, 0', 'inbound', 3, 0),
    await s('in reserved, -90', 'inbound', 4, -90, true),
    await s('out old, -1', 'outbound', 1, -1),
    await s('out new, 2', 'outbound', 2, 2)
  ]
  const names = (maxInbound: number, maxOutbound: number): string[] =>
    (selectDrops({ sessions, maxInbound, maxOutbound }) as unknown as Array<{ name: string }>).map(d => d.name)
  assert.deepEqual(names(3, 2), [])
  assert.deepEqual(names(2, 2), ['in old, -12'])
  assert.deepEqual(names(1, 1), ['in old, -12', 'in new, 0', 'out old, -1'])
  assert.deepEqual(names(0, 0), ['in old, -12', 'in new, 0', 'in mid, 0', 'out old, -1', 'out new, 2'])
})
