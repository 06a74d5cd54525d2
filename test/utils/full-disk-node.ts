/**
 * A child process for the disk-full test (test/node/disk-full.test.ts): a
 * peergate node on a LevelDB data dir that, with `write`, adds contacts as
 * fast as it can. The test runs it under a file size limit (RLIMIT_FSIZE), so
 * that LevelDB's log stops growing as on a full disk: its writes fail with
 * EFBIG (the limit's SIGXFSZ is ignored here, as a full disk sends none).
 * One JSON object per stdout line:
 *
 * - `{"ready":{multiaddr, contacts}}` once the node runs: its address and the
 *   contacts it loaded
 * - `{"contact":id, "unsaved":n, "sessions":n}` once a contact's add
 *   resolved, with the contacts the book holds unsaved and the sessions
 * - `{"storage":"failing"|"ok", "error"?}` when writes begin to fail, and
 *   when they work again
 *
 * argv: data dir, `write` or nothing.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { createPeerNode } from '../../src/index.js'

process.on('SIGXFSZ', () => {})

const [dataDir, mode] = process.argv.slice(2)

function say (line: unknown): void {
  process.stdout.write(JSON.stringify(line) + '\n')
}

const node = await createPeerNode({
  dataDir,
  listen: ['/ip4/127.0.0.1/tcp/0'],
  chain: { chainId: 'test-chain' },
  dial: { autoDial: false },
  discovery: false,
  connectionManager: { inboundConnectionThreshold: Infinity }
})
node.addEventListener('storage:failing', (evt) => { say({ storage: 'failing', error: evt.detail.error }) })
node.addEventListener('storage:ok', () => { say({ storage: 'ok' }) })
say({ ready: { multiaddr: node.getMultiaddrs()[0].toString(), contacts: node.contacts().map(c => c.peerId.toString()) } })

const book = node.libp2p.services.addressBook as unknown as { unsavedCount: number }
for (let i = 0; mode === 'write'; i++) {
  const peerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  await node.addContact(`/ip4/127.0.0.1/tcp/${1024 + (i % 60_000)}/p2p/${peerId.toString()}`)
  say({ contact: peerId.toString(), unsaved: book.unsavedCount, sessions: node.sessions().length })
  // a breath between writes: the session and the test's reads go on
  await new Promise(resolve => setTimeout(resolve, 1))
}
