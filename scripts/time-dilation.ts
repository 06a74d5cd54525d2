/**
 * Slowed time for the scale lab's simulation (`npm run lab -- --sim
 * --dilation K`).
 *
 * A simulation runs N nodes on one event loop. At 1,000 nodes each node gets
 * a thousandth of a core, and every deadline in the stack (Noise within the
 * dial's 10 s, the handshake's 5 s, the keep-alive's 5 s) expires for want of
 * CPU, not for anything the protocol does: the simulation would measure the
 * machine. Dilation runs every clock and timer of this process K times
 * slower than the wall clock, so each node gets K times the CPU per
 * simulated second and nothing else changes: the same code, the same
 * timeouts, intervals and backoffs, the same order of events. Time is the
 * only thing that differs, and every time the lab reports is simulated time.
 *
 * What it slows: `setTimeout`, `setInterval` (global and `node:timers`),
 * `node:timers/promises`' `setTimeout`, `AbortSignal.timeout`, `Date.now` and
 * `performance.now`. That is every clock libp2p 3.3.11, its services and
 * peergate read (`grep -r "AbortSignal.timeout\|Date.now\|performance.now"`);
 * `new Date()`, `process.hrtime` and the kernel's own timeouts are left as
 * they are (no node's decision reads them; a memory transport has no kernel
 * timeouts).
 *
 * Install it before the nodes start, once per process; there is no undo.
 */
import { createRequire, syncBuiltinESMExports } from 'node:module'

const require = createRequire(import.meta.url)

/** simulated time: from `origin` on, `factor` times slower than `real` */
export function dilated (real: number, origin: number, factor: number): number {
  return origin + (real - origin) / factor
}

/** a simulated delay in wall-clock ms (undefined, NaN and negative delays are 0, as Node's timers take them) */
export function wallDelay (ms: number | undefined, factor: number): number {
  const delay = Number(ms)
  return Number.isFinite(delay) && delay > 0 ? delay * factor : 0
}

let installed: number | undefined

/** slows every clock and timer of this process by `factor` (≥ 1) */
export function dilateTime (factor: number): void {
  if (!Number.isFinite(factor) || factor < 1) {
    throw new RangeError(`time dilation must be a number ≥ 1, got ${factor}`)
  }
  if (installed != null) {
    throw new Error(`time is already dilated ${installed}×`)
  }
  installed = factor
  if (factor === 1) {
    return
  }

  const realSetTimeout = globalThis.setTimeout
  const realSetInterval = globalThis.setInterval
  const slowTimeout = ((callback: (...args: any[]) => void, ms?: number, ...args: any[]) =>
    realSetTimeout(callback, wallDelay(ms, factor), ...args)) as typeof setTimeout
  const slowInterval = ((callback: (...args: any[]) => void, ms?: number, ...args: any[]) =>
    realSetInterval(callback, wallDelay(ms, factor), ...args)) as typeof setInterval
  globalThis.setTimeout = Object.assign(slowTimeout, { __promisify__: (globalThis.setTimeout as any).__promisify__ })
  globalThis.setInterval = slowInterval

  const timers = require('node:timers')
  timers.setTimeout = globalThis.setTimeout
  timers.setInterval = globalThis.setInterval
  const timersPromises = require('node:timers/promises')
  const realSleep = timersPromises.setTimeout
  timersPromises.setTimeout = async (ms?: number, value?: unknown, options?: unknown) => realSleep(wallDelay(ms, factor), value, options)
  syncBuiltinESMExports()

  // as Node's own: the timer holds the signal weakly, so a signal nobody
  // listens to any more is collected before its (K times longer) deadline
  const controllers = new WeakMap<AbortSignal, AbortController>()
  AbortSignal.timeout = (ms: number): AbortSignal => {
    const controller = new AbortController()
    controllers.set(controller.signal, controller)
    const signal = new WeakRef(controller.signal)
    realSetTimeout(() => {
      const target = signal.deref()
      if (target != null) {
        controllers.get(target)?.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'))
      }
    }, wallDelay(ms, factor)).unref()
    return controller.signal
  }

  const realDateNow = Date.now.bind(Date)
  const dateOrigin = realDateNow()
  Date.now = () => Math.floor(dilated(realDateNow(), dateOrigin, factor))

  const realPerformanceNow = performance.now.bind(performance)
  const performanceOrigin = realPerformanceNow()
  Object.defineProperty(performance, 'now', {
    configurable: true,
    value: () => dilated(realPerformanceNow(), performanceOrigin, factor)
  })
}

/** the factor this process runs at (1 when not dilated) */
export function timeDilation (): number {
  return installed ?? 1
}
