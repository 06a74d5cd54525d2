import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { chmod, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { after, test } from 'node:test'
import { multiaddr } from '@multiformats/multiaddr'
import { version as libp2pVersion } from 'libp2p/version'
import { TestNetwork, closedPort } from '../utils/nodes.js'
import type { ChildProcess } from 'node:child_process'

const BIN = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url))
const CHAIN_ID = 'cli-test'
const TIMEOUT_MS = 10_000

interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
}

/** A `peergate` process with its stdout lines and stderr text */
class CliProcess {
  readonly child: ChildProcess
  readonly lines: string[] = []
  stderr = ''
  readonly exited: Promise<Exit>
  private exit?: Exit
  private readonly waiters = new Set<() => void>()

  constructor (args: string[], env: Record<string, string> = {}, cwd?: string) {
    this.child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env }, cwd })
    createInterface({ input: this.child.stdout! }).on('line', line => {
      this.lines.push(line)
      this.wake()
    })
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { this.stderr += chunk })
    this.exited = new Promise<Exit>(resolve => {
      this.child.on('close', (code, signal) => {
        this.exit = { code, signal }
        this.wake()
        resolve(this.exit)
      })
    })
  }

  /** The first stdout line that passes `match`, waiting for it if need be */
  async line (what: string, match: (line: string, index: number) => boolean): Promise<string> {
    return this.until(what, () => this.lines.find(match))
  }

  /** The first JSON event line named `event` that passes `match` */
  async event (event: string, match: (value: any) => boolean = () => true): Promise<any> {
    const parsed = await this.line(`a ${event} event`, line => {
      const value = parseJson(line)
      return value?.event === event && match(value)
    })
    return JSON.parse(parsed)
  }

  async exitWithin (what: string): Promise<Exit> {
    return this.until(what, () => this.exit)
  }

  private async until<T> (what: string, check: () => T | undefined): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const attempt = (): void => {
        const found = check()
        if (found !== undefined) {
          finish()
          resolve(found)
        } else if (this.exit != null) {
          finish()
          reject(new Error(`process exited (${JSON.stringify(this.exit)}) before ${what}\n${this.output()}`))
        }
      }
      const timer = setTimeout(() => {
        finish()
        reject(new Error(`no ${what} within ${TIMEOUT_MS} ms\n${this.output()}`))
      }, TIMEOUT_MS)
      const finish = (): void => {
        clearTimeout(timer)
        this.waiters.delete(attempt)
      }
      this.waiters.add(attempt)
      attempt()
    })
  }

  private wake (): void {
    for (const waiter of [...this.waiters]) {
      waiter()
    }
  }

  private output (): string {
    return `stdout:\n${this.lines.join('\n')}\nstderr:\n${this.stderr}`
  }
}

function parseJson (line: string): any {
  try {
    return JSON.parse(line)
  } catch {
    return undefined
  }
}

const net = new TestNetwork()
const processes: CliProcess[] = []

/**
 * A `peergate` process; a `start` without an API flag gets `--no-api`, so that
 * nodes started together do not contend for the API's default port
 * (test/api/cli.test.ts covers the API)
 */
function cli (...args: string[]): CliProcess {
  return cliWithEnv({}, ...args)
}

/** `cli` with these environment variables besides the test's own */
function cliWithEnv (env: Record<string, string>, ...args: string[]): CliProcess {
  return cliIn(undefined, env, ...args)
}

/** `cliWithEnv` run from the working directory `cwd` (default: the test's) */
function cliIn (cwd: string | undefined, env: Record<string, string>, ...args: string[]): CliProcess {
  const apiFlag = args.includes('--api-port') || args.includes('--no-api')
  const proc = new CliProcess(args.includes('start') && !apiFlag ? [...args, '--no-api'] : args, env, cwd)
  processes.push(proc)
  return proc
}

async function startJson (dataDir: string): Promise<{ proc: CliProcess, ready: any }> {
  const proc = cli('start', '--json', '--data-dir', dataDir, '--listen', '/ip4/127.0.0.1/tcp/0', '--chain-id', CHAIN_ID)
  const first = await proc.line('a first stdout line', (_, index) => index === 0)
  return { proc, ready: JSON.parse(first) }
}

async function stop (proc: CliProcess, signal: NodeJS.Signals): Promise<Exit> {
  proc.child.kill(signal)
  return proc.exitWithin(`an exit after ${signal}`)
}

after(async () => {
  for (const proc of processes) {
    if (proc.child.exitCode == null && proc.child.signalCode == null) {
      proc.child.kill('SIGKILL')
    }
  }
  await Promise.all(processes.map(async proc => proc.exited))
  await net.cleanup()
})

test('start --json prints ready first, then session events, and stops on SIGTERM', async () => {
  const { proc, ready } = await startJson(await net.dir())
  assert.deepEqual(Object.keys(ready), ['event', 'peerId', 'did', 'chainId', 'genesis', 'multiaddrs'])
  assert.match(ready.genesis, /^0x[0-9a-f]{64}$/)
  assert.equal(ready.event, 'ready')
  assert.match(ready.peerId, /^12D3Koo/)
  assert.match(ready.did, /^did:key:z6Mk/)
  assert.equal(ready.chainId, CHAIN_ID)
  assert.ok(ready.multiaddrs.length > 0)
  assert.ok(ready.multiaddrs.every((ma: string) => ma.startsWith('/ip4/127.0.0.1/tcp/') && ma.endsWith(`/p2p/${ready.peerId}`)))

  const node = await net.node({ chain: { chainId: CHAIN_ID } })
  const session = await node.connect(multiaddr(ready.multiaddrs[0]))
  assert.equal(session.did, ready.did)
  assert.equal(session.peerId.toString(), ready.peerId)

  const open = await proc.event('session:open', value => value.peerId === node.peerId.toString())
  assert.deepEqual(open, { event: 'session:open', peerId: node.peerId.toString(), did: node.did, direction: 'inbound' })

  const stranger = await net.node({ chain: { chainId: 'another-chain' } })
  await assert.rejects(stranger.connect(multiaddr(ready.multiaddrs[0])))
  const reject = await proc.event('session:reject', value => value.peerId === stranger.peerId.toString())
  assert.deepEqual(Object.keys(reject), ['event', 'peerId', 'reason', 'side', 'direction', 'message', 'did', 'chainId'])
  assert.equal(reject.reason, 'WRONG_CHAIN')
  assert.equal(reject.chainId, 'another-chain', 'what the peer\'s hello said')
  assert.equal(reject.direction, 'inbound')
  assert.ok(['local', 'remote'].includes(reject.side))
  assert.equal(typeof reject.message, 'string')

  const exit = await stop(proc, 'SIGTERM')
  assert.deepEqual(exit, { code: 0, signal: null })
  assert.deepEqual(JSON.parse(proc.lines[proc.lines.length - 1]), { event: 'stopped' })
  const close = await proc.event('session:close')
  assert.deepEqual(close, { event: 'session:close', peerId: node.peerId.toString(), did: node.did, reason: 'SHUTDOWN', side: 'local' })
  assert.ok(proc.lines.every(line => parseJson(line) != null), 'every stdout line is JSON')
  assert.equal(proc.stderr, '')
})

test('--status-interval prints the session and connection counts', async () => {
  const proc = cli('start', '--json', '--data-dir', await net.dir(), '--listen', '/ip4/127.0.0.1/tcp/0', '--chain-id', CHAIN_ID, '--status-interval', '1', '--max-peers', '9')
  const ready = JSON.parse(await proc.line('ready', (_, index) => index === 0))
  const node = await net.node({ chain: { chainId: CHAIN_ID } })
  await node.connect(multiaddr(ready.multiaddrs[0]))
  const status = await proc.event('status', value => value.sessions.inbound === 1)
  assert.deepEqual(status.sessions, { outbound: 0, inbound: 1, reserved: 0, targetOutbound: 3, maxInbound: 6, maxInboundPerIp: 4, ipLimitExempt: [] })
  assert.deepEqual(Object.keys(status.connections).sort(), ['auxiliary', 'handshaking', 'inbound-session', 'outbound-session'])
  assert.equal(status.connections['inbound-session'], 1)
  assert.equal(status.contacts, 1, 'the inbound peer became a contact')
  assert.deepEqual(await stop(proc, 'SIGTERM'), { code: 0, signal: null })
})

test('a restart on the same data dir keeps the peer id and the DID', async () => {
  const dataDir = await net.dir()
  const first = await startJson(dataDir)
  assert.deepEqual(await stop(first.proc, 'SIGTERM'), { code: 0, signal: null })
  const second = await startJson(dataDir)
  assert.equal(second.ready.peerId, first.ready.peerId)
  assert.equal(second.ready.did, first.ready.did)
  assert.deepEqual(await stop(second.proc, 'SIGTERM'), { code: 0, signal: null })
})

test('without --json it prints readable lines, each after its ISO time, and stops on SIGINT', async () => {
  const proc = cli('start', '--data-dir', await net.dir(), '--listen', '/ip4/127.0.0.1/tcp/0', '--chain-id', CHAIN_ID)
  await proc.line('a listening line', line => / listening: \/ip4\/127\.0\.0\.1\/tcp\//.test(line))
  assert.deepEqual(await stop(proc, 'SIGINT'), { code: 0, signal: null })
  const stamped = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (.*)$/
  for (const line of proc.lines) {
    const time = stamped.exec(line)?.[1]
    assert.ok(time != null && Math.abs(Date.parse(time) - Date.now()) < 60_000, `no ISO time at the start of ${JSON.stringify(line)}`)
  }
  const lines = proc.lines.map(line => stamped.exec(line)![2])
  assert.match(lines[0], /^peer id: +12D3Koo/)
  const listening = lines.find(line => line.startsWith('listening: /ip4/127.0.0.1/tcp/'))!
  assert.ok(listening.endsWith(`/p2p/${lines[0].split(/ +/).pop() ?? ''}`))
  assert.ok(lines.some(line => /^did: +did:key:/.test(line)))
  assert.ok(lines.some(line => line === `chain id:  ${CHAIN_ID}`))
  assert.ok(lines.some(line => /^genesis: +0x[0-9a-f]{64}$/.test(line)))
  assert.equal(lines[lines.length - 1], 'stopped')
})

test('--log-level info sends peergate\'s debug namespaces to stderr; a bad level is a usage error', async () => {
  const proc = cli('--log-level', 'info', 'start', '--json', '--data-dir', await net.dir(), '--listen', '/ip4/127.0.0.1/tcp/0', '--chain-id', CHAIN_ID)
  await proc.event('ready')
  assert.deepEqual(await stop(proc, 'SIGINT'), { code: 0, signal: null })
  assert.match(proc.stderr, /peergate:addressbook loaded 0 contacts/)
  assert.doesNotMatch(proc.stderr, /peergate:\S+:trace /)
  assert.ok(proc.lines.every(line => parseJson(line) != null), 'logs stay off stdout')

  const after = cli('start', '--log-level', 'error', '--json', '--data-dir', await net.dir(), '--listen', '/ip4/127.0.0.1/tcp/0', '--chain-id', CHAIN_ID)
  await after.event('ready')
  assert.deepEqual(await stop(after, 'SIGINT'), { code: 0, signal: null })
  assert.doesNotMatch(after.stderr, /peergate:addressbook loaded/, 'the level also works after the command')

  const bad = cli('--log-level', 'loud', 'start')
  assert.deepEqual(await bad.exitWithin('an exit'), { code: 2, signal: null })
  assert.match(bad.stderr, /argument 'loud' is invalid. Allowed choices are silent, error, info, debug, trace/)
})

test('--log-format json --log-file: every line of the file is one JSON object with time, level, component and message, the debug namespaces\' and the CLI\'s', async () => {
  const dir = await net.dir()
  const logFile = join(dir, 'node.log')
  await writeFile(logFile, '{"time":"2026-01-01T00:00:00.000Z","level":"info","component":"earlier","message":"an earlier run"}\n')
  // a bootstrap peer nobody answers for: a warning
  const stranger = (await net.node()).peerId.toString()
  const proc = cli('--log-level', 'info', '--log-format', 'json', '--log-file', logFile, 'start', '--json', '--data-dir', join(dir, 'data'), '--listen', '/ip4/127.0.0.1/tcp/0', '--chain-id', CHAIN_ID, '--bootstrap', `/ip4/127.0.0.1/tcp/${await closedPort()}/p2p/${stranger}`)
  const ready = await proc.event('ready')
  assert.equal(ready.level, 'info')
  assert.equal(ready.component, 'peergate:cli')
  assert.match(ready.message, /^peer id: +12D3KooW/)
  for (let i = 0; i < 100 && !proc.stderr.includes('"level":"warn"'); i++) {
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  assert.deepEqual(await stop(proc, 'SIGINT'), { code: 0, signal: null })

  const lines = (await readFile(logFile, 'utf8')).split('\n')
  assert.equal(lines.pop(), '', 'the file ends with a line break')
  assert.equal(JSON.parse(lines[0]).component, 'earlier', 'appended, not overwritten')
  const entries = lines.map((line, i) => {
    const entry = parseJson(line)
    assert.ok(entry != null, `line ${i + 1} is JSON: ${line}`)
    assert.match(entry.time, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/, line)
    assert.ok(['error', 'warn', 'info', 'debug', 'trace'].includes(entry.level), line)
    assert.equal(typeof entry.component, 'string', line)
    assert.equal(typeof entry.message, 'string', line)
    return entry
  })
  assert.ok(entries.some(e => e.component === 'peergate:addressbook' && e.level === 'info' && /^loaded 0 contacts/.test(e.message)), 'a debug namespace\'s line')
  assert.ok(entries.some(e => e.component === 'peergate:cli' && e.event === 'ready' && e.peerId === ready.peerId), 'the ready event')
  assert.ok(entries.some(e => e.component === 'peergate:cli' && e.level === 'warn' && /^bootstrap peer .* cannot be reached/.test(e.message)), 'a warning')
  assert.ok(entries.some(e => e.event === 'stopped'), 'the stopped event')
  // stdout keeps every event, as JSON log lines; the debug namespaces went to the file, not stderr
  assert.ok(proc.lines.every(line => parseJson(line)?.component === 'peergate:cli'), proc.lines.join('\n'))
  assert.doesNotMatch(proc.stderr, /peergate:addressbook/)
  assert.ok(proc.stderr.split('\n').filter(line => line !== '').every(line => parseJson(line)?.level != null), proc.stderr)
})

test('--log-file in text: the debug namespaces go to the file with their time, not stderr; a file that cannot be opened is a usage error', async () => {
  const dir = await net.dir()
  const logFile = join(dir, 'node.log')
  const proc = cli('--log-level', 'info', '--log-file', logFile, 'start', '--data-dir', join(dir, 'data'), '--listen', '/ip4/127.0.0.1/tcp/0', '--chain-id', CHAIN_ID)
  await proc.line('the ready line', line => / peer id: /.test(line))
  assert.deepEqual(await stop(proc, 'SIGINT'), { code: 0, signal: null })
  const text = await readFile(logFile, 'utf8')
  assert.match(text, /^\d{4}-\d{2}-\d{2}T[\d:.]+Z peergate:addressbook loaded 0 contacts/m)
  assert.match(text, /^\d{4}-\d{2}-\d{2}T[\d:.]+Z peer id: +12D3KooW/m)
  assert.doesNotMatch(proc.stderr, /peergate:addressbook/)

  const bad = cli('--log-file', join(dir, 'missing', 'node.log'), 'start', '--data-dir', join(dir, 'data'))
  assert.deepEqual(await bad.exitWithin('an exit'), { code: 2, signal: null })
  assert.match(bad.stderr, /--log-file .*missing\/node\.log cannot be opened for appending: its directory does not exist/)
})

test('bad flags exit with a usage error on stderr and no stack trace', async () => {
  const dataDir = await net.dir()
  const cases: Array<{ args: string[], message: RegExp }> = [
    { args: ['--genesis', 'zz'], message: /--genesis must be a 32-byte hash: 64 hex digits, 0x optional, got "zz"/ },
    { args: ['--genesis', '0xabcd'], message: /--genesis must be a 32-byte hash: 64 hex digits, 0x optional, got "0xabcd"/ },
    { args: ['--listen', 'notamultiaddr'], message: /listen address "notamultiaddr" is not a multiaddr/ },
    { args: ['--chain-id', 'bad chain!'], message: /chain id "bad chain!" must be/ },
    { args: ['--bootstrap', '/ip4/127.0.0.1/tcp/4001'], message: /has no \/p2p\/<peer id>/ },
    { args: ['--max-peers', 'many'], message: /--max-peers must be a whole number from 0 to 10000, got "many"/ },
    { args: ['--max-peers', '-1'], message: /--max-peers must be a whole number from 0 to 10000, got "-1"/ },
    { args: ['--max-peers', '1000000000'], message: /--max-peers must be a whole number from 0 to 10000, got "1000000000"/ },
    { args: ['--max-peers', '0', '--max-inbound', '3'], message: /maxPeers is 0 \(a DHT-only node\) but maxOutboundSessions is 0 and maxInboundSessions 3/ },
    { args: ['--max-peers', '4', '--max-outbound', '5'], message: /maxOutboundSessions \(5\) must be at most limits\.maxPeers \(4\)/ },
    { args: ['--ip-limit-exempt', 'localhost'], message: /--ip-limit-exempt: an IP range is an address or a CIDR block such as 127\.0\.0\.0\/8 or fd00::\/8, got "localhost"/ },
    { args: ['--status-interval', '-1'], message: /--status-interval must be a whole number/ },
    { args: ['--bogus'], message: /unknown option '--bogus'/ }
  ]
  for (const { args, message } of cases) {
    const proc = cli('start', '--json', '--data-dir', dataDir, ...args)
    const exit = await proc.exitWithin('an exit')
    assert.deepEqual(exit, { code: 2, signal: null }, args.join(' '))
    assert.match(proc.stderr, message)
    assert.ok(!proc.stderr.includes('    at '), `stack trace for ${args.join(' ')}: ${proc.stderr}`)
    assert.deepEqual(proc.lines, [], `stdout for ${args.join(' ')}`)
  }
})

test('--version prints the package version, then the commit the build recorded, libp2p\'s and Node\'s versions', async () => {
  const { version } = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8'))
  const { commit } = JSON.parse(await readFile(new URL('../../build-info.json', import.meta.url), 'utf8'))
  const proc = cli('--version')
  assert.deepEqual(await proc.exitWithin('an exit'), { code: 0, signal: null })
  assert.deepEqual(proc.lines, [version, ...(commit == null ? [] : [`commit: ${commit as string}`]), `libp2p: ${libp2pVersion}`, `node: ${process.versions.node}`])
})

test('--max-peers 2 keeps an outbound slot; --max-outbound and --max-inbound set the split; a reserved peer is counted apart; --max-sessions-per-ip and --ip-limit-exempt set the limit per IP', async () => {
  const small = cli('start', '--json', '--data-dir', await net.dir(), '--listen', '/ip4/127.0.0.1/tcp/0', '--chain-id', CHAIN_ID, '--status-interval', '1', '--max-peers', '2',
    '--max-sessions-per-ip', '2', '--ip-limit-exempt', '127.0.0.0/8', '--ip-limit-exempt', 'fd00::/8')
  const smallStatus = await small.event('status')
  assert.deepEqual(smallStatus.sessions, { outbound: 0, inbound: 0, reserved: 0, targetOutbound: 1, maxInbound: 1, maxInboundPerIp: 2, ipLimitExempt: ['127.0.0.0/8', 'fd00::/8'] })
  assert.deepEqual(await stop(small, 'SIGINT'), { code: 0, signal: null })

  const peer = await net.node({ chain: { chainId: CHAIN_ID } })
  const proc = cli('start', '--json', '--data-dir', await net.dir(), '--listen', '/ip4/127.0.0.1/tcp/0', '--chain-id', CHAIN_ID, '--status-interval', '1',
    '--max-outbound', '2', '--max-inbound', '5', '--reserved', peer.getMultiaddrs()[0].toString())
  const status = await proc.event('status', value => value.sessions.reserved === 1)
  assert.deepEqual(status.sessions, { outbound: 0, inbound: 0, reserved: 1, targetOutbound: 2, maxInbound: 5, maxInboundPerIp: 4, ipLimitExempt: [] })
  assert.deepEqual(await stop(proc, 'SIGINT'), { code: 0, signal: null })
})

test('--genesis takes a 32-byte hash and the ready line shows it', async () => {
  const genesis = '0x' + 'ab'.repeat(32)
  const proc = cli('start', '--json', '--data-dir', await net.dir(), '--listen', '/ip4/127.0.0.1/tcp/0', '--chain-id', CHAIN_ID, '--genesis', genesis)
  const ready = await proc.event('ready')
  assert.equal(ready.genesis, genesis)
  const node = await net.node({ chain: { chainId: CHAIN_ID, genesisHash: genesis } })
  await node.connect(multiaddr(ready.multiaddrs[0]))
  assert.deepEqual(await stop(proc, 'SIGINT'), { code: 0, signal: null })
})

test('a --bootstrap or --reserved address with this node\'s own peer id is skipped with a warning', async () => {
  const dataDir = await net.dir()
  const first = await startJson(dataDir)
  assert.deepEqual(await stop(first.proc, 'SIGINT'), { code: 0, signal: null })
  const self = `/ip4/127.0.0.1/tcp/9/p2p/${first.ready.peerId}`
  const proc = cli('start', '--json', '--data-dir', dataDir, '--listen', '/ip4/127.0.0.1/tcp/0', '--chain-id', CHAIN_ID, '--status-interval', '1', '--bootstrap', self, '--reserved', self)
  const status = await proc.event('status')
  assert.equal(status.contacts, 0, 'not a contact')
  assert.equal(status.dialing, 0)
  assert.equal(proc.stderr, `peergate: warning: --bootstrap ${self} is this node's own peer id; skipped\n` +
    `peergate: warning: --reserved ${self} is this node's own peer id; skipped\n`)
  assert.deepEqual(await stop(proc, 'SIGINT'), { code: 0, signal: null })
})

test('a --bootstrap address nobody answers at gets a warning, once', async () => {
  const port = await closedPort()
  const stranger = (await net.node()).peerId.toString()
  const bootstrap = `/ip4/127.0.0.1/tcp/${port}/p2p/${stranger}`
  const proc = cli('start', '--json', '--data-dir', await net.dir(), '--listen', '/ip4/127.0.0.1/tcp/0', '--chain-id', CHAIN_ID, '--bootstrap', bootstrap)
  await proc.event('ready')
  const warning = `peergate: warning: bootstrap peer ${stranger} (/ip4/127.0.0.1/tcp/${port}) cannot be reached: `
  for (let i = 0; i < 100 && !proc.stderr.includes(warning); i++) {
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  assert.ok(proc.stderr.startsWith(warning), proc.stderr)
  assert.equal(proc.stderr.split('\n').filter(line => line !== '').length, 1, 'one warning')
  assert.deepEqual(await stop(proc, 'SIGINT'), { code: 0, signal: null })
})

test('a data dir where no directory can be made fails at once, and Ctrl-C is not needed', async () => {
  const started = Date.now()
  const proc = cli('start', '--data-dir', '/proc/peergate', '--listen', '/ip4/127.0.0.1/tcp/0')
  assert.deepEqual(await proc.exitWithin('an exit'), { code: 1, signal: null })
  assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`)
  assert.match(proc.stderr, /^peergate: could not start the node: cannot create \/proc\/peergate: ENOENT/)
  assert.deepEqual(proc.lines, [])
})

test('a data dir without write permission says so', async (t) => {
  // /sys refuses new directories to everyone: EPERM for root, EACCES otherwise
  const proc = cli('start', '--data-dir', '/sys/peergate', '--listen', '/ip4/127.0.0.1/tcp/0')
  assert.deepEqual(await proc.exitWithin('an exit'), { code: 1, signal: null })
  assert.equal(proc.stderr, 'peergate: could not start the node: cannot write /sys/peergate: permission denied\n')

  if (process.getuid?.() === 0) {
    t.diagnostic('root ignores file modes: the read-only data dir case is skipped')
    return
  }
  const dataDir = await net.dir()
  await chmod(dataDir, 0o555)
  const readOnly = cli('start', '--data-dir', dataDir, '--listen', '/ip4/127.0.0.1/tcp/0')
  assert.deepEqual(await readOnly.exitWithin('an exit'), { code: 1, signal: null })
  assert.match(readOnly.stderr, new RegExp(`cannot write ${dataDir}: permission denied`))
  await chmod(dataDir, 0o755)
})

test('a data dir in use by another peergate, and a listen port in use, say which', async () => {
  const dataDir = await net.dir()
  const first = await startJson(dataDir)
  const second = cli('start', '--data-dir', dataDir, '--listen', '/ip4/127.0.0.1/tcp/0')
  assert.deepEqual(await second.exitWithin('an exit'), { code: 1, signal: null })
  assert.match(second.stderr, new RegExp(`^peergate: could not start the node: ${dataDir} is in use by another process \\(another peergate\\?\\)`))

  const taken = first.ready.multiaddrs[0].replace(/\/p2p\/.*$/, '')
  const third = cli('start', '--data-dir', await net.dir(), '--listen', taken)
  assert.deepEqual(await third.exitWithin('an exit'), { code: 1, signal: null })
  assert.equal(third.stderr, `peergate: could not start the node: ${taken} is in use; choose another --listen port\n`)
  assert.deepEqual(await stop(first.proc, 'SIGINT'), { code: 0, signal: null })
})

test('a data dir keeps to the chain it first ran on: another --chain-id exits 2 naming both', async () => {
  const dataDir = await net.dir()
  const first = await startJson(dataDir)
  assert.deepEqual(await stop(first.proc, 'SIGINT'), { code: 0, signal: null })
  const other = cli('start', '--json', '--data-dir', dataDir, '--listen', '/ip4/127.0.0.1/tcp/0', '--chain-id', 'devnet-1')
  assert.deepEqual(await other.exitWithin('an exit'), { code: 2, signal: null })
  assert.equal(other.stderr, `peergate: data dir ${dataDir} belongs to chain "${CHAIN_ID}" (genesis ${first.ready.genesis}), ` +
    `not "devnet-1" (genesis 0x${createHash('sha256').update('peergate-genesis:devnet-1').digest('hex')}): ` +
    'its contacts, backoffs and bans are that chain\'s; use another data dir for another chain\n')
  assert.deepEqual(other.lines, [])
  // the right chain still starts
  const again = await startJson(dataDir)
  assert.equal(again.ready.peerId, first.ready.peerId)
  assert.deepEqual(await stop(again.proc, 'SIGINT'), { code: 0, signal: null })
})

test('--config and PEERGATE_* variables set start options; a flag wins over the variable, which wins over the file', async () => {
  const dataDir = await net.dir()
  const config = join(await net.dir(), 'peergate.json')
  await writeFile(config, JSON.stringify({ dataDir, chainId: 'from-file', listen: ['/ip4/127.0.0.1/tcp/0'], maxPeers: 9, statusInterval: 1, json: true }))

  const fromFile = cli('start', '--config', config)
  const ready = await fromFile.event('ready')
  assert.equal(ready.chainId, 'from-file')
  const status = await fromFile.event('status')
  assert.deepEqual([status.sessions.targetOutbound, status.sessions.maxInbound], [3, 6], 'maxPeers 9 from the file')
  assert.deepEqual(await stop(fromFile, 'SIGINT'), { code: 0, signal: null })

  // the data dir keeps to its chain: the others take fresh ones
  const fromEnv = cliWithEnv({ PEERGATE_CONFIG: config, PEERGATE_CHAIN_ID: 'from-env', PEERGATE_DATA_DIR: await net.dir() }, 'start')
  assert.equal((await fromEnv.event('ready')).chainId, 'from-env')
  assert.deepEqual(await stop(fromEnv, 'SIGINT'), { code: 0, signal: null })

  const fromFlag = cliWithEnv({ PEERGATE_CHAIN_ID: 'from-env' }, 'start', '--config', config, '--chain-id', 'from-flag', '--data-dir', await net.dir())
  assert.equal((await fromFlag.event('ready')).chainId, 'from-flag')
  assert.deepEqual(await stop(fromFlag, 'SIGINT'), { code: 0, signal: null })
})

test('a config file with a bad field, or a bad variable, exits 2 naming the field and where it is', async () => {
  const dir = await net.dir()
  const config = join(dir, 'peergate.json')
  const cases: Array<{ file?: unknown, env?: Record<string, string>, message: string }> = [
    { file: { chainId: 'devnet-1', maxPeer: 5 }, message: `peergate: config file ${config}: unknown key "maxPeer" (known: ` },
    { file: { maxPeers: '50' }, message: `peergate: config file ${config}: "maxPeers" must be a number, got "50"\n` },
    { file: { maxPeers: -1 }, message: `peergate: maxPeers in ${config} must be a whole number from 0 to 10000, got "-1"\n` },
    { env: { PEERGATE_MAX_PEERS: 'many' }, message: 'peergate: PEERGATE_MAX_PEERS must be a whole number from 0 to 10000, got "many"\n' },
    { env: { PEERGATE_CONFIG: join(dir, 'missing.json') }, message: `peergate: cannot read config file ${join(dir, 'missing.json')}: no such file\n` }
  ]
  for (const { file, env, message } of cases) {
    await writeFile(config, JSON.stringify(file ?? {}))
    const proc = cliWithEnv(env ?? {}, 'start', '--json', '--data-dir', dir, ...(file == null ? [] : ['--config', config]))
    assert.deepEqual(await proc.exitWithin('an exit'), { code: 2, signal: null }, message)
    assert.ok(proc.stderr.startsWith(message), `${proc.stderr} should start with ${message}`)
    assert.deepEqual(proc.lines, [])
  }
})

test('init creates the data dir, its keys, its chain and an example config; start on it keeps the peer id and the DID', async () => {
  const dataDir = join(await net.dir(), 'node1')
  const genesis = '0x' + 'cd'.repeat(32)
  const init = cli('init', '--json', '--data-dir', dataDir, '--chain-id', CHAIN_ID, '--genesis', genesis)
  assert.deepEqual(await init.exitWithin('an exit'), { code: 0, signal: null })
  assert.equal(init.stderr, '')
  assert.equal(init.lines.length, 1)
  const made = JSON.parse(init.lines[0])
  const config = join(dataDir, 'config.json')
  assert.deepEqual(Object.keys(made), ['event', 'peerId', 'did', 'chainId', 'genesis', 'dataDir', 'config', 'configWritten'])
  assert.match(made.peerId, /^12D3Koo/)
  assert.match(made.did, /^did:key:z6Mk/)
  assert.deepEqual([made.event, made.chainId, made.genesis, made.dataDir, made.config, made.configWritten], ['init', CHAIN_ID, genesis, dataDir, config, true])
  assert.match(await readFile(join(dataDir, 'api-token'), 'utf8'), /^[0-9a-f]{64}\s*$/, 'the status API\'s token')

  // the example config is start's: it names the data dir and the chain
  const proc = cli('start', '--json', '--config', config, '--listen', '/ip4/127.0.0.1/tcp/0')
  const ready = await proc.event('ready')
  assert.deepEqual([ready.peerId, ready.did, ready.chainId, ready.genesis], [made.peerId, made.did, CHAIN_ID, genesis])
  assert.deepEqual(await stop(proc, 'SIGINT'), { code: 0, signal: null })

  // again: the same identity, and the operator's config is kept
  await writeFile(config, JSON.stringify({ dataDir, chainId: CHAIN_ID, genesis, maxPeers: 9 }))
  const again = cli('init', '--data-dir', dataDir, '--chain-id', CHAIN_ID, '--genesis', genesis)
  assert.deepEqual(await again.exitWithin('an exit'), { code: 0, signal: null })
  assert.ok(again.lines.some(line => line.endsWith(`peer id:   ${made.peerId as string}`)), again.lines.join('\n'))
  assert.ok(again.lines.some(line => line.endsWith(`config:    ${config} (kept: it was there)`)), again.lines.join('\n'))
  assert.deepEqual(JSON.parse(await readFile(config, 'utf8')).maxPeers, 9)
})

test('start --config run from another directory uses the data dir the file names, relative to the file', async () => {
  const home = await net.dir()
  const init = cliIn(home, {}, 'init', '--json', '--data-dir', './node3', '--chain-id', CHAIN_ID)
  assert.deepEqual(await init.exitWithin('an exit'), { code: 0, signal: null }, init.stderr)
  const made = JSON.parse(init.lines[0])
  const config = join(home, 'node3', 'config.json')
  assert.match(await readFile(config, 'utf8'), /^ {2}"dataDir": "\.",$/m, 'init names the data dir relative to the file')

  const elsewhere = await net.dir()
  for (const given of [config, relative(elsewhere, config)]) {
    const proc = cliIn(elsewhere, {}, 'start', '--json', '--config', given, '--listen', '/ip4/127.0.0.1/tcp/0')
    const ready = await proc.event('ready')
    assert.deepEqual([ready.peerId, ready.did], [made.peerId, made.did], `--config ${given}: the identity init made`)
    assert.deepEqual(await stop(proc, 'SIGINT'), { code: 0, signal: null })
  }
  assert.deepEqual(await readdir(elsewhere), [], 'no data dir made in the working directory')
})

test('a config file in a data dir whose dataDir an older init wrote relative to the working directory is refused with exit 2, not given a fresh identity', async () => {
  const home = await net.dir()
  const init = cliIn(home, {}, 'init', '--data-dir', './node3', '--chain-id', CHAIN_ID)
  assert.deepEqual(await init.exitWithin('an exit'), { code: 0, signal: null }, init.stderr)
  const config = join(home, 'node3', 'config.json')
  // what init wrote before paths in a config file were relative to the file
  await writeFile(config, JSON.stringify({ dataDir: './node3', chainId: CHAIN_ID }))
  const proc = cliIn(home, {}, 'start', '--json', '--config', './node3/config.json', '--listen', '/ip4/127.0.0.1/tcp/0')
  assert.deepEqual(await proc.exitWithin('an exit'), { code: 2, signal: null })
  assert.equal(proc.stderr, 'peergate: dataDir "./node3" in ./node3/config.json is relative to that file: it names node3/node3, which does not exist, ' +
    'while the file is inside the data dir ./node3. A relative dataDir in a config file used to be relative to the working directory; ' +
    'write "dataDir": "." (or an absolute path) to keep using ./node3\n')
  assert.deepEqual(proc.lines, [])
  assert.deepEqual(await readdir(join(home, 'node3')).then(names => names.includes('node3')), false, 'no data dir made inside the old one')
})

/** Overwrites the data dir's LevelDB files whose names pass `match` with garbage of their size */
async function garble (dataDir: string, match: RegExp): Promise<void> {
  const dir = join(dataDir, 'datastore')
  const names = (await readdir(dir)).filter(name => match.test(name))
  assert.ok(names.length > 0, `a file matching ${String(match)} in ${dir}`)
  for (const name of names) {
    const { size } = await stat(join(dir, name))
    await writeFile(join(dir, name), Buffer.alloc(size, 0xab))
  }
}

test('the identity survives a garbled datastore log; a lost or torn key file, or a datastore LevelDB cannot read, exits 2 naming it', async () => {
  const dataDir = join(await net.dir(), 'node1')
  const init = cli('init', '--json', '--data-dir', dataDir, '--chain-id', CHAIN_ID)
  assert.deepEqual(await init.exitWithin('an exit'), { code: 0, signal: null }, init.stderr)
  const made = JSON.parse(init.lines[0])
  assert.deepEqual((await readdir(dataDir)).sort(), ['api-token', 'chain.json', 'config.json', 'datastore', 'did-key.json', 'peer-key.json'], 'init writes the key and chain files')

  // after init every record is in the LevelDB log
  await garble(dataDir, /\.log$/)
  const afterLog = await startJson(dataDir)
  assert.deepEqual([afterLog.ready.peerId, afterLog.ready.did], [made.peerId, made.did], 'the same identity')
  assert.deepEqual(await stop(afterLog.proc, 'SIGINT'), { code: 0, signal: null })

  const didKey = join(dataDir, 'did-key.json')
  const savedDidKey = await readFile(didKey)
  await rm(didKey)
  const lost = cli('start', '--json', '--data-dir', dataDir, '--listen', '/ip4/127.0.0.1/tcp/0', '--chain-id', CHAIN_ID)
  assert.deepEqual(await lost.exitWithin('an exit'), { code: 2, signal: null })
  assert.ok(lost.stderr.startsWith(`peergate: data dir ${dataDir} was used before (it has a datastore) but has lost its DID key (${didKey}), and its datastore holds no copy. ` +
    'The node did not start, so that it does not come up as another node; nothing was changed. To recover, restore that file from a backup of the data dir.'), lost.stderr)
  assert.deepEqual(lost.lines, [])
  await writeFile(didKey, savedDidKey)

  const peerKey = join(dataDir, 'peer-key.json')
  const savedPeerKey = await readFile(peerKey)
  // a torn write
  await writeFile(peerKey, savedPeerKey.subarray(0, 30))
  const torn = cli('start', '--json', '--data-dir', dataDir, '--listen', '/ip4/127.0.0.1/tcp/0', '--chain-id', CHAIN_ID)
  assert.deepEqual(await torn.exitWithin('an exit'), { code: 2, signal: null })
  assert.equal(torn.stderr, `peergate: the node's peer key, ${peerKey}, is damaged: it holds 30 bytes that are not a JSON object. ` +
    'It is left as it is and the node did not start, so that it does not come up as another node. To recover, restore it from a backup of the data dir.\n')
  assert.deepEqual(await readFile(peerKey), savedPeerKey.subarray(0, 30), 'left as it is')
  await writeFile(peerKey, savedPeerKey)

  // the starts since init have moved the records into a table
  await garble(dataDir, /\.ldb$/)
  const table = cli('start', '--json', '--data-dir', dataDir, '--listen', '/ip4/127.0.0.1/tcp/0', '--chain-id', CHAIN_ID)
  assert.deepEqual(await table.exitWithin('an exit'), { code: 2, signal: null })
  assert.ok(table.stderr.startsWith(`peergate: the datastore of data dir ${dataDir} (${join(dataDir, 'datastore')}) is damaged: Corruption: not an sstable (bad magic number). ` +
    `It is left as it is and the node did not start. To recover, restore ${join(dataDir, 'datastore')} from a backup, or move it aside and start again: the node keeps its peer id, DID and chain`), table.stderr)

  await rename(join(dataDir, 'datastore'), join(dataDir, 'datastore.damaged'))
  const again = await startJson(dataDir)
  assert.deepEqual([again.ready.peerId, again.ready.did], [made.peerId, made.did], 'the datastore moved aside: the same identity')
  assert.deepEqual(await stop(again.proc, 'SIGINT'), { code: 0, signal: null })
})

test('init refuses a data dir of another chain, with exit 2 naming both', async () => {
  const dataDir = await net.dir()
  const first = cli('init', '--data-dir', dataDir, '--chain-id', CHAIN_ID)
  assert.deepEqual(await first.exitWithin('an exit'), { code: 0, signal: null })
  // one after the other: the data dir is locked while one runs
  for (const run of [() => cli('init', '--data-dir', dataDir, '--chain-id', 'devnet-1'), () => cliWithEnv({ PEERGATE_CHAIN_ID: 'devnet-1', PEERGATE_DATA_DIR: dataDir }, 'init')]) {
    const other = run()
    assert.deepEqual(await other.exitWithin('an exit'), { code: 2, signal: null })
    assert.match(other.stderr, new RegExp(`^peergate: data dir ${dataDir} belongs to chain "${CHAIN_ID}" .*, not "devnet-1" `))
    assert.deepEqual(other.lines, [])
  }
  const bad = cli('init', '--data-dir', await net.dir(), '--genesis', 'zz')
  assert.deepEqual(await bad.exitWithin('an exit'), { code: 2, signal: null })
  assert.match(bad.stderr, /^peergate: --genesis must be a 32-byte hash/)
})
