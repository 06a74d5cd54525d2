/**
 * npm run testnet -- --nodes N [--bootnode dht-only|session] [--max-peers M] [--timeout S] [--out FILE.svg] [--exit]
 *
 * A local testnet: N peergate nodes (default 4) that hold sessions, each its
 * own process running the CLI (`dist/src/cli/bin.js start --json
 * --status-interval 1 --ip-limit-exempt 127.0.0.0/8`) with its own data dir
 * in a temp dir, on 127.0.0.1 (so its peers all connect from one address,
 * outside the limit per IP),
 * and every one bootstrapping from node 0, which starts first. By default
 * node 0 is a DHT-only bootnode (`--max-peers 0`), as public chains run
 * theirs: it serves the DHT through which the others find each other and
 * holds no session, so the N session nodes are 1..N. With `--bootnode
 * session` node 0 is one of the N and holds sessions like the others (then it
 * starts with every other node's first session and converges by turning
 * sessions around, see the README).
 *
 * Waits until the network has converged (`--timeout` seconds, default 60):
 * every session node at its outbound target, every session seen from both
 * ends, the DHT-only bootnode with no session, and the session nodes all
 * connected through sessions (testnet-convergence.ts). Prints each node's
 * sessions and connections from its JSON status lines and writes an SVG of
 * the topology (nodes on a circle, sessions solid, auxiliary connections
 * dashed) to the path it prints. Then it keeps the network running until
 * Ctrl-C (SIGINT to every node, wait, exit), or stops at once with `--exit`
 * (exit code 0 when it converged, 1 when it did not).
 *
 * `--max-peers` defaults to 3 × max(1, ⌊(N − 1) / 3⌋): an outbound target of
 * a third of the other session nodes, at least 1, so that the N × target
 * sessions the targets need leave a third of the N(N − 1)/2 pairs free. The
 * CLI has no flags for the dial loop, so its defaults run (1 s tick, random
 * walks every 2 s below target).
 *
 * The CLI's JSON lines name session peers but not the peers of auxiliary
 * connections (the status line only counts them), so dashed lines are drawn
 * only from `connections` lines, `{"event":"connections","connections":[{"peerId","role"}]}`,
 * when a CLI prints them; the count is in each node's note either way.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { convergence, type Convergence, type NodeView } from './testnet-convergence.js'
import { topologySvg, type TopologyEdge, type TopologyNode } from './topology-svg.js'

/** the CLI, next to this script in dist/ */
const CLI_BIN = fileURLToPath(new URL('../src/cli/bin.js', import.meta.url))
const CHAIN_ID = 'testnet'
/** where every node of the testnet dials from */
const LOOPBACK_RANGE = '127.0.0.0/8'
/** how long a node has to print its `ready` line */
const READY_TIMEOUT_MS = 20_000
/** how long a node has to stop after SIGINT before it is killed */
const STOP_TIMEOUT_MS = 10_000
const POLL_MS = 250

interface StatusLine {
  sessions: { outbound: number, inbound: number, targetOutbound: number, maxInbound: number }
  connections: Record<string, number>
  dialing: number
  contacts: number
}

interface TestnetNode {
  index: number
  child: ChildProcess
  exited: Promise<number | null>
  peerId?: string
  multiaddrs: string[]
  /** session peer → direction */
  sessions: Map<string, string>
  /** peers of auxiliary connections, from `connections` lines */
  auxiliary: Set<string>
  status?: StatusLine
  stderr: string
}

const USAGE = `usage: npm run testnet -- [options]

  --nodes <n>         nodes that hold sessions, at least 3 (default 4)
  --bootnode <kind>   node 0, which every other node bootstraps from:
                      dht-only (default: serves the DHT, holds no session,
                      started in addition to the N) or session (one of the N)
  --max-peers <m>     each session node's --max-peers
                      (default 3 × max(1, ⌊(N − 1) / 3⌋))
  --timeout <s>       seconds to wait for convergence (default 60)
  --out <file.svg>    where to write the topology (default: a temp file)
  --exit              stop every node once converged or timed out; exit 0
                      when converged, 1 when not
  --help              print this and exit
`

function usageError (message: string): never {
  process.stderr.write(`testnet: ${message}\n\n${USAGE}`)
  process.exit(2)
}

let parsed: ReturnType<typeof parse>
function parse (): { values: { nodes: string, bootnode: string, 'max-peers'?: string, timeout: string, out?: string, exit: boolean, help: boolean } } {
  return parseArgs({
    options: {
      nodes: { type: 'string', default: '4' },
      bootnode: { type: 'string', default: 'dht-only' },
      'max-peers': { type: 'string' },
      timeout: { type: 'string', default: '60' },
      out: { type: 'string' },
      exit: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false }
    }
  })
}
try {
  parsed = parse()
} catch (err) {
  // an unknown option or a missing value: parseArgs's message, not its stack
  usageError(err instanceof Error ? err.message : String(err))
}
const flags = parsed.values
if (flags.help) {
  process.stdout.write(USAGE)
  process.exit(0)
}

const N = Number(flags.nodes)
const TIMEOUT_S = Number(flags.timeout)
if (!Number.isInteger(N) || N < 3) {
  // two nodes hold one session: one of them never reaches an outbound target
  usageError(`--nodes must be a whole number >= 3 (two nodes hold one session, so one of them would stay at 0 outbound), got "${flags.nodes}"`)
}
if (!(TIMEOUT_S > 0)) {
  usageError(`--timeout must be a positive number of seconds, got "${flags.timeout}"`)
}
if (flags.bootnode !== 'dht-only' && flags.bootnode !== 'session') {
  usageError(`--bootnode must be dht-only or session, got "${flags.bootnode}"`)
}
const DHT_ONLY_BOOTNODE = flags.bootnode === 'dht-only'
const MAX_PEERS = flags['max-peers'] != null ? Number(flags['max-peers']) : 3 * Math.max(1, Math.floor((N - 1) / 3))
if (!Number.isInteger(MAX_PEERS) || MAX_PEERS < 1) {
  usageError(`--max-peers must be a whole number >= 1, got "${flags['max-peers']}"`)
}
const OUT = flags.out ?? join(tmpdir(), `peergate-testnet-${Date.now()}.svg`)

const root = await mkdtemp(join(tmpdir(), 'peergate-testnet-'))
const nodes: TestnetNode[] = []

function startNode (index: number, maxPeers: number, bootstrap?: string): TestnetNode {
  const args = [CLI_BIN, 'start', '--json', '--status-interval', '1',
    '--data-dir', join(root, `node-${index}`), '--listen', '/ip4/127.0.0.1/tcp/0',
    '--chain-id', CHAIN_ID, '--max-peers', String(maxPeers),
    // every peer connects from 127.0.0.1: outside the limit of inbound
    // sessions per IP, which would otherwise hold each node to 4 inbound
    '--ip-limit-exempt', LOOPBACK_RANGE,
    // each node its own status API: the default port fits one node per machine
    '--api-port', '0']
  if (bootstrap != null) {
    args.push('--bootstrap', bootstrap)
  }
  // its own process group: a Ctrl-C in the terminal reaches this script
  // only, which passes one SIGINT on (a second would kill the CLI at once)
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  const node: TestnetNode = {
    index,
    child,
    exited: new Promise(resolve => { child.once('exit', code => { resolve(code) }) }),
    multiaddrs: [],
    sessions: new Map(),
    auxiliary: new Set(),
    stderr: ''
  }
  child.stderr?.on('data', (chunk: Buffer) => { node.stderr += chunk.toString() })
  createInterface({ input: child.stdout! }).on('line', line => { onLine(node, line) })
  nodes.push(node)
  return node
}

function onLine (node: TestnetNode, line: string): void {
  let event: any
  try {
    event = JSON.parse(line)
  } catch {
    return
  }
  switch (event.event) {
    case 'ready':
      node.peerId = event.peerId
      node.multiaddrs = event.multiaddrs
      break
    case 'session:open':
      node.sessions.set(event.peerId, event.direction)
      break
    case 'session:close':
      node.sessions.delete(event.peerId)
      break
    case 'status':
      node.status = event
      break
    case 'connections':
      node.auxiliary = new Set((event.connections as Array<{ peerId: string, role: string }>).filter(c => c.role === 'auxiliary').map(c => c.peerId))
      break
  }
}

async function waitFor (predicate: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    const failed = nodes.find(n => n.child.exitCode != null)
    if (failed != null) {
      throw new Error(`node ${failed.index} exited with code ${failed.child.exitCode}: ${failed.stderr.trim()}`)
    }
    if (Date.now() > deadline) {
      return false
    }
    await new Promise(resolve => setTimeout(resolve, POLL_MS))
  }
  return true
}

let stopping: Promise<void> | undefined
async function stopAll (): Promise<void> {
  stopping ??= (async () => {
    await Promise.all(nodes.map(async node => {
      if (node.child.exitCode != null || node.child.signalCode != null) {
        return
      }
      node.child.kill('SIGINT')
      const timer = setTimeout(() => { node.child.kill('SIGKILL') }, STOP_TIMEOUT_MS)
      await node.exited
      clearTimeout(timer)
    }))
    await rm(root, { recursive: true, force: true })
  })()
  return stopping
}

// a crash of this script leaves no node behind
process.on('exit', () => {
  for (const node of nodes) {
    if (node.child.exitCode == null && node.child.signalCode == null) {
      node.child.kill('SIGKILL')
    }
  }
})
let interrupted = false
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true
    process.stdout.write(`\n${signal}: stopping ${nodes.length} nodes\n`)
    void stopAll().then(() => { process.exit(0) })
  })
}

function peerAddress (node: TestnetNode): string {
  const addr = node.multiaddrs[0]
  return addr.includes('/p2p/') ? addr : `${addr}/p2p/${node.peerId}`
}

function report (): void {
  const rows = nodes.map(node => {
    const s = node.status
    // sessions from the node's session lines, as the convergence check counts them; limits from its last status line
    const outbound = [...node.sessions.values()].filter(direction => direction === 'outbound').length
    return [
      node.index === 0 && DHT_ONLY_BOOTNODE ? '0 (dht-only)' : String(node.index),
      (node.peerId ?? '?').slice(-8),
      s == null ? '-' : `${outbound}/${s.sessions.targetOutbound}`,
      s == null ? '-' : `${node.sessions.size - outbound}/${s.sessions.maxInbound}`,
      s == null ? '-' : String(s.connections.auxiliary ?? 0),
      s == null ? '-' : String(s.connections.handshaking ?? 0),
      s == null ? '-' : String(s.contacts),
      [...node.sessions].map(([peer, direction]) => `${direction === 'outbound' ? '→' : '←'}${indexOf(peer)}`).join(' ')
    ]
  })
  const header = ['node', 'peer id', 'outbound', 'inbound', 'auxiliary', 'handshaking', 'contacts', 'sessions (→ dialed, ← dialed in)']
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(r => r[i].length)))
  for (const row of [header, ...rows]) {
    process.stdout.write(row.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd() + '\n')
  }
}

function indexOf (peerId: string): string {
  const i = nodes.findIndex(n => n.peerId === peerId)
  return i < 0 ? '?' : String(i)
}

function topology (): { nodes: TopologyNode[], edges: TopologyEdge[] } {
  const edges: TopologyEdge[] = []
  const seen = new Set<string>()
  const add = (from: number, to: number, kind: TopologyEdge['kind']): void => {
    const key = from < to ? `${from}-${to}` : `${to}-${from}`
    if (to < 0 || seen.has(key)) {
      return
    }
    seen.add(key)
    edges.push({ from, to, kind })
  }
  for (const node of nodes) {
    for (const [peer, direction] of node.sessions) {
      if (direction === 'outbound') {
        add(node.index, nodes.findIndex(n => n.peerId === peer), 'session')
      }
    }
  }
  for (const node of nodes) {
    for (const peer of node.auxiliary) {
      add(node.index, nodes.findIndex(n => n.peerId === peer), 'auxiliary')
    }
  }
  return {
    nodes: nodes.map(node => ({
      label: String(node.index),
      note: node.status == null ? undefined : `out ${[...node.sessions.values()].filter(d => d === 'outbound').length} in ${[...node.sessions.values()].filter(d => d === 'inbound').length} aux ${node.status.connections.auxiliary ?? 0}`
    })),
    edges
  }
}

/** what the nodes printed, as the convergence check reads it */
function views (): NodeView[] {
  return nodes.map(node => ({ peerId: node.peerId, targetOutbound: node.status?.sessions.targetOutbound, sessions: node.sessions }))
}

/** one line on why the network has not converged */
function shortfall (c: Convergence): string {
  const why: string[] = []
  if (c.short.length > 0) {
    why.push(`below their outbound target: node ${c.short.join(', ')}`)
  }
  if (c.components.length > 1) {
    why.push(`${c.components.length} groups not connected by sessions: ${c.components.map(g => `{${g.join(' ')}}`).join(' ')}`)
  }
  if (c.oneSided.length > 0) {
    why.push(`sessions seen from one end only: ${c.oneSided.join(' ')}`)
  }
  if (c.unexpected.length > 0) {
    why.push(`the DHT-only bootnode holds a session: node ${c.unexpected.join(', ')}`)
  }
  return why.join('; ')
}

try {
  const started = Date.now()
  const sessionNodes = DHT_ONLY_BOOTNODE ? `nodes 1..${N}` : `nodes 0..${N - 1}`
  process.stdout.write(`testnet: ${N} session nodes (${sessionNodes}, --max-peers ${MAX_PEERS}), ${DHT_ONLY_BOOTNODE ? 'a DHT-only bootnode (node 0, --max-peers 0)' : 'node 0 the bootnode'}, data in ${root}\n`)
  const bootstrap = startNode(0, DHT_ONLY_BOOTNODE ? 0 : MAX_PEERS)
  if (!await waitFor(() => bootstrap.peerId != null, READY_TIMEOUT_MS)) {
    throw new Error(`the bootstrap node printed no ready line within ${READY_TIMEOUT_MS} ms: ${bootstrap.stderr.trim()}`)
  }
  process.stdout.write(`bootstrap node 0: ${peerAddress(bootstrap)}\n`)
  for (let i = 1; i < (DHT_ONLY_BOOTNODE ? N + 1 : N); i++) {
    startNode(i, MAX_PEERS, peerAddress(bootstrap))
  }
  if (!await waitFor(() => nodes.every(n => n.peerId != null), READY_TIMEOUT_MS)) {
    throw new Error(`not every node printed its ready line within ${READY_TIMEOUT_MS} ms`)
  }
  process.stdout.write(`all ${nodes.length} nodes ready after ${((Date.now() - started) / 1000).toFixed(1)} s\n`)
  const converged = await waitFor(() => convergence(views()).converged, TIMEOUT_S * 1000)
  const elapsedS = ((Date.now() - started) / 1000).toFixed(1)
  const target = nodes.find(n => (n.status?.sessions.targetOutbound ?? 0) > 0)?.status?.sessions.targetOutbound
  process.stdout.write(converged
    ? `converged in ${elapsedS} s: every session node at its outbound target (${target}), every session seen from both ends, all ${N} session nodes connected through sessions${DHT_ONLY_BOOTNODE ? ', the DHT-only bootnode without a session' : ''}\n`
    : `not converged after ${elapsedS} s (--timeout ${TIMEOUT_S}): ${shortfall(convergence(views()))}\n`)
  report()
  const { nodes: svgNodes, edges } = topology()
  await writeFile(OUT, topologySvg(svgNodes, edges))
  process.stdout.write(`topology: ${OUT} (${edges.filter(e => e.kind === 'session').length} sessions, ${edges.filter(e => e.kind === 'auxiliary').length} auxiliary connections drawn)\n`)
  if (flags.exit) {
    await stopAll()
    process.exit(converged ? 0 : 1)
  }
  process.stdout.write('running; Ctrl-C stops every node\n')
} catch (err) {
  if (!interrupted) {
    process.stderr.write(`testnet: ${err instanceof Error ? err.message : String(err)}\n`)
    await stopAll()
    process.exit(1)
  }
}
