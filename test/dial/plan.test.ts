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
  drops?: string[]
  reservedDials?: string[]
  dials?: string[]
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
    contacts: dialCandidates(contacts)
  }
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
      dials: plan.dials.map(c => nameOf(c.peerId))
    }, {
      drops: row.drops ?? [],
      reservedDials: row.reservedDials ?? [],
      dials: row.dials ?? []
    }, row.name)
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
