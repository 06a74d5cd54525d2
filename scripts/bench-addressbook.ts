/**
 * npm run bench:addressbook [-- N]
 *
 * A child process fills an address book of N contacts (default 100,000) on a
 * LevelDB datastore in a temporary directory, with varied failures, backoffs
 * and sessions so that selection has work. Then this process, fresh as a
 * restarting node, times on the same directory:
 *
 * - `load()` of the whole book (target ≤ 1000 ms), against the baseline of a
 *   bare scan of the same records (no decoding) in the same run;
 * - one dial-tick selection (`selectDials` over `book.candidates()`) of every
 *   contact, 50 runs after 5 warm-up runs (target ≤ 5 ms), against the
 *   baseline of a bare pass over the book's nextAttempt column, counting the
 *   contacts due; the first (cold: unoptimised code, first decodes) run is
 *   shown apart.
 *
 * Peer ids come from random 32-byte Ed25519 public keys: valid peer ids that
 * cost no key generation.
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { publicKeyFromRaw } from '@libp2p/crypto/keys'
import { defaultLogger } from '@libp2p/logger'
import { peerIdFromPublicKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { LevelDatastore } from 'datastore-level'
import { PersistentAddressBook } from '../src/addressbook/address-book.js'
import { ADDRESS_BOOK_PREFIX } from '../src/addressbook/constants.js'
import { selectDials } from '../src/dial/select.js'
import { LocalReason, ReasonCode } from '../src/reason/index.js'
import { percentile } from './stats.js'
import type { ContactSource, NewContact } from '../src/addressbook/index.js'
import type { PeerId } from '@libp2p/interface'

const LOAD_TARGET_MS = 1000
const SELECT_TARGET_MS = 5
const SELECT_RUNS = 50
const SELECT_WARMUP_RUNS = 5
const MAX_DIALS = 8
const BUSY_PEERS = 200
const BANNED_PEERS = 200
const WRITE_CONCURRENCY = 1000
const ADD_BATCH = 10_000
const SOURCES: ContactSource[] = ['bootstrap', 'dht', 'dht', 'dht', 'inbound', 'manual']

/** what the filling child reports to the measuring parent */
interface FillReport {
  /** the clock of the selection, ms since the epoch */
  now: number
  busy: string[]
  banned: string[]
  addManyMs: number
  recordMs: number
  maxRssKiB: number
}

function ms (value: number): string {
  return value >= 100 ? value.toFixed(0) : value.toFixed(2)
}

function newContact (i: number): NewContact {
  const peerId = peerIdFromPublicKey(publicKeyFromRaw(randomBytes(32)))
  const multiaddrs = Array.from({ length: 1 + (i % 3) }, (_, j) =>
    multiaddr(`/ip4/10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/tcp/${4001 + j}`))
  return { peerId, multiaddrs, source: SOURCES[i % SOURCES.length] }
}

/** runs `work` for every index, at most WRITE_CONCURRENCY at a time */
async function forEachIndex (count: number, work: (i: number) => Promise<unknown>): Promise<void> {
  for (let start = 0; start < count; start += WRITE_CONCURRENCY) {
    const chunk: Array<Promise<unknown>> = []
    for (let i = start; i < Math.min(count, start + WRITE_CONCURRENCY); i++) {
      chunk.push(work(i))
    }
    await Promise.all(chunk)
  }
}

/** the child's part: writes n contacts through the address book */
async function fill (dir: string, n: number): Promise<FillReport> {
  const t0 = Date.now()
  let clockMs = t0
  const datastore = new LevelDatastore(dir)
  await datastore.open()
  const book = new PersistentAddressBook({ datastore, logger: defaultLogger() }, { maxContacts: n, now: () => clockMs })
  await book.load()

  let started = performance.now()
  const peers: PeerId[] = []
  for (let start = 0; start < n; start += ADD_BATCH) {
    const batch = Array.from({ length: Math.min(ADD_BATCH, n - start) }, (_, j) => newContact(start + j))
    peers.push(...batch.map(c => c.peerId))
    clockMs = t0 - (n - start) * 1000
    await book.addMany(batch)
  }
  const addManyMs = performance.now() - started

  // the selection runs at t0: contacts failed or closed at varied times before
  // it, so some have waited out their backoff and some have not
  started = performance.now()
  await forEachIndex(n, async (i) => {
    const peer = peers[i]
    // each call reads the clock when it is made, so set it before each one
    const at = t0 - (i % 7200) * 1000
    switch (i % 10) {
      case 0:
      case 1:
      case 2:
        clockMs = at
        await book.recordSession(peer, `did:key:z6Mkbench${i}`)
        if (i % 2 === 0) {
          clockMs = at
          await book.recordOutcome(peer, LocalReason.SESSION_ENDED)
        }
        break
      case 3:
      case 4:
      case 5:
        for (let f = 0; f <= i % 12; f++) {
          clockMs = at
          await book.recordOutcome(peer, ReasonCode.TIMEOUT)
        }
        break
      case 6:
        clockMs = at
        await book.recordOutcome(peer, ReasonCode.WRONG_CHAIN)
        break
      default:
        break
    }
  })
  await book.flush()
  const recordMs = performance.now() - started
  await datastore.close()
  return {
    now: t0,
    busy: peers.slice(0, BUSY_PEERS).map(String),
    banned: peers.slice(BUSY_PEERS, BUSY_PEERS + BANNED_PEERS).map(String),
    addManyMs,
    recordMs,
    maxRssKiB: process.resourceUsage().maxRSS
  }
}

async function fillInChild (dir: string, n: number): Promise<FillReport> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--fill', dir, String(n)], {
    stdio: ['ignore', 'pipe', 'inherit']
  })
  let output = ''
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', (chunk: string) => { output += chunk })
  const code = await new Promise<number | null>(resolve => child.once('exit', resolve))
  if (code !== 0) {
    throw new Error(`filling child exited with ${code}`)
  }
  return JSON.parse(output)
}

/** the parent's part: loads the filled book and times load and selection */
async function measure (dir: string, n: number): Promise<void> {
  const filled = await fillInChild(dir, n)
  console.info(`set-up (child process): ${n} contacts written with addMany in ${ms(filled.addManyMs)} ms, varied backoffs in ${ms(filled.recordMs)} ms, peak RSS ${(filled.maxRssKiB / 1024).toFixed(0)} MiB`)

  let datastore = new LevelDatastore(dir)
  await datastore.open()
  const book = new PersistentAddressBook({ datastore, logger: defaultLogger() }, { maxContacts: n, now: () => filled.now })
  let started = performance.now()
  await book.load()
  const loadMs = performance.now() - started
  await datastore.close()

  datastore = new LevelDatastore(dir)
  await datastore.open()
  started = performance.now()
  let records = 0
  for await (const { value } of datastore.query({ prefix: `${ADDRESS_BOOK_PREFIX}/` })) {
    records += value.byteLength > 0 ? 1 : 0
  }
  const scanMs = performance.now() - started
  await datastore.close()

  if (book.size !== n || records !== n) {
    throw new Error(`expected ${n} contacts, loaded ${book.size} of ${records} records`)
  }
  console.info(`load ${book.size} contacts: ${ms(loadMs)} ms (target ≤ ${LOAD_TARGET_MS} ms); bare scan of the records: ${ms(scanMs)} ms, load/scan ${(loadMs / scanMs).toFixed(1)}×`)

  const input = {
    now: filled.now,
    maxDials: MAX_DIALS,
    busy: new Set(filled.busy),
    bans: new Map(filled.banned.map(id => [id, filled.now + 60_000]))
  }

  const selectSamples: number[] = []
  const passSamples: number[] = []
  let chosen = 0
  let due = 0
  let firstMs = 0
  for (let run = 0; run < SELECT_WARMUP_RUNS + SELECT_RUNS; run++) {
    let t = performance.now()
    chosen = selectDials({ ...input, contacts: book.candidates() }).length
    const selectMs = performance.now() - t
    if (run === 0) {
      firstMs = selectMs
    }
    t = performance.now()
    const { size, nextAttempt } = book.candidates()
    due = 0
    for (let i = 0; i < size; i++) {
      if (nextAttempt[i] <= filled.now) {
        due++
      }
    }
    const passMs = performance.now() - t
    if (run >= SELECT_WARMUP_RUNS) {
      selectSamples.push(selectMs)
      passSamples.push(passMs)
    }
  }
  selectSamples.sort((a, b) => a - b)
  passSamples.sort((a, b) => a - b)
  const p50 = percentile(selectSamples, 50)
  const passP50 = percentile(passSamples, 50)
  console.info(`dial-tick selection over ${book.size} contacts (${due} due, ${chosen} chosen of max ${MAX_DIALS}): p50 ${ms(p50)} ms, max ${ms(selectSamples[selectSamples.length - 1])} ms over ${SELECT_RUNS} runs after ${SELECT_WARMUP_RUNS} warm-up runs (target ≤ ${SELECT_TARGET_MS} ms), first (cold) run ${ms(firstMs)} ms; bare pass over the nextAttempt column: p50 ${ms(passP50)} ms, selection/pass ${(p50 / passP50).toFixed(1)}×`)
  console.info(`peak RSS (measuring process): ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`)
}

if (process.argv[2] === '--fill') {
  process.stdout.write(JSON.stringify(await fill(process.argv[3], Number(process.argv[4]))))
} else {
  const n = Number(process.argv[2] ?? process.env.BENCH_N ?? 100_000)
  const dir = await mkdtemp(join(tmpdir(), 'peergate-bench-addressbook-'))
  try {
    await measure(dir, n)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
