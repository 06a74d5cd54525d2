/**
 * npm run bench:flood [-- SECONDS] [--honest K] [--interval MS] [--sustained]
 *
 * The flood bar of issue 21, measured from outside: a peergate node serves a
 * request/response protocol with the default rate limit
 * (DEFAULT_REQUEST_RATE_LIMIT per DEFAULT_REQUEST_RATE_PERIOD_MS); K honest
 * session peers (default 3), each in its own process on a loopback address
 * of its own, make one request every MS (default 200, under the limit) for
 * the whole run. For SECONDS (default 30) they run alone (the baseline), then
 * for SECONDS a flooder session peer, in its own process too, sends 10× the
 * limit's rate. Prints the honest peers' request p50 without and with the
 * attack, measured in the same run, and their ratio (goal ≤ 1.5); the
 * flooder's requests sent, served and refused, and whether every request
 * over the limit was refused with RESOURCE_UNAVAILABLE (served ≤ the bucket
 * plus the rate over the attack, nothing else failed); and whether the
 * flooder's session ended, with which reason (the peer score ends it; a
 * build without one leaves it open, and says so). `--sustained` makes the
 * flooder a reserved peer of the target, so that only the rate limit holds
 * it back for the whole run.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process'
import { createInterface } from 'node:readline'
import type { Readable, Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { toString as uint8ArrayToString } from 'uint8arrays/to-string'
import { DEFAULT_REQUEST_RATE_LIMIT, DEFAULT_REQUEST_RATE_PERIOD_MS } from '../src/index.js'
import { DEFAULT_MAX_IN_FLIGHT_PER_PEER } from '../src/protocols/index.js'
import { summarize } from './stats.js'

/** the bar of issue 21: the honest peers' p50 under the flood against without it */
const TARGET_P50_RATIO = 1.5
/** the flooder sends this many times the limit's rate */
const FLOOD_FACTOR = 10
/** honest samples before the baseline starts, thrown away (connections, JIT) */
const WARMUP_MS = 2_000
/** a child that says nothing it was asked for in this long fails the bench */
const CHILD_TIMEOUT_MS = 30_000

const PEER_SCRIPT = fileURLToPath(new URL('./bench-flood-peer.js', import.meta.url))
const now = (): number => performance.timeOrigin + performance.now()
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

const { seconds, honestPeers, intervalMs, sustained } = parseArgs(process.argv.slice(2))

function parseArgs (args: string[]): { seconds: number, honestPeers: number, intervalMs: number, sustained: boolean } {
  let seconds = 30
  let honestPeers = 3
  let intervalMs = 200
  let sustained = false
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--sustained') {
      sustained = true
    } else if (args[i] === '--honest' && /^[1-9]\d*$/.test(args[i + 1] ?? '')) {
      honestPeers = Number(args[++i])
    } else if (args[i] === '--interval' && /^[1-9]\d*$/.test(args[i + 1] ?? '')) {
      intervalMs = Number(args[++i])
    } else if (/^[1-9]\d*$/.test(args[i])) {
      seconds = Number(args[i])
    } else {
      throw new Error(`usage: bench-flood [SECONDS] [--honest K] [--interval MS] [--sustained] (unknown argument ${args[i]})`)
    }
  }
  return { seconds, honestPeers, intervalMs, sustained }
}

/** the flooder's session ends and returns, in order, with times from the flood's start: `1.1 s ended SCORE_TOO_LOW, 2.1 s back, …` (repeats of one refusal folded) */
function describeHistory (history: Array<{ at: number, event: string, reason?: string }>, start: number): string {
  const parts: string[] = []
  let last = ''
  let repeats = 0
  for (const entry of history) {
    const what = `${entry.event}${entry.reason != null ? ` ${entry.reason}` : ''}`
    if (what === last && entry.event === 'refused') {
      repeats++
      continue
    }
    if (repeats > 0) {
      parts[parts.length - 1] += ` (×${repeats + 1} to the end)`
      repeats = 0
    }
    parts.push(`${((entry.at - start) / 1000).toFixed(1)} s ${what}`)
    last = what
  }
  if (repeats > 0) {
    parts[parts.length - 1] += ` (×${repeats + 1} to the end)`
  }
  return parts.length === 0 ? 'never cut off' : parts.join(', ')
}

/** One peer process and the JSON lines it prints */
class Peer {
  readonly name: string
  readonly child: ChildProcessByStdio<Writable, Readable, null>
  private readonly waiting = new Map<string, (msg: any) => void>()
  private readonly seen = new Map<string, any>()
  readonly samples: Array<{ at: number, ms: number, ok: boolean, code?: string }> = []
  /** the CPU time the process reported having used (cumulative ms), at epoch ms */
  readonly cpu: Array<{ at: number, ms: number }> = []
  readonly exited: Promise<number | null>

  constructor (name: string, args: string[]) {
    this.name = name
    this.child = spawn(process.execPath, [PEER_SCRIPT, ...args], { stdio: ['pipe', 'pipe', 'inherit'] })
    this.exited = new Promise(resolve => { this.child.once('exit', resolve) })
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      const msg = JSON.parse(line)
      if (msg.event === 'sample') {
        this.samples.push(msg)
        return
      }
      if (msg.event === 'cpu') {
        this.cpu.push(msg)
        return
      }
      this.seen.set(msg.event, msg)
      this.waiting.get(msg.event)?.(msg)
    })
  }

  /** The first line of `event`, once it comes */
  async next (event: string, timeoutMs = CHILD_TIMEOUT_MS): Promise<any> {
    if (this.seen.has(event)) {
      return this.seen.get(event)
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`${this.name}: no ${event} within ${timeoutMs} ms`)) }, timeoutMs)
      this.exited.then((code) => { reject(new Error(`${this.name} exited with ${code} before ${event}`)) }, () => {})
      this.waiting.set(event, (msg) => {
        clearTimeout(timer)
        resolve(msg)
      })
    })
  }

  /** The share of one core the process used from `from` to `to` (epoch ms), from its CPU reports within */
  cpuShare (from: number, to: number): number {
    const within = this.cpu.filter(c => c.at >= from && c.at <= to)
    if (within.length < 2) {
      return Number.NaN
    }
    const first = within[0]
    const last = within[within.length - 1]
    return (last.ms - first.ms) / (last.at - first.at)
  }

  /** Ends its stdin (it stops) and waits for it to exit */
  async end (): Promise<void> {
    this.child.stdin.end()
    await Promise.race([this.exited, sleep(10_000).then(() => { this.child.kill('SIGKILL') })])
  }
}

const limitPerSecond = DEFAULT_REQUEST_RATE_LIMIT * 1000 / DEFAULT_REQUEST_RATE_PERIOD_MS
const floodRate = FLOOD_FACTOR * limitPerSecond
console.info(`bench-flood: ${seconds} s baseline, then ${seconds} s with a flooder at ${floodRate} requests/s (${FLOOD_FACTOR}× the limit of ${DEFAULT_REQUEST_RATE_LIMIT} per ${DEFAULT_REQUEST_RATE_PERIOD_MS / 1000} s)${sustained ? ' that the target holds as a reserved peer (--sustained: the score never ends its session; the rate limit alone stands)' : ''}; ${honestPeers} honest peers, one request each per ${intervalMs} ms; every peer in its own process`)

// --sustained: the flooder is a reserved peer of the target, which the peer
// score never disconnects, so that the flood lasts the whole run and the rate
// limit alone stands between it and the node
const flooderKey = sustained ? await generateKeyPair('Ed25519') : undefined
const flooderKeyHex = flooderKey == null ? '-' : uint8ArrayToString(privateKeyToProtobuf(flooderKey), 'base16')
const target = new Peer('target', ['target', flooderKey == null ? '-' : peerIdFromPrivateKey(flooderKey).toString()])
const peers: Peer[] = [target]
try {
  const { multiaddr: addr } = await target.next('ready')
  const honest = Array.from({ length: honestPeers }, (_, i) => new Peer(`honest ${i + 1}`, ['honest', addr, `127.0.0.${11 + i}`, String(intervalMs)]))
  peers.push(...honest)
  await Promise.all(honest.map(async peer => peer.next('ready')))
  await sleep(WARMUP_MS)
  const baselineStart = now()
  await sleep(seconds * 1000)
  const baselineEnd = now()

  const flooder = new Peer('flooder', ['flooder', addr, '127.0.0.10', String(floodRate), String(seconds), flooderKeyHex])
  peers.push(flooder)
  const flooding = await flooder.next('flooding')
  const flood = await flooder.next('flooder', seconds * 1000 + CHILD_TIMEOUT_MS)
  await Promise.all(honest.map(async peer => peer.end()))
  await flooder.end()
  target.child.stdin.end()
  const seen = await target.next('target')
  await target.exited

  // ---- the honest peers ----
  const within = (from: number, to: number): typeof honest[number]['samples'] =>
    honest.flatMap(peer => peer.samples.filter(s => s.at >= from && s.at < to))
  const baseline = within(baselineStart, baselineEnd)
  const attack = within(flood.start, flood.end)
  const okMs = (samples: typeof baseline): number[] => samples.filter(s => s.ok).map(s => s.ms)
  const before = summarize(okMs(baseline))
  const during = summarize(okMs(attack))
  const ratio = during.p50 / before.p50
  const failedHonest = (samples: typeof baseline): string => {
    const failed = samples.filter(s => !s.ok)
    return failed.length === 0 ? 'none failed' : `${failed.length} failed (${[...new Set(failed.map(s => s.code))].join(', ')})`
  }
  console.info(`honest request p50: ${before.p50.toFixed(2)} ms without the attack (n=${before.n}, p90 ${before.p90.toFixed(2)} ms), ${during.p50.toFixed(2)} ms under it (n=${during.n}, p90 ${during.p90.toFixed(2)} ms): ratio ${ratio.toFixed(2)} (goal ≤ ${TARGET_P50_RATIO}) ${ratio <= TARGET_P50_RATIO ? 'PASS' : 'FAIL'}`)
  console.info(`honest requests: baseline ${failedHonest(baseline)}; under the attack ${failedHonest(attack)}`)
  const percent = (share: number): string => `${(share * 100).toFixed(0)} %`
  console.info(`target's CPU: ${percent(target.cpuShare(baselineStart, baselineEnd))} of a core without the attack, ${percent(target.cpuShare(flood.start, flood.end))} under it`)

  // ---- the flooder ----
  const attackSeconds = (flood.end - flood.start) / 1000
  const allowed = Math.floor(DEFAULT_REQUEST_RATE_LIMIT + limitPerSecond * attackSeconds)
  const overLimit = Math.max(0, flood.sent - allowed)
  console.info(`flooder: ${flood.sent} requests sent in ${attackSeconds.toFixed(1)} s, ${(flood.sent / attackSeconds).toFixed(0)}/s (${flood.notSent} more not sent: ${DEFAULT_MAX_IN_FLIGHT_PER_PEER} already in flight, or no session); served ${flood.served} (the limit allows at most ${allowed}); refused RESOURCE_UNAVAILABLE by the rate limit ${flood.rateLimited}, by the in-flight limit ${flood.inFlightRefused}; cut short by the session's end ${flood.cutBySessionEnd}; failed otherwise ${flood.failed}${flood.failed > 0 ? ` (${Object.entries(flood.otherErrors).map(([name, count]) => `${name} ×${count}`).join(', ')})` : ''}`)
  const everyRefused = flood.served <= allowed && flood.failed === 0 && flood.served + flood.rateLimited + flood.inFlightRefused + flood.cutBySessionEnd === flood.sent
  console.info(`every over-limit request refused with RESOURCE_UNAVAILABLE: ${everyRefused ? 'yes' : 'no'} (${overLimit} over the limit, ${flood.rateLimited + flood.inFlightRefused} refused)`)
  const flooderId: string = flooding.peerId
  const honestIds = new Set(await Promise.all(honest.map(async peer => (await peer.next('ready')).peerId as string)))
  const honestReports = Object.entries(seen.limited as Record<string, number>).filter(([peer]) => honestIds.has(peer)).reduce((sum, [, count]) => sum + count, 0)
  console.info(`target: ${seen.limited[flooderId] ?? 0} rate-limit reports (peer:report) for the flooder, ${honestReports} for the honest peers`)

  // ---- the flooder's session ----
  // the session's end during the flood (the flooder's own stop ends it too, later)
  const ended = (seen.ended as Array<{ peerId: string, reason: string, side: string, at: number }>).find(end => end.peerId === flooderId && end.at <= flood.end)
  if (flood.sessionEnd != null) {
    console.info(`flooder's session: ended ${((flood.sessionEnd.at - flood.start) / 1000).toFixed(1)} s into the flood, reason ${flood.sessionEnd.reason} (on the flooder's side: ${flood.sessionEnd.side}; the target says ${ended?.reason ?? 'nothing'})${(seen.bans as string[]).includes(flooderId) ? '; the target banned it' : ''}`)
    console.info(`flooder coming back: ${describeHistory(flood.history, flood.start)}`)
  } else {
    console.info(`flooder's session: still open when the flood ended (${sustained ? 'a reserved peer: --sustained' : 'this build does not end a session for rate-limit reports'})${ended != null ? `; yet the target saw it end: ${ended.reason} (${ended.side})` : ''}`)
  }
} finally {
  for (const peer of peers) {
    peer.child.kill('SIGKILL')
  }
}
process.exit(0)
