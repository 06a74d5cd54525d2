import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { after, describe, it } from 'node:test'
import { TestNetwork } from '../utils/nodes.js'
import { freePort } from '../utils/processes.js'
import { until } from './helpers.js'
import type { ChildProcess } from 'node:child_process'

const BIN = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url))
const CHAIN_ID = 'test-chain'
const TIMEOUT_MS = 10_000

interface Run {
  code: number
  stdout: string
  stderr: string
}

/** One `peergate <args>` run to its end */
async function peergate (...args: string[]): Promise<Run> {
  return peergateWithEnv({}, ...args)
}

/** `peergate` with these environment variables besides the test's own (none of PEERGATE_DATA_DIR unless given) */
async function peergateWithEnv (env: Record<string, string>, ...args: string[]): Promise<Run> {
  const { PEERGATE_DATA_DIR: _, ...inherited } = process.env
  return new Promise(resolve => {
    execFile(process.execPath, [BIN, ...args], { timeout: TIMEOUT_MS, env: { ...inherited, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err == null ? 0 : (typeof err.code === 'number' ? err.code : -1), stdout, stderr })
    })
  })
}

async function json (...args: string[]): Promise<any> {
  return jsonWithEnv({}, ...args)
}

async function jsonWithEnv (env: Record<string, string>, ...args: string[]): Promise<any> {
  const run = await peergateWithEnv(env, ...args, '--json')
  assert.equal(run.code, 0, `peergate ${args.join(' ')}: ${run.stderr}`)
  return JSON.parse(run.stdout)
}

/** Polls `peergate <args> --json` until `pick` finds something in its answer */
async function pollJson (args: string[], pick: (value: any) => any, timeoutMs = 20_000): Promise<any> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const found = pick(await json(...args))
    if (found != null) {
      return found
    }
    if (Date.now() > deadline) {
      throw new Error(`peergate ${args.join(' ')}: nothing found within ${timeoutMs} ms`)
    }
    await new Promise(resolve => setTimeout(resolve, 200))
  }
}

/** `text` matched literally in a RegExp */
function escape (text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}


/** `peergate start --json …` and its first stdout line, the ready event */
async function start (args: string[]): Promise<{ child: ChildProcess, ready: any, stderr: () => string }> {
  const child = spawn(process.execPath, [BIN, 'start', '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  const lines = createInterface({ input: child.stdout! })
  const timer = setTimeout(() => { child.kill('SIGKILL') }, TIMEOUT_MS)
  const [line] = await Promise.race([
    once(lines, 'line'),
    once(child, 'close').then(() => { throw new Error(`start exited before its ready line: ${stderr}`) })
  ]) as [string]
  clearTimeout(timer)
  return { child, ready: JSON.parse(line), stderr: () => stderr }
}

describe('peergate CLI against a running node', () => {
  const net = new TestNetwork()
  const children: ChildProcess[] = []
  after(async () => {
    for (const child of children) {
      if (child.exitCode == null && child.signalCode == null) {
        child.kill('SIGKILL')
      }
    }
    await net.cleanup()
  })

  it('start --api-port 0 → status, connect, peers, contacts → ban, bans, unban → SIGINT', async () => {
    const dataDir = await net.dir()
    const { child, ready } = await start(['--data-dir', dataDir, '--listen', '/ip4/127.0.0.1/tcp/0', '--chain-id', CHAIN_ID, '--api-port', '0'])
    children.push(child)
    assert.match(ready.api, /^http:\/\/127\.0\.0\.1:\d+$/)
    const api = ['--api', ready.api, '--data-dir', dataDir]

    const status = await json('status', ...api)
    assert.equal(status.peerId, ready.peerId)
    assert.equal(status.did, ready.did)
    assert.equal(status.chain.chainId, CHAIN_ID)

    const other = await net.node({ chain: { chainId: CHAIN_ID } })
    const connected = await json('connect', other.getMultiaddrs()[0].toString(), ...api)
    assert.equal(connected.peerId, other.peerId.toString())

    const peers = await json('peers', ...api)
    const peer = peers.find((p: any) => p.peerId === other.peerId.toString())
    assert.equal(peer?.role, 'outbound-session', JSON.stringify(peers))
    assert.equal(peer.did, other.did)

    const metrics = await fetch(`${ready.api}/metrics`)
    assert.equal(metrics.status, 200)
    assert.match(await metrics.text(), /^peergate_sessions\{direction="outbound"\} 1$/m)

    const contacts = await json('contacts', ...api)
    assert.ok(Array.isArray(contacts))

    const table = await peergate('peers', ...api)
    assert.equal(table.code, 0)
    assert.match(table.stdout, /^PEER +ROLE +DIALED BY/)
    const id = other.peerId.toString()
    assert.ok(table.stdout.includes(`${id.slice(0, 8)}…${id.slice(-6)}`), table.stdout)
    assert.ok(!table.stdout.includes(id), table.stdout)
    const wide = await peergate('peers', '--wide', ...api)
    assert.ok(wide.stdout.includes(id) && wide.stdout.includes(other.did), wide.stdout)

    const banned = await peergate('ban', other.did, '--for', '10m', ...api)
    assert.equal(banned.code, 0, banned.stderr)
    assert.match(banned.stdout, /^banned did:key:/)
    const bans = await json('bans', ...api)
    // a DID's ban also covers the peer id of its session
    assert.deepEqual(bans.map((b: any) => b.target).sort(), [other.did, other.peerId.toString()].sort())
    assert.ok(bans[0].until > Date.now() + 9 * 60_000 && bans[0].until <= Date.now() + 10 * 60_000)
    // the banned peer shows as banned in contacts, and its contact waits out the ban
    const bannedContact = (await json('contacts', ...api)).find((c: any) => c.peerId === other.peerId.toString())
    assert.ok(bannedContact?.bannedUntil > Date.now() + 9 * 60_000, JSON.stringify(bannedContact))
    assert.equal(bannedContact.backoffReason, 'BANNED')
    assert.ok(bannedContact.nextAttempt >= bannedContact.bannedUntil - 1_000)
    const contactsTable = await peergate('contacts', ...api)
    assert.match(contactsTable.stdout, /banned by this node until/)

    const unbanned = await peergate('unban', other.did, ...api)
    assert.equal(unbanned.code, 0, unbanned.stderr)
    assert.deepEqual(await json('bans', ...api), [])

    child.kill('SIGINT')
    const [code] = await once(child, 'close')
    assert.equal(code, 0)
  })

  it('commands fail clearly: no node, no token, bad input, bad duration', async () => {
    const dataDir = await net.dir()
    const closed = await freePort()
    const nobody = await peergate('status', '--api', `http://127.0.0.1:${closed}`)
    assert.equal(nobody.code, 1)
    assert.match(nobody.stderr, new RegExp(`no node answers at http://127\\.0\\.0\\.1:${closed} \\(ECONNREFUSED\\)`))
    assert.ok(!nobody.stderr.includes('    at '), nobody.stderr)

    const { child, ready } = await start(['--data-dir', dataDir, '--listen', '/ip4/127.0.0.1/tcp/0', '--chain-id', CHAIN_ID, '--api-port', '0'])
    children.push(child)
    const noToken = await peergate('unban', 'did:key:z6Mkx', '--api', ready.api, '--data-dir', await net.dir())
    assert.equal(noToken.code, 1)
    assert.match(noToken.stderr, /no API token at .*api-token/)

    const badPeer = await peergate('disconnect', 'nope', '--api', ready.api, '--data-dir', dataDir)
    assert.equal(badPeer.code, 1)
    assert.match(badPeer.stderr, /"peer" "nope" is not a peer id/)

    const badDuration = await peergate('ban', 'did:key:z6Mkx', '--for', 'forever', '--api', ready.api, '--data-dir', dataDir)
    assert.equal(badDuration.code, 2)
    assert.match(badDuration.stderr, /a duration is a positive whole number with a unit/)

    child.kill('SIGINT')
    await once(child, 'close')
  })

  it('backoff clear counts what it cleared; an unknown peer is an error (exit 1)', async () => {
    const dataDir = await net.dir()
    const { child, ready } = await start(['--data-dir', dataDir, '--listen', '/ip4/127.0.0.1/tcp/0', '--chain-id', CHAIN_ID, '--api-port', '0'])
    children.push(child)
    const api = ['--api', ready.api, '--data-dir', dataDir]

    const none = await peergate('backoff', 'clear', ...api)
    assert.equal(none.code, 0, none.stderr)
    assert.equal(none.stdout, 'no contact had a backoff: nothing cleared\n')

    const unknown = (await net.node()).peerId.toString()
    const missing = await peergate('backoff', 'clear', unknown, ...api)
    assert.equal(missing.code, 1)
    assert.equal(missing.stdout, '')
    assert.equal(missing.stderr, `peergate: ${unknown} is not a contact\n`)

    // a contact on another chain: connect fails, and the book backs it off
    const stranger = await net.node({ chain: { chainId: 'other-chain' } })
    const failed = await peergate('connect', stranger.getMultiaddrs()[0].toString(), ...api)
    assert.equal(failed.code, 1)
    assert.match(failed.stderr, /^peergate: handshake failed: WRONG_CHAIN, by (this node|the peer) at [a-z-]+: .+\n$/)
    child.kill('SIGINT')
    await once(child, 'close')
  })

  it('a clean stop at --log-level info logs no AbortError (a random walk in flight is stopped, not failed)', async () => {
    const dataDir = await net.dir()
    const child = spawn(process.execPath, [BIN, 'start', '--json', '--log-level', 'info', '--data-dir', dataDir, '--listen', '/ip4/127.0.0.1/tcp/0', '--chain-id', CHAIN_ID, '--api-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] })
    children.push(child)
    let stderr = ''
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
    const lines = createInterface({ input: child.stdout! })
    await once(lines, 'line')
    // the first random walk starts at once, and with an empty routing table it waits for its deadline
    await until('the API\'s log line', () => stderr.includes('peergate:api listening') ? true : undefined, TIMEOUT_MS)
    child.kill('SIGINT')
    const [code] = await once(child, 'close')
    assert.equal(code, 0, stderr)
    assert.doesNotMatch(stderr, /AbortError|    at /, stderr)
  })

  it('reserved add|list|remove and contacts add|remove at runtime; a runtime reserved peer survives a restart', async () => {
    const dataDir = await net.dir()
    const args = ['--data-dir', dataDir, '--listen', '/ip4/127.0.0.1/tcp/0', '--chain-id', CHAIN_ID, '--api-port', '0']
    let node = await start(args)
    children.push(node.child)
    const api = (): string[] => ['--api', node.ready.api, '--data-dir', dataDir]
    const b = await net.node({ chain: { chainId: CHAIN_ID } })
    const bAddr = b.getMultiaddrs()[0].toString()
    const bId = b.peerId.toString()
    const reservedWithSession = async (): Promise<any> => pollJson(['reserved', ...api()], (list: any[]) => list.find(p => p.peerId === bId && p.session === true))

    const added = await peergate('reserved', 'add', bAddr, ...api())
    assert.equal(added.code, 0, added.stderr)
    assert.equal(added.stdout, `reserved: ${bId}\n`)
    const reserved = await reservedWithSession()
    assert.deepEqual(reserved, { peerId: bId, multiaddrs: [bAddr.replace(`/p2p/${bId}`, '')], stored: true, session: true })
    const table = await peergate('reserved', 'list', ...api())
    assert.match(table.stdout, /^PEER +SESSION +STORED +ADDRESSES\n/)

    // a restart without --reserved: the data dir keeps it, and the node dials it again
    node.child.kill('SIGINT')
    assert.deepEqual(await once(node.child, 'close'), [0, null])
    node = await start(args)
    children.push(node.child)
    assert.equal((await reservedWithSession()).stored, true)

    // removed: an ordinary contact, its session kept
    const removed = await peergate('reserved', 'remove', bId, ...api())
    assert.equal(removed.code, 0, removed.stderr)
    assert.deepEqual(await json('reserved', ...api()), [])
    const contact = (await json('contacts', ...api())).find((c: any) => c.peerId === bId)
    // (the book keeps a contact's first source: the DHT may have met b first)
    assert.ok(contact?.multiaddrs.includes(bAddr.replace(`/p2p/${bId}`, '')), JSON.stringify(contact))
    assert.ok((await json('peers', ...api())).some((p: any) => p.peerId === bId && p.role === 'outbound-session'))
    const again = await peergate('reserved', 'remove', bId, ...api())
    assert.equal(again.code, 1)
    assert.equal(again.stderr, `peergate: ${bId} is not a reserved peer\n`)
    const noPeerId = await peergate('reserved', 'add', '/ip4/127.0.0.1/tcp/1', ...api())
    assert.equal(noPeerId.code, 1)
    assert.match(noPeerId.stderr, /^peergate: reserved peer address \/ip4\/127\.0\.0\.1\/tcp\/1 has no \/p2p\/<peer id>\n$/)

    // contacts: one at an address nobody answers at, so that no session or DHT walk brings it back after its removal
    const cId = (await net.node()).peerId.toString()
    const contactAdded = await peergate('contacts', 'add', `/ip4/127.0.0.1/tcp/${await freePort()}/p2p/${cId}`, ...api())
    assert.equal(contactAdded.code, 0, contactAdded.stderr)
    assert.equal(contactAdded.stdout, `contact added: ${cId}\n`)
    assert.equal((await json('contacts', ...api())).find((x: any) => x.peerId === cId)?.source, 'manual')
    const contactRemoved = await peergate('contacts', 'remove', cId, ...api())
    assert.equal(contactRemoved.code, 0, contactRemoved.stderr)
    assert.equal((await json('contacts', ...api())).find((x: any) => x.peerId === cId), undefined)
    const notContact = await peergate('contacts', 'remove', (await net.node()).peerId.toString(), ...api())
    assert.equal(notContact.code, 1)
    assert.match(notContact.stderr, /is not a contact\n$/)

    // the removal is kept too: after another restart b is not reserved
    node.child.kill('SIGINT')
    await once(node.child, 'close')
    node = await start(args)
    children.push(node.child)
    assert.deepEqual(await json('reserved', ...api()), [])
    node.child.kill('SIGINT')
    await once(node.child, 'close')
  })

  it('start fails clearly when the API port is taken', async () => {
    const dataDir = await net.dir()
    const { child, ready } = await start(['--data-dir', dataDir, '--listen', '/ip4/127.0.0.1/tcp/0', '--chain-id', CHAIN_ID, '--api-port', '0'])
    children.push(child)
    const port = new URL(ready.api).port
    const second = await peergate('start', '--data-dir', await net.dir(), '--listen', '/ip4/127.0.0.1/tcp/0', '--api-port', port)
    assert.equal(second.code, 1)
    assert.match(second.stderr, new RegExp(`could not start the API on 127\\.0\\.0\\.1 port ${port}: .*EADDRINUSE.*--no-api`))
    child.kill('SIGINT')
    await once(child, 'close')
  })

  it('two nodes without API port flags: each subcommand finds its node from --data-dir or PEERGATE_DATA_DIR; --api wins; a stopped node\'s file is gone, a killed one\'s is called stale', async () => {
    const dir1 = await net.dir()
    const dir2 = await net.dir()
    const one = await start(['--data-dir', dir1, '--listen', '/ip4/127.0.0.1/tcp/0', '--chain-id', CHAIN_ID])
    children.push(one.child)
    const two = await start(['--data-dir', dir2, '--listen', '/ip4/127.0.0.1/tcp/0', '--chain-id', CHAIN_ID, '--bootstrap', one.ready.multiaddrs[0]])
    children.push(two.child)
    assert.notEqual(one.ready.api, two.ready.api)
    assert.equal((await readFile(join(dir2, 'api-url'), 'utf8')).trim(), two.ready.api)

    const peers = await until('the session in peers --data-dir', async () => {
      const list = await json('peers', '--data-dir', dir2)
      return list.some((p: any) => p.peerId === one.ready.peerId && p.role === 'outbound-session') ? list : undefined
    })
    assert.ok(peers.length > 0)
    assert.equal((await jsonWithEnv({ PEERGATE_DATA_DIR: dir1 }, 'status')).peerId, one.ready.peerId)
    assert.equal((await json('status', '--data-dir', dir2)).peerId, two.ready.peerId)
    const health = await fetch(`${two.ready.api}/health`)
    assert.equal(health.status, 200)
    assert.equal((await health.json()).status, 'started')
    // --api wins over the data dir's file (the token still comes from the data dir)
    assert.equal((await json('status', '--data-dir', dir2, '--api', one.ready.api)).peerId, one.ready.peerId)
    const cleared = await peergate('backoff', 'clear', '--data-dir', dir2)
    assert.equal(cleared.code, 0, cleared.stderr)

    two.child.kill('SIGINT')
    assert.deepEqual(await once(two.child, 'close'), [0, null])
    await assert.rejects(readFile(join(dir2, 'api-url')), { code: 'ENOENT' })
    const stopped = await peergate('peers', '--data-dir', dir2)
    assert.equal(stopped.code, 1)
    assert.match(stopped.stderr, new RegExp(`no node running with data dir ${escape(dir2)} \\(no ${escape(join(dir2, 'api-url'))}`))

    one.child.kill('SIGKILL')
    await once(one.child, 'close')
    const stale = await peergate('status', '--data-dir', dir1)
    assert.equal(stale.code, 1)
    assert.match(stale.stderr, new RegExp(`no node running with data dir ${escape(dir1)} \\(stale api file ${escape(join(dir1, 'api-url'))}: nothing answers at ${escape(one.ready.api)}, ECONNREFUSED`))
    assert.ok(!stale.stderr.includes('    at '), stale.stderr)
  })

  it('--metrics-port serves GET /metrics alone on a listener of its own, even without the API; the API is not reachable there', async () => {
    const dataDir = await net.dir()
    const { child, ready } = await start(['--data-dir', dataDir, '--listen', '/ip4/127.0.0.1/tcp/0', '--chain-id', CHAIN_ID, '--no-api', '--metrics-port', '0'])
    children.push(child)
    assert.equal(ready.api, undefined)
    assert.match(ready.metrics, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/)
    const metrics = await fetch(ready.metrics)
    assert.equal(metrics.status, 200)
    assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain/)
    const text = await metrics.text()
    assert.match(text, /^peergate_sessions\{direction="outbound"\} 0$/m)
    assert.match(text, /^peergate_build_info\{.*\} 1$/m)
    const origin = new URL(ready.metrics).origin
    for (const path of ['/status', '/health', '/', '/peers']) {
      assert.equal((await fetch(`${origin}${path}`)).status, 404, path)
    }
    assert.equal((await fetch(`${origin}/connect`, { method: 'POST', body: '{}' })).status, 404)
    assert.equal((await fetch(ready.metrics, { method: 'POST', body: '{}' })).status, 405)
    child.kill('SIGINT')
    assert.deepEqual(await once(child, 'close'), [0, null])
  })

  it('--api-host other than loopback warns; the data dir\'s URL is the loopback one; --metrics-host without --metrics-port is a usage error', async () => {
    const dataDir = await net.dir()
    const { child, ready, stderr } = await start(['--data-dir', dataDir, '--listen', '/ip4/127.0.0.1/tcp/0', '--chain-id', CHAIN_ID, '--api-host', '0.0.0.0'])
    children.push(child)
    assert.match(ready.api, /^http:\/\/0\.0\.0\.0:\d+$/)
    // stderr is another pipe: the warning, written before the ready line, may arrive after it
    await until('the warning', () => /peergate: warning: the status API listens on 0\.0\.0\.0 \(--api-host\), beyond this machine/.test(stderr()) ? true : undefined)
    const port = new URL(ready.api).port
    assert.equal((await readFile(join(dataDir, 'api-url'), 'utf8')).trim(), `http://127.0.0.1:${port}`)
    assert.equal((await json('status', '--data-dir', dataDir)).peerId, ready.peerId)
    child.kill('SIGINT')
    assert.deepEqual(await once(child, 'close'), [0, null])

    const quiet = await start(['--data-dir', await net.dir(), '--listen', '/ip4/127.0.0.1/tcp/0', '--chain-id', CHAIN_ID, '--api-host', '127.0.0.2'])
    children.push(quiet.child)
    assert.match(quiet.ready.api, /^http:\/\/127\.0\.0\.2:\d+$/)
    quiet.child.kill('SIGINT')
    await once(quiet.child, 'close')

    const bad = await peergate('start', '--data-dir', await net.dir(), '--metrics-host', '0.0.0.0')
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /--metrics-host needs --metrics-port/)
  })
})
