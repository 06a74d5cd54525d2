/**
 * Simulated time for the scale lab's simulation (`npm run lab -- --sim
 * --dilation K`).
 *
 * A simulation runs N nodes on one event loop. At 1,000 nodes each node gets
 * a thousandth of a core, and every deadline in the stack (Noise within the
 * dial's 10 s, the handshake's 5 s, the keep-alive's 5 s) expires for want of
 * CPU, not for anything the protocol does: the simulation would measure the
 * machine. Here every clock and timer of the process reads one simulated
 * clock instead of the wall clock:
 *
 * - **while the event loop works**, simulated time runs K times slower than
 *   the wall clock, so a node's CPU work takes 1/K of its wall time. With
 *   K = N each node has at least a core of its own, however many of the N
 *   are busy at once;
 * - **while the event loop has nothing to do but wait for a timer** (no
 *   timer due, no immediate queued, the last timer's microtasks run), the
 *   clock jumps to the next timer's deadline, so no wall time is spent
 *   waiting out a backoff or an interval (a discrete-event simulation's
 *   step). A memory transport and an in-memory datastore have no I/O to wait
 *   for; as a fallback for work on other threads, a 2 ms window in which the
 *   loop was idle also lets the clock jump.
 *
 * The code, its timeouts, intervals and backoffs and the order of events are
 * unchanged: time is the only thing that differs, and every time the lab
 * reports is simulated time.
 *
 * What reads the simulated clock: `setTimeout`, `setInterval`,
 * `clearTimeout`, `clearInterval` (global and `node:timers`),
 * `node:timers/promises`' `setTimeout`, `AbortSignal.timeout`, `Date.now`
 * and `performance.now`: every clock libp2p 3.3.11, its services and
 * peergate read (`grep -r "AbortSignal.timeout\|Date.now\|performance.now"`).
 * `setImmediate`, `new Date()`, `process.hrtime` and the kernel's own timeouts
 * are left as they are (no node's decision reads them). Timers fire in
 * deadline order, one per turn of the loop with the microtask queue drained
 * between them, as Node's own do.
 *
 * Install it before the nodes start, once per process; there is no undo.
 */
import { createRequire, syncBuiltinESMExports } from 'node:module'
import { performance as perfHooks } from 'node:perf_hooks'

const require = createRequire(import.meta.url)

/** simulated time: from `origin` on, `factor` times slower than `real` */
export function dilated (real: number, origin: number, factor: number): number {
  return origin + (real - origin) / factor
}

/** a timer's delay in simulated ms as Node takes it: undefined, NaN, under 1 and over 2^31 − 1 ms are 1 ms */
export function timerDelay (ms: number | undefined): number {
  const delay = Number(ms)
  return Number.isFinite(delay) && delay >= 1 && delay <= TIMEOUT_MAX ? delay : 1
}

const TIMEOUT_MAX = 2 ** 31 - 1

/**
 * How long the loop must have been idle, in wall-clock ms, before the clock
 * jumps to the next deadline. Long enough that work handed to another
 * thread (a hash, a key) has come back; the loop's utilisation over that
 * window says it was idle.
 */
const IDLE_PROBE_MS = 2
/** utilisation under which a probe window counts as idle */
const IDLE_UTILISATION = 0.05

/** a binary min-heap of timers by deadline, then by when they were armed */
class TimerHeap {
  private readonly items: Array<{ deadline: number, seq: number, timer: SimTimer }> = []

  get size (): number { return this.items.length }

  peek (): { deadline: number, seq: number, timer: SimTimer } | undefined { return this.items[0] }

  push (item: { deadline: number, seq: number, timer: SimTimer }): void {
    const items = this.items
    items.push(item)
    let i = items.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(items[i], items[parent])) break
      ;[items[i], items[parent]] = [items[parent], items[i]]
      i = parent
    }
  }

  pop (): { deadline: number, seq: number, timer: SimTimer } | undefined {
    const items = this.items
    const top = items[0]
    const last = items.pop()
    if (items.length > 0 && last != null) {
      items[0] = last
      let i = 0
      for (;;) {
        const left = 2 * i + 1
        const right = left + 1
        let least = i
        if (left < items.length && before(items[left], items[least])) least = left
        if (right < items.length && before(items[right], items[least])) least = right
        if (least === i) break
        ;[items[i], items[least]] = [items[least], items[i]]
        i = least
      }
    }
    return top
  }
}

const before = (a: { deadline: number, seq: number }, b: { deadline: number, seq: number }): boolean =>
  a.deadline < b.deadline || (a.deadline === b.deadline && a.seq < b.seq)

let clock: SimClock | undefined

/** a timer on the simulated clock, with the methods of Node's `Timeout` */
class SimTimer {
  active = false
  refed = true
  seq = 0
  readonly id: number

  constructor (
    private readonly owner: SimClock,
    readonly callback: (...args: any[]) => void,
    readonly delay: number,
    readonly repeat: boolean,
    readonly args: unknown[]
  ) {
    this.id = owner.nextId++
  }

  ref (): this { this.owner.setRef(this, true); return this }
  unref (): this { this.owner.setRef(this, false); return this }
  hasRef (): boolean { return this.refed }
  refresh (): this {
    if (this.active) this.owner.arm(this)
    return this
  }

  close (): this { this.owner.disarm(this); return this }
  [Symbol.toPrimitive] (): number { return this.id }
  [Symbol.dispose] (): void { this.owner.disarm(this) }
}

/** the one simulated clock of this process */
class SimClock {
  nextId = 1
  private seq = 0
  private readonly heap = new TimerHeap()
  private refs = 0
  private simBase: number
  private realBase: number
  private wake?: ReturnType<typeof setTimeout>
  private wakeAt = Infinity
  private probe?: ReturnType<typeof setTimeout>
  private probeFrom?: ReturnType<typeof perfHooks.eventLoopUtilization>
  private running = false
  /** simulated ms skipped by idle jumps, for the lab's report */
  skipped = 0
  /** immediates queued by the code under simulation and not yet run */
  pendingImmediates = 0

  constructor (
    readonly factor: number,
    private readonly realNow: () => number,
    private readonly realSetTimeout: typeof setTimeout,
    private readonly realClearTimeout: typeof clearTimeout,
    private readonly realSetImmediate: typeof setImmediate
  ) {
    this.realBase = realNow()
    this.simBase = this.realBase
  }

  now (): number {
    return dilated(this.realNow(), this.realBase, this.factor) - this.realBase + this.simBase
  }

  timer (callback: (...args: any[]) => void, ms: number | undefined, repeat: boolean, args: unknown[]): SimTimer {
    if (typeof callback !== 'function') {
      throw new TypeError('The "callback" argument must be of type function')
    }
    const timer = new SimTimer(this, callback, timerDelay(ms), repeat, args)
    this.arm(timer)
    return timer
  }

  arm (timer: SimTimer): void {
    if (!timer.active) {
      timer.active = true
      if (timer.refed) this.refs++
    }
    timer.seq = ++this.seq
    this.heap.push({ deadline: this.now() + timer.delay, seq: timer.seq, timer })
    this.schedule()
  }

  disarm (timer: SimTimer): void {
    if (timer.active) {
      timer.active = false
      if (timer.refed) this.refs--
    }
  }

  setRef (timer: SimTimer, refed: boolean): void {
    if (timer.refed !== refed && timer.active) this.refs += refed ? 1 : -1
    timer.refed = refed
    this.schedule()
  }

  /** arms the wake-up for the next deadline and the idle probe */
  private schedule (): void {
    if (this.running) return
    const next = this.nextLive()
    if (next == null) {
      this.clearWake()
      return
    }
    const wallDelay = Math.max(0, (next.deadline - this.now()) * this.factor)
    const at = this.realNow() + wallDelay
    if (this.wake == null || at < this.wakeAt - 0.5) {
      this.clearWake()
      this.wakeAt = at
      this.wake = this.realSetTimeout(() => { this.wake = undefined; this.wakeAt = Infinity; this.runDue() }, wallDelay)
    }
    if (this.refs > 0) this.wake?.ref()
    else this.wake?.unref()
    if (this.probe == null) {
      this.probeFrom = perfHooks.eventLoopUtilization()
      this.probe = this.realSetTimeout(() => { this.probe = undefined; this.idleCheck() }, IDLE_PROBE_MS)
      this.probe.unref()
    }
  }

  private clearWake (): void {
    if (this.wake != null) this.realClearTimeout(this.wake)
    this.wake = undefined
    this.wakeAt = Infinity
  }

  /** the earliest armed timer, dropping entries of cleared or re-armed ones */
  private nextLive (): { deadline: number, seq: number, timer: SimTimer } | undefined {
    for (let top = this.heap.peek(); top != null; top = this.heap.peek()) {
      if (top.timer.active && top.timer.seq === top.seq) return top
      this.heap.pop()
    }
    return undefined
  }

  /** the loop was idle for the whole probe window: jump to the next deadline */
  private idleCheck (): void {
    const window = perfHooks.eventLoopUtilization(this.probeFrom)
    const next = this.nextLive()
    if (next != null && window.utilization < IDLE_UTILISATION) {
      this.jumpTo(next.deadline)
      this.runDue()
      return
    }
    this.schedule()
  }

  private jumpTo (deadline: number): void {
    const now = this.now()
    if (deadline > now) {
      this.skipped += deadline - now
      this.simBase = deadline
      this.realBase = this.realNow()
    }
    this.clearWake()
  }

  /**
   * Runs the due timers one per turn of the loop, microtasks drained between
   * them. When none is due and nothing else is queued (no immediate; the
   * microtasks of the last timer have run, and a memory transport has no
   * I/O), the loop has nothing to do but wait: the clock jumps to the next
   * deadline at once.
   */
  private runDue (): void {
    let next = this.nextLive()
    if (next != null && next.deadline > this.now() && this.pendingImmediates === 0) {
      this.jumpTo(next.deadline)
    }
    next = this.nextLive()
    if (next == null || next.deadline > this.now()) {
      this.schedule()
      return
    }
    this.heap.pop()
    const timer = next.timer
    if (timer.repeat) {
      timer.seq = ++this.seq
      this.heap.push({ deadline: this.now() + timer.delay, seq: timer.seq, timer })
    } else {
      this.disarm(timer)
    }
    this.running = true
    try {
      timer.callback(...timer.args)
    } finally {
      this.running = false
      this.realSetImmediate(() => { this.runDue() })
    }
  }
}

/** runs this process on simulated time, `factor` (≥ 1) times slower than the wall clock while it works */
export function dilateTime (factor: number): void {
  if (!Number.isFinite(factor) || factor < 1) {
    throw new RangeError(`time dilation must be a number ≥ 1, got ${factor}`)
  }
  if (clock != null) {
    throw new Error(`time is already dilated ${clock.factor}×`)
  }
  const realPerformanceNow = performance.now.bind(performance)
  const realSetTimeout = globalThis.setTimeout
  const realClearTimeout = globalThis.clearTimeout
  const realClearInterval = globalThis.clearInterval
  const sim = clock = new SimClock(factor, realPerformanceNow, realSetTimeout, realClearTimeout, globalThis.setImmediate)

  const simTimeout = ((callback: (...args: any[]) => void, ms?: number, ...args: unknown[]) => sim.timer(callback, ms, false, args)) as unknown as typeof setTimeout
  const simInterval = ((callback: (...args: any[]) => void, ms?: number, ...args: unknown[]) => sim.timer(callback, ms, true, args)) as unknown as typeof setInterval
  const clear = (real: (timer: any) => void) => (timer?: unknown): void => {
    if (timer instanceof SimTimer) timer.close()
    else real(timer as any)
  }
  // immediates are left on the loop, counted: the clock never jumps over one
  const realSetImmediate = globalThis.setImmediate
  const realClearImmediate = globalThis.clearImmediate
  const queued = new WeakSet<object>()
  globalThis.setImmediate = Object.assign((callback: (...args: any[]) => void, ...args: unknown[]) => {
    sim.pendingImmediates++
    const immediate = realSetImmediate((...callbackArgs: unknown[]) => {
      if (queued.delete(immediate)) sim.pendingImmediates--
      callback(...callbackArgs)
    }, ...args)
    queued.add(immediate)
    return immediate
  }, { __promisify__: (realSetImmediate as any).__promisify__ }) as typeof setImmediate
  globalThis.clearImmediate = (immediate?: NodeJS.Immediate): void => {
    if (immediate != null && queued.delete(immediate)) sim.pendingImmediates--
    realClearImmediate(immediate)
  }
  globalThis.setTimeout = simTimeout
  globalThis.setInterval = simInterval
  globalThis.clearTimeout = clear(realClearTimeout)
  globalThis.clearInterval = clear(realClearInterval)
  const { setTimeout, setInterval, clearTimeout, clearInterval, setImmediate, clearImmediate } = globalThis
  Object.assign(require('node:timers'), { setTimeout, setInterval, clearTimeout, clearInterval, setImmediate, clearImmediate })
  const timersPromises = require('node:timers/promises')
  timersPromises.setTimeout = async <T>(ms?: number, value?: T, options: { signal?: AbortSignal, ref?: boolean } = {}): Promise<T | undefined> =>
    await new Promise((resolve, reject) => {
      const signal = options.signal
      if (signal?.aborted === true) {
        reject(Object.assign(new Error('The operation was aborted', { cause: signal.reason }), { name: 'AbortError', code: 'ABORT_ERR' }))
        return
      }
      const onAbort = (): void => {
        timer.close()
        reject(Object.assign(new Error('The operation was aborted', { cause: signal?.reason }), { name: 'AbortError', code: 'ABORT_ERR' }))
      }
      const timer = sim.timer(() => {
        signal?.removeEventListener('abort', onAbort)
        resolve(value)
      }, ms, false, [])
      if (options.ref === false) timer.unref()
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  syncBuiltinESMExports()

  // as Node's own: the timer holds the signal weakly, so a signal nobody
  // listens to any more is collected before its deadline
  const controllers = new WeakMap<AbortSignal, AbortController>()
  AbortSignal.timeout = (ms: number): AbortSignal => {
    const controller = new AbortController()
    controllers.set(controller.signal, controller)
    const signal = new WeakRef(controller.signal)
    sim.timer(() => {
      const target = signal.deref()
      if (target != null) {
        controllers.get(target)?.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'))
      }
    }, ms, false, []).unref()
    return controller.signal
  }

  const dateOrigin = Date.now() - realPerformanceNow()
  Date.now = () => Math.floor(dateOrigin + sim.now())
  Object.defineProperty(performance, 'now', { configurable: true, value: () => sim.now() })
}

/** the factor this process runs at (1 when not dilated) */
export function timeDilation (): number {
  return clock?.factor ?? 1
}

/** simulated ms the clock skipped while the loop was idle (0 when not dilated) */
export function skippedMs (): number {
  return clock?.skipped ?? 0
}
