/**
 * A child process for the kill -9 test (test/node/kill-restart.test.ts): a
 * peergate node on a LevelDB data dir, with two peers of its own, doing one
 * thing after another until it is killed. It prints one JSON object per
 * stdout line, written synchronously (stdout is a pipe): a line is in the
 * pipe, for the parent to read even after the kill, once `write` returns.
 *
 * It loads its modules, then waits for a line on stdin before it opens the
 * data dir: the test starts the next run while the last one still works, and
 * lets it go once the last one is dead.
 *
 * - `{"phase":"start"}` before the node opens its data dir
 * - `{"opened":{peerId, did, contacts, bans}}` once it has: what it loaded
 * - `{"phase":P, "target"?}` before each step, `{"done":P}` after it, P one of
 *   `handshake` (a session opens, either side dialing), `status` (a status
 *   round, either side asking), `goodbye` (a session ends with a Goodbye,
 *   either side saying it), `contacts` (contacts added and backed off),
 *   `ban` and `unban` (of targets that are not its peers)
 * - `{"contact":id}` once a contact's add has resolved (it is written),
 *   `{"ban":target,"until":ms}` and `{"unban":target}` once those resolved
 * - `{"failed":P,"error":text}` after a step that failed (a timeout on a busy
 *   machine, say) instead of `done`: the next step follows
 *
 * argv: data dir, seed.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { MemoryDatastore } from 'datastore-core'
import { LocalReason, createPeerNode } from '../../src/index.js'
import { seededRandom } from './random.js'
import type { PeerNode } from '../../src/index.js'
import type { PeerId } from '@libp2p/interface'

const [dataDir, seedText] = process.argv.slice(2)
const random = seededRandom(Number(seedText))
const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)]

function say (line: unknown): void {
  process.stdout.write(JSON.stringify(line) + '\n')
}

const options = {
  listen: ['/ip4/127.0.0.1/tcp/0'],
  chain: { chainId: 'test-chain' },
  dial: { autoDial: false },
  discovery: false as const,
  connectionManager: { inboundConnectionThreshold: Infinity }
}

await new Promise(resolve => process.stdin.once('data', resolve))
process.stdin.pause()
say({ phase: 'start' })
const node = await createPeerNode({ ...options, dataDir })
say({
  opened: {
    peerId: node.peerId.toString(),
    did: node.did,
    contacts: node.contacts().map(c => c.peerId.toString()),
    bans: Object.fromEntries(node.bans())
  }
})

// its peers keep nothing: each run meets two new ones
const peers: PeerNode[] = []
for (let i = 0; i < 2; i++) {
  peers.push(await createPeerNode({ ...options, datastore: new MemoryDatastore() }))
}
const bans = new Set(node.bans().keys())

async function newPeerId (): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

/** resolves once the node has seen the session with `peer` end */
async function closed (peer: PeerId): Promise<void> {
  if (node.session(peer) == null) {
    return
  }
  await new Promise<void>(resolve => {
    const listener = (evt: CustomEvent<{ session: { peerId: PeerId } }>): void => {
      if (evt.detail.session.peerId.equals(peer)) {
        node.removeEventListener('session:close', listener)
        resolve()
      }
    }
    node.addEventListener('session:close', listener)
  })
}

const steps = {
  async handshake (): Promise<void> {
    const peer = pick(peers.filter(p => node.session(p.peerId) == null))
    if (random() < 0.5) {
      await node.connect(peer.getMultiaddrs()[0])
    } else {
      await peer.connect(node.getMultiaddrs()[0])
      // the responder's session opens before the initiator's last message is read
      await node.libp2p.services.sessions.waitForSession(peer.peerId, { signal: AbortSignal.timeout(5_000) })
    }
  },
  async status (): Promise<void> {
    const peer = pick(peers.filter(p => node.session(p.peerId) != null))
    if (random() < 0.5) {
      await node.refreshStatus(peer.peerId)
    } else {
      await peer.refreshStatus(node.peerId)
    }
  },
  async goodbye (): Promise<void> {
    const peer = pick(peers.filter(p => node.session(p.peerId) != null))
    const ended = closed(peer.peerId)
    if (random() < 0.5) {
      await node.disconnect(peer.peerId)
    } else {
      await peer.disconnect(node.peerId)
    }
    await ended
  },
  async contacts (): Promise<void> {
    for (let i = 0; i < 5; i++) {
      const peerId = await newPeerId()
      await node.addContact(`/ip4/127.0.0.1/tcp/${1024 + Math.floor(random() * 60_000)}/p2p/${peerId.toString()}`)
      say({ contact: peerId.toString() })
      await node.libp2p.services.addressBook.recordOutcome(peerId, LocalReason.DIAL_FAILED)
    }
  }
}

for (;;) {
  const sessions = peers.filter(p => node.session(p.peerId) != null).length
  const choices: string[] = ['contacts', 'ban']
  if (sessions < peers.length) {
    choices.push('handshake')
  }
  if (sessions > 0) {
    choices.push('status', 'goodbye')
  }
  if (bans.size > 0) {
    choices.push('unban')
  }
  const phase = pick(choices)
  try {
    await step(phase)
    say({ done: phase })
  } catch (err: any) {
    say({ failed: phase, error: String(err?.message ?? err) })
  }
}

async function step (phase: string): Promise<void> {
  if (phase === 'ban') {
    // a peer id or a DID, for a day to a week: none expires during the test
    const target = random() < 0.5 ? (await newPeerId()).toString() : `did:key:z6Mk${Math.floor(random() * 2 ** 48).toString(36)}`
    say({ phase, target })
    await node.ban(target, 86_400_000 * (1 + Math.floor(random() * 7)))
    bans.add(target)
    say({ ban: target, until: node.banExpiry(target) })
  } else if (phase === 'unban') {
    const target = pick([...bans])
    say({ phase, target })
    await node.unban(target)
    bans.delete(target)
    say({ unban: target })
  } else {
    say({ phase })
    await steps[phase as keyof typeof steps]()
  }
}
