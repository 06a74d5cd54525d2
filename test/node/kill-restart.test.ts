/**
 * Issue 22, faults: `kill -9` of a node at random moments, 20 times in a row,
 * each time restarted on the same data dir. The victim is a real process
 * (test/utils/fault-victim.ts) that opens handshakes, status rounds and
 * Goodbyes with two peers of its own, writes contacts and bans and lifts
 * them, and says on stdout what it starts and what it finished. The test
 * picks what to kill it during (a seeded random pick, printed; replay one with
 * PEERGATE_FAULT_SEED=<seed>), kills it once that starts, and checks the next
 * start: the data dir opens, the peer id, DID, key files and chain record are
 * the same, every ban set before the kill is there with its end (and no ban
 * lifted before it), and every contact whose write completed is there.
 */
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { after, test } from 'node:test'
import { TestNetwork } from '../utils/nodes.js'
import { seededRandom, testSeed } from '../utils/random.js'

const VICTIM = fileURLToPath(new URL('../utils/fault-victim.js', import.meta.url))
const KILLS = 20
/** what each kill lands in, in turn after the first (which interrupts the very first start) */
const TARGETS = ['handshake', 'contacts', 'goodbye', 'status', 'ban', 'unban', 'start'] as const
/** steps a run finishes before its kill is armed, so that every run writes something */
const STEPS_BEFORE_KILL = 6
/** the kill comes this long (at most) after the step it aims at began */
const MAX_STEP_DELAY_MS = 3
/** opening the data dir and starting libp2p takes 150-400 ms here: a kill within it */
const MAX_START_DELAY_MS = 250
/** a run that never reaches its target is killed anyway after this long */
const ARMED_TIMEOUT_MS = 5_000
const RUN_TIMEOUT_MS = 20_000
const IDENTITY_FILES = ['peer-key.json', 'did-key.json', 'chain.json']

const net = new TestNetwork()
/** victims alive, killed if the test ends early */
const victims = new Set<ChildProcess>()
after(async () => {
  for (const child of victims) {
    child.kill('SIGKILL')
  }
  await net.cleanup()
})

interface Opened {
  peerId: string
  did: string
  contacts: string[]
  bans: Record<string, number>
}

interface Run {
  opened?: Opened
  /** every stdout line the victim wrote, parsed, read to the end after the kill */
  lines: any[]
  stderr: string
  signal: NodeJS.Signals | null
  code: number | null
  /** armed: the kill aimed at its target; fallback: the target never came */
  kill: 'aimed' | 'fallback' | 'none'
}

/**
 * One run of the victim on `dataDir`: spawned ahead, it loads its modules
 * while the run before it works, and opens the data dir once `go` lets it
 */
class Victim {
  private readonly child: ChildProcess
  private readonly result: Run = { lines: [], stderr: '', signal: null, code: null, kill: 'none' }
  private readonly ended: Promise<void>
  private onLine: (line: any) => void = () => {}

  constructor (dataDir: string, seed: number) {
    this.child = spawn(process.execPath, [VICTIM, dataDir, String(seed)], { stdio: ['pipe', 'pipe', 'pipe'] })
    victims.add(this.child)
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { this.result.stderr += chunk })
    const lines = createInterface({ input: this.child.stdout! })
    lines.on('line', (text) => {
      const line = JSON.parse(text)
      this.result.lines.push(line)
      this.onLine(line)
    })
    this.ended = Promise.all([
      new Promise<void>(resolve => this.child.once('exit', (code, signal) => {
        this.result.code = code
        this.result.signal = signal
        resolve()
      })),
      new Promise(resolve => lines.once('close', resolve))
    ]).then(() => { victims.delete(this.child) })
  }

  /**
   * Lets the victim open the data dir and kills it with SIGKILL `delayMs`
   * after it begins `target` (once it finished STEPS_BEFORE_KILL steps;
   * `start`: its open of the data dir), or right after it opened when
   * `target` is undefined; resolves once it is dead and all it wrote is read
   */
  async go (target: string | undefined, delayMs: number, onOpened: (opened: Opened) => void): Promise<Run> {
    const result = this.result
    let done = 0
    let armed: NodeJS.Timeout | undefined
    let killing = false
    const kill = (how: Run['kill']): void => {
      if (!killing) {
        killing = true
        result.kill = how
        clearTimeout(armed)
        setTimeout(() => { this.child.kill('SIGKILL') }, how === 'aimed' ? delayMs : 0)
      }
    }
    const guard = setTimeout(() => { this.child.kill('SIGKILL') }, RUN_TIMEOUT_MS)
    this.onLine = (line) => {
      if (killing) {
        return
      }
      if (line.opened != null) {
        result.opened = line.opened
        onOpened(line.opened)
        if (target == null) {
          kill('none')
        }
      } else if (line.done != null || line.failed != null) {
        done++
        if (done === STEPS_BEFORE_KILL) {
          armed = setTimeout(() => { kill('fallback') }, ARMED_TIMEOUT_MS)
        }
      }
      if (line.phase != null && line.phase === target && (target === 'start' || done >= STEPS_BEFORE_KILL)) {
        kill('aimed')
      }
    }
    this.child.stdin!.end('go\n')
    await this.ended
    clearTimeout(guard)
    clearTimeout(armed)
    return result
  }
}

/** What the last line the victim wrote says it was doing when it died */
function killedDuring (lines: any[]): string {
  let phase = 'import'
  for (const line of lines) {
    if (line.phase != null) {
      phase = line.phase
    } else if (line.opened != null) {
      phase = 'peers starting'
    } else if (line.done != null || line.failed != null) {
      phase = `between steps (after ${String(line.done ?? line.failed)})`
    }
  }
  return phase
}

test(`${KILLS} kill -9 + restart cycles: the data dir opens, keys, chain record and bans unchanged, no contact written before the kill lost`, async (t) => {
  const seed = testSeed(process.env.PEERGATE_FAULT_SEED)
  t.diagnostic(`seed ${seed} (PEERGATE_FAULT_SEED=${seed} replays the same picks)`)
  const random = seededRandom(seed)
  const dataDir = await net.dir()
  const started = Date.now()

  let identity: { peerId: string, did: string, files: string[] } | undefined
  /** contacts whose write completed before a kill */
  const written = new Set<string>()
  /** bans in force and when they end, as last seen */
  let bans = new Map<string, number>()
  /** bans set or lifted by a step a kill interrupted: either way is right */
  const uncertain = new Set<string>()
  const during: string[] = []
  /** steps that failed (a timeout on a busy machine, say): the victim went on */
  let failedSteps = 0
  let next: Victim | undefined = new Victim(dataDir, Math.floor(random() * 2 ** 31))

  for (let cycle = 0; cycle <= KILLS; cycle++) {
    const target = cycle === KILLS ? undefined : cycle === 0 ? 'start' : TARGETS[(cycle - 1) % TARGETS.length]
    const delayMs = Math.floor(random() * (target === 'start' ? MAX_START_DELAY_MS : MAX_STEP_DELAY_MS))
    const what = `cycle ${cycle} (seed ${seed})`
    let checked = false
    const opened = async (loaded: Opened): Promise<void> => {
      const files = await Promise.all(IDENTITY_FILES.map(async name => readFile(join(dataDir, name), 'utf8')))
      if (identity == null) {
        identity = { peerId: loaded.peerId, did: loaded.did, files }
      } else {
        assert.equal(loaded.peerId, identity.peerId, `${what}: the peer id changed`)
        assert.equal(loaded.did, identity.did, `${what}: the DID changed`)
        assert.deepEqual(files, identity.files, `${what}: a key file or the chain record changed`)
      }
      const contacts = new Set(loaded.contacts)
      const lost = [...written].filter(id => !contacts.has(id))
      assert.deepEqual(lost, [], `${what}: contacts written before the kill are lost`)
      for (const [target, until] of bans) {
        if (!uncertain.has(target)) {
          assert.equal(loaded.bans[target], until, `${what}: the ban of ${target} set before the kill`)
        }
      }
      for (const target of Object.keys(loaded.bans)) {
        assert.ok(bans.has(target) || uncertain.has(target), `${what}: ban of ${target}, lifted before the kill (or never set), is back`)
      }
      bans = new Map(Object.entries(loaded.bans))
      uncertain.clear()
      checked = true
    }
    let check: Promise<void> = Promise.resolve()
    const victim = next as Victim
    next = cycle < KILLS ? new Victim(dataDir, Math.floor(random() * 2 ** 31)) : undefined
    const result = await victim.go(target, delayMs, (loaded) => {
      check = opened(loaded)
      // awaited once the run is over; until then a failed check must not count as unhandled
      check.catch(() => {})
    })
    await check
    assert.ok(result.opened != null || target === 'start', `${what}: the data dir did not open (exit ${result.code}, ${result.signal}): ${result.stderr}`)
    assert.equal(result.signal, 'SIGKILL', `${what}: the victim ended by itself (exit ${result.code}): ${result.stderr}`)
    assert.ok(checked || result.opened == null)

    if (target == null) {
      break
    }
    during.push(`${killedDuring(result.lines)}${result.kill === 'fallback' ? ' (fallback)' : ''}`)
    for (const line of result.lines) {
      if (line.failed != null) {
        failedSteps++
        t.diagnostic(`${what}: step ${String(line.failed)} failed: ${String(line.error)}`)
      }
      if (line.contact != null) {
        written.add(line.contact)
      } else if (line.ban != null) {
        bans.set(line.ban, line.until)
      } else if (line.unban != null) {
        bans.delete(line.unban)
      }
    }
    // a ban or unban the kill cut short: its target may be either way
    const last = result.lines.filter(line => line.phase != null || line.done != null).at(-1)
    if (last?.phase === 'ban' || last?.phase === 'unban') {
      if (!result.lines.some(line => line[last.phase] === last.target)) {
        uncertain.add(last.target)
      }
    }
  }

  const tally = new Map<string, number>()
  for (const phase of during) {
    tally.set(phase, (tally.get(phase) ?? 0) + 1)
  }
  t.diagnostic(`${KILLS} kills in ${Date.now() - started} ms; ${written.size} contacts and ${bans.size} bans written, ${failedSteps} steps failed; killed during: ${[...tally].map(([phase, n]) => `${phase} ×${n}`).join(', ')}`)
  assert.ok(written.size > 0 && identity != null)
})
