import assert from 'node:assert/strict'
import { before, test } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { dialCandidates } from '../../src/addressbook/candidates.js'
import { outboundLoad, planTick } from '../../src/dial/plan.js'
import { testContact } from '../utils/contacts.js'
import type { Contact } from '../../src/index.js'
import type { SessionSlot, TickSnapshot } from '../../src/dial/index.js'
import type { PeerId } from '@libp2p/interface'

const NOW = 10_000

/** peers by name, made once */
const peers = new Map<string, PeerId>()
const names = new Map<string, string>()
const NAMES = ['a', 'b', 'c', 'd', 'in1', 'in2', 'in3', 'in4', 'out1', 'out2', 'out3', 'r1', 'r2', 'r3']

before(async () => {
  for (const name of NAMES) {
    const peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    peers.set(name, peer)
    names.set(peer.toString(), name)
  }
})

function peer (name: string): PeerId {
  const id = peers.get(name)
  assert.ok(id != null, name)
  return id
}

const nameOf = (id: PeerId): string => names.get(id.toString()) ?? id.toString()

interface Row {
  name: string
  /** name, direction, since, reserved */
  sessions?: Array<[string, 'inbound' | 'outbound', number, boolean?]>
  /** name, nextAttempt */
  reserved?: Array<[string, number]>
  /** name and what differs from a contact that is due, has an address and never had a session */
  contacts?: Array<[string, Partial<Contact>?]>
  busy?: string[]
  bans?: Array<[string, number]>
  dialing?: number
  limits?: { maxInbound: number, maxOutbound: number }
  budget?: number
  /** ms before NOW */
  starvedFor?: number
  /** ms before NOW */
  lastReversalAgo?: number
  /** inbound peers this node could dial */
  redialable?: string[]
  drops?: string[]
  reservedDials?: string[]
  dials?: string[]
  starved?: boolean
  reversal?: string
}

function snapshotOf (row: Row): TickSnapshot {
  const contacts: Contact[] = (row.contacts ?? []).map(([name, fields]) => testContact(peer(name), fields))
  return {
    now: NOW,
    budget: row.budget ?? 10,
    limits: row.limits ?? { maxInbound: 10, maxOutbound: 10 },
    sessions: (row.sessions ?? []).map(([name, direction, since, reserved]) => ({ peerId: peer(name), direction, since, reserved: reserved === true })),
    dialing: row.dialing ?? 0,
    reserved: (row.reserved ?? []).map(([name, nextAttempt]) => ({ peerId: peer(name), nextAttempt })),
    busy: new Set((row.busy ?? []).map(name => peer(name).toString())),
    bans: new Map((row.bans ?? []).map(([name, ends]) => [peer(name).toString(), ends])),
    contacts: dialCandidates(contacts),
    starvedSince: row.starvedFor == null ? undefined : NOW - row.starvedFor,
    lastReversal: row.lastReversalAgo == null ? undefined : NOW - row.lastReversalAgo,
    redialable: (id) => (row.redialable ?? []).includes(nameOf(id))
  }
}

/** a node every other node of a small network dialed: its 3 inbound peers are all the peers it could dial (a is in a long backoff: a DHT-only bootnode, say) */
const hub: Row = {
  name: 'hub',
  limits: { maxInbound: 4, maxOutbound: 1 },
  sessions: [['in1', 'inbound', 300], ['in2', 'inbound', 100], ['in3', 'inbound', 200]],
  busy: ['in1', 'in2', 'in3'],
  contacts: [['in1', { lastSession: 300 }], ['in2', { lastSession: 100 }], ['in3', { lastSession: 200 }], ['a', { nextAttempt: NOW + 86_400_000 }]],
  redialable: ['in1', 'in2', 'in3'],
  starved: true
}

const table: Row[] = [
  { name: 'nothing to do' },

  // limits
  {
    name: 'dials the best contacts for the free outbound slots',
    limits: { maxInbound: 10, maxOutbound: 2 },
    contacts: [['a', { lastSession: 500 }], ['b'], ['c', { lastSession: 900 }]],
    dials: ['c', 'a']
  },
  {
    name: 'outbound sessions and dials in flight take slots; inbound sessions do not',
    limits: { maxInbound: 10, maxOutbound: 3 },
    sessions: [['out1', 'outbound', 1], ['in1', 'inbound', 2]],
    busy: ['out1', 'in1'],
    dialing: 1,
    contacts: [['a'], ['b']],
    dials: ['a']
  },
  {
    name: 'at the outbound target, no contact is dialed',
    limits: { maxInbound: 10, maxOutbound: 2 },
    sessions: [['out1', 'outbound', 1]],
    busy: ['out1'],
    dialing: 1,
    contacts: [['a']],
    dials: []
  },
  {
    name: 'the budget caps the dials of a tick',
    budget: 2,
    contacts: [['a'], ['b'], ['c']],
    dials: ['a', 'b']
  },
  {
    name: 'contacts not due, or without an address, wait',
    contacts: [['a', { nextAttempt: NOW + 1 }], ['b', { nextAttempt: NOW }], ['c', { multiaddrs: [] }]],
    dials: ['b']
  },

  // reserved peers
  {
    name: 'reserved peers that are down go first and spend the budget',
    budget: 3,
    reserved: [['r1', 0], ['r2', 0]],
    contacts: [['a'], ['b']],
    reservedDials: ['r1', 'r2'],
    dials: ['a']
  },
  {
    name: 'the budget stops reserved dials too',
    budget: 1,
    reserved: [['r1', 0], ['r2', 0]],
    contacts: [['a']],
    reservedDials: ['r1'],
    dials: []
  },
  {
    name: 'reserved peers are dialed outside the limits',
    limits: { maxInbound: 0, maxOutbound: 0 },
    reserved: [['r1', 0]],
    contacts: [['a']],
    reservedDials: ['r1'],
    dials: []
  },
  {
    name: 'a reserved peer waits out its own backoff',
    reserved: [['r1', NOW + 1], ['r2', NOW]],
    reservedDials: ['r2']
  },
  {
    name: 'a reserved peer with a session, a handshake or a dial in flight is not dialed',
    reserved: [['r1', 0], ['r2', 0], ['r3', 0]],
    sessions: [['r1', 'outbound', 1, true]],
    busy: ['r1', 'r2'],
    dialing: 0,
    reservedDials: ['r3']
  },
  {
    name: 'reserved peers and their sessions take no outbound slot',
    limits: { maxInbound: 10, maxOutbound: 1 },
    reserved: [['r1', NOW + 1]],
    sessions: [['r1', 'outbound', 1, true]],
    busy: ['r1'],
    contacts: [['a']],
    dials: ['a']
  },
  {
    name: 'a reserved peer is never dialed as a contact',
    reserved: [['r1', NOW + 1]],
    contacts: [['r1', { lastSession: 900 }], ['a']],
    dials: ['a']
  },

  // shedding
  {
    name: 'an inbound burst is shed to the limit, newest first, never a reserved peer',
    limits: { maxInbound: 2, maxOutbound: 10 },
    sessions: [['in1', 'inbound', 1], ['in2', 'inbound', 2], ['in3', 'inbound', 3], ['in4', 'inbound', 4], ['r1', 'inbound', 5, true]],
    busy: ['in1', 'in2', 'in3', 'in4', 'r1'],
    drops: ['in4', 'in3']
  },
  {
    name: 'outbound sessions over the limit are shed too, and leave no slot',
    limits: { maxInbound: 10, maxOutbound: 1 },
    sessions: [['out1', 'outbound', 1], ['out2', 'outbound', 3], ['out3', 'outbound', 2]],
    busy: ['out1', 'out2', 'out3'],
    contacts: [['a']],
    drops: ['out2', 'out3'],
    dials: []
  },
  {
    name: 'a budget of 0 dials nothing but still sheds',
    budget: 0,
    limits: { maxInbound: 0, maxOutbound: 10 },
    sessions: [['in1', 'inbound', 1]],
    busy: ['in1'],
    reserved: [['r1', 0]],
    contacts: [['a']],
    drops: ['in1']
  },

  // a starved node turns an inbound session around
  { ...hub, name: 'a node below target with nobody to dial is starved, but waits REVERSE_AFTER_MS before a reversal', starvedFor: 5_999 },
  { ...hub, name: 'starved for REVERSE_AFTER_MS: the oldest inbound session it could dial is turned around', starvedFor: 6_000, reversal: 'in2' },
  { ...hub, name: 'one reversal per REVERSE_INTERVAL_MS', starvedFor: 10_000, lastReversalAgo: 4_999 },
  { ...hub, name: 'a reversal REVERSE_INTERVAL_MS after the last', starvedFor: 10_000, lastReversalAgo: 5_000, reversal: 'in2' },
  { ...hub, name: 'never a peer it could not dial (no address, banned) nor a reserved one', starvedFor: 6_000, redialable: ['in1', 'r1'], sessions: [...hub.sessions ?? [], ['r1', 'inbound', 1, true]], reversal: 'in1' },
  { ...hub, name: 'no reversal while a contact it could dial is due within REVERSE_UNLESS_DUE_WITHIN_MS', starvedFor: 6_000, contacts: [...hub.contacts ?? [], ['b', { nextAttempt: NOW + 30_000 }]] },
  { ...hub, name: 'a contact due later, banned, busy or without an address is not waited for', starvedFor: 6_000, contacts: [...hub.contacts ?? [], ['b', { nextAttempt: NOW + 30_001 }], ['c', { nextAttempt: NOW + 1 }], ['d', { nextAttempt: NOW + 1, multiaddrs: [] }], ['out1', { nextAttempt: NOW + 1 }]], bans: [['c', NOW + 60_000]], busy: [...hub.busy ?? [], 'out1'], reversal: 'in2' },
  { ...hub, name: 'no reversal with fewer sessions than twice the target: too few peers for every node to reach it, only churn', starvedFor: 6_000, limits: { maxInbound: 4, maxOutbound: 2 }, sessions: [['in1', 'inbound', 300], ['in2', 'inbound', 100], ['in3', 'inbound', 200, true]] },
  { ...hub, name: 'two nodes hold one session: the one dialed in never turns it around', starvedFor: 60_000, sessions: [['in1', 'inbound', 300]], busy: ['in1'], contacts: [['in1', { lastSession: 300 }]] },
  { ...hub, name: 'not starved while a dial is in flight', starvedFor: 6_000, dialing: 1, starved: false },
  { ...hub, name: 'not starved when a contact can be dialed: it is dialed', starvedFor: 6_000, contacts: [...hub.contacts ?? [], ['b']], dials: ['b'], starved: false },
  { ...hub, name: 'not starved at the outbound target', starvedFor: 6_000, limits: { maxInbound: 4, maxOutbound: 0 }, starved: false },
  { ...hub, name: 'a DHT-only node (no limits) is never starved', starvedFor: 6_000, limits: { maxInbound: 0, maxOutbound: 0 }, drops: ['in1', 'in3', 'in2'], starved: false },
  { ...hub, name: 'not starved when the budget is spent on reserved peers', starvedFor: 6_000, budget: 1, reserved: [['r1', 0]], reservedDials: ['r1'], starved: false },

  // bans and busy peers
  {
    name: 'a banned contact is skipped, however good its record',
    contacts: [['a', { lastSession: 900 }], ['b']],
    bans: [['a', NOW + 1]],
    dials: ['b']
  },
  {
    name: 'a ban that has ended does not count',
    contacts: [['a', { lastSession: 900 }], ['b']],
    bans: [['a', NOW]],
    dials: ['a', 'b']
  },
  {
    name: 'busy contacts (a session, a handshake or a dial in flight, this node) are skipped',
    contacts: [['a', { lastSession: 900 }], ['b', { lastSession: 800 }], ['c']],
    busy: ['a', 'b'],
    dials: ['c']
  }
]

test('planTick: a table of ticks', () => {
  for (const row of table) {
    const plan = planTick(snapshotOf(row))
    assert.deepEqual({
      drops: plan.drops.map(d => nameOf(d.peerId)),
      reservedDials: plan.reservedDials.map(r => nameOf(r.peerId)),
      dials: plan.dials.map(c => nameOf(c.peerId)),
      reversal: plan.reversal == null ? undefined : nameOf(plan.reversal.peerId)
    }, {
      drops: row.drops ?? [],
      reservedDials: row.reservedDials ?? [],
      dials: row.dials ?? [],
      reversal: row.reversal
    }, row.name)
    if (row.starved != null) {
      assert.equal(plan.starved, row.starved, `${row.name}: starved`)
    }
  }
})

test('planTick: plans on its snapshot alone and leaves it as it was', () => {
  const row = table.find(r => r.name.startsWith('reserved peers that are down'))
  assert.ok(row != null)
  const snapshot = snapshotOf(row)
  const busy = [...snapshot.busy]
  const first = planTick(snapshot)
  const second = planTick(snapshot)
  assert.deepEqual(second, first)
  assert.deepEqual([...snapshot.busy], busy)
})

test('outboundLoad: outbound sessions and dials in flight, reserved peers aside', () => {
  const slot = (direction: 'inbound' | 'outbound', reserved = false): SessionSlot => ({ peerId: peer('a'), direction, since: 0, reserved })
  assert.equal(outboundLoad([], 0), 0)
  assert.equal(outboundLoad([slot('outbound'), slot('outbound', true), slot('inbound')], 2), 3)
})
