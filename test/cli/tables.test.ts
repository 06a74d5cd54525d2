import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { formatBans, formatContacts, formatPeers, shortDid, shortPeerId } from '../../src/cli/tables.js'
import type { PeerView } from '../../src/index.js'

const PEER = '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'
const DID = 'did:key:z6MkoFKs9mbSAoaiuArUsPLTKbhnxzkddDbACfeC2PzwQAbe'

describe('tables', () => {
  it('shortens peer ids and DIDs, and leaves short ones alone', () => {
    const cases: Array<[(value: string) => string, string, string]> = [
      [shortPeerId, PEER, '12D3KooW…CVe2Xo'],
      [shortPeerId, 'QmShort', 'QmShort'],
      [shortPeerId, '1234567890123456', '1234567890123456'],
      [shortDid, DID, 'did:key:z6Mk…QAbe'],
      [shortDid, 'did:web:example.com', 'did:web:example.com'],
      [shortDid, 'did:example:123456789abcdefghi', 'did:example:1234…fghi'],
      [shortDid, 'not a did', 'not a did']
    ]
    for (const [shorten, value, expected] of cases) {
      assert.equal(shorten(value), expected, value)
    }
  })

  it('peers is about 130 columns by default (it was about 300), --wide prints every id whole and the agent', () => {
    const peer: PeerView = {
      peerId: PEER,
      connectionId: 'c1',
      did: DID,
      role: 'outbound-session',
      direction: 'outbound',
      remoteAddr: '/ip4/127.0.0.1/tcp/40123',
      agent: 'js-libp2p/3.3.11 UserAgent=v24.11.1',
      head: { height: '1234', hash: 'ab' },
      since: Date.UTC(2026, 11, 3, 8, 0, 0),
      rttMs: 3
    }
    const short = formatPeers([peer])
    const widest = Math.max(...short.split('\n').map(line => line.length))
    assert.ok(widest <= 130, `${widest} columns:\n${short}`)
    assert.ok(short.includes('12D3KooW…CVe2Xo') && short.includes('did:key:z6Mk…QAbe') && short.includes('3 ms'), short)
    assert.ok(!short.includes(PEER) && !short.includes(DID))
    const wide = formatPeers([peer], { wide: true })
    assert.ok(wide.includes(PEER) && wide.includes(DID) && wide.includes('UserAgent=v24.11.1'), wide)
  })

  it('a remote address loses the /p2p/ tail the PEER column already says, unless wide', () => {
    const view: PeerView = { peerId: PEER, connectionId: 'c', role: 'inbound-session', direction: 'inbound', remoteAddr: `/ip4/127.0.0.1/tcp/39716/p2p/${PEER}`, since: 0 }
    assert.match(formatPeers([view]).split('\n')[1], / \/ip4\/127\.0\.0\.1\/tcp\/39716 /)
    assert.ok(formatPeers([view], { wide: true }).includes(`/tcp/39716/p2p/${PEER}`))
  })

  it('DIALED BY says who opened the connection, ROLE whose choice the session was', () => {
    const base = { connectionId: 'c', remoteAddr: '/ip4/127.0.0.1/tcp/1', since: 0 }
    const lines = formatPeers([
      { ...base, peerId: PEER, role: 'inbound-session', direction: 'outbound' },
      { ...base, peerId: PEER, role: 'outbound-session', direction: 'inbound' }
    ]).split('\n')
    assert.match(lines[0], /^PEER +ROLE +DIALED BY +DID/)
    assert.match(lines[1], /inbound-session +this node /)
    assert.match(lines[2], /outbound-session +the peer /)
  })

  it('contacts and bans shorten too, unless wide', () => {
    const contact = { peerId: PEER, did: DID, multiaddrs: [], source: 'manual', failures: 0, nextAttempt: 0, firstSeen: 0, lastSeen: 0 }
    assert.ok(formatContacts([contact]).includes('12D3KooW…CVe2Xo  manual'))
    assert.ok(formatContacts([contact], Date.now(), { wide: true }).includes(PEER))
    const bans = [{ target: DID, until: 0 }, { target: PEER, until: 0 }]
    assert.deepEqual(formatBans(bans).split('\n').slice(1, 3).map(line => line.split(' ')[0]), ['did:key:z6Mk…QAbe', '12D3KooW…CVe2Xo'])
    assert.ok(formatBans(bans, { wide: true }).includes(DID))
  })
})

describe('peers with a score', () => {
  it('shows SCORE when a peer has one, and the last report in the wide table', () => {
    const base = { connectionId: 'c', role: 'outbound-session' as const, direction: 'outbound' as const, remoteAddr: '/ip4/127.0.0.1/tcp/1', since: 0 }
    const peers: PeerView[] = [
      { ...base, peerId: 'peer-a', score: -21.73, scoreEvents: [{ at: 0, action: 'HIGH_TOLERANCE', reason: 'status:failed', score: -21.73, outcome: 'disconnect' }] },
      { ...base, peerId: 'peer-b' }
    ]
    const short = formatPeers(peers)
    assert.match(short.split('\n')[0], / SCORE$/)
    assert.match(short.split('\n')[1], / -21\.73$/)
    const wide = formatPeers(peers, { wide: true })
    assert.ok(wide.includes('status:failed (HIGH_TOLERANCE) → disconnect'), wide)
    assert.ok(!formatPeers([{ ...base, peerId: 'peer-b' }]).includes('SCORE'))
  })
})
