/**
 * The simulation's clock (scripts/time-dilation.ts): the arithmetic by
 * tables, then this test process on simulated time at 5× (each test file
 * runs in its own process), measured against `process.hrtime`, which the
 * simulated clock leaves alone.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { dilated, dilateTime, skippedMs, timeDilation, timerDelay } from '../../scripts/time-dilation.js'

const FACTOR = 5
const wallMs = (): number => Number(process.hrtime.bigint()) / 1e6
const busy = (ms: number): void => {
  const until = wallMs() + ms
  while (wallMs() < until) { /* the event loop works */ }
}

test('dilated: simulated time runs `factor` times slower from the origin', () => {
  const table: Array<[real: number, origin: number, factor: number, simulated: number]> = [
    [1000, 1000, 10, 1000],
    [2000, 1000, 10, 1100],
    [2000, 1000, 1, 2000],
    [1500, 1000, 4, 1125]
  ]
  for (const [real, origin, factor, simulated] of table) {
    assert.equal(dilated(real, origin, factor), simulated, `${real} from ${origin} at ${factor}×`)
  }
})

test('timerDelay: what Node takes as 1 ms stays 1 ms', () => {
  const table: Array<[ms: number | undefined, delay: number]> = [
    [100, 100], [0, 1], [undefined, 1], [-5, 1], [Number.NaN, 1], [2 ** 31, 1], [2.5, 2.5]
  ]
  for (const [ms, delay] of table) {
    assert.equal(timerDelay(ms), delay, String(ms))
  }
})

test('dilateTime refuses a factor under 1 and a second install', () => {
  assert.throws(() => { dilateTime(0.5) }, /≥ 1/)
  assert.throws(() => { dilateTime(Number.NaN) }, /≥ 1/)
  dilateTime(FACTOR)
  assert.equal(timeDilation(), FACTOR)
  assert.throws(() => { dilateTime(2) }, /already dilated 5×/)
})

test('work: the clock runs five times slower than the wall clock while the loop is busy', () => {
  assert.equal(timeDilation(), FACTOR, 'the previous test installed 5×')
  const wall0 = wallMs()
  const perf0 = performance.now()
  const date0 = Date.now()
  busy(100)
  const wall = wallMs() - wall0
  const perf = performance.now() - perf0
  const date = Date.now() - date0
  // in wall ms, within what a preemption between two reads of the clocks costs (a wrong factor is 400 ms off)
  assert.ok(Math.abs(perf * FACTOR - wall) < 15, `performance.now advanced ${perf.toFixed(1)} ms in ${wall.toFixed(1)} wall ms`)
  assert.ok(Math.abs(date * FACTOR - wall) < 20, `Date.now advanced ${date} ms in ${wall.toFixed(1)} wall ms`)
})

test('waiting: an idle loop jumps to the next deadline, and every clock jumps with it', async () => {
  const wall0 = wallMs()
  const perf0 = performance.now()
  const date0 = Date.now()
  const skipped0 = skippedMs()
  await new Promise(resolve => setTimeout(resolve, 60_000))
  const wall = wallMs() - wall0
  assert.ok(performance.now() - perf0 >= 60_000, `performance.now advanced ${(performance.now() - perf0).toFixed(0)} ms`)
  assert.ok(Date.now() - date0 >= 59_999, `Date.now advanced ${Date.now() - date0} ms`)
  assert.ok(skippedMs() - skipped0 > 59_000, `skipped ${skippedMs() - skipped0} ms`)
  assert.ok(wall < 1000, `a minute's wait took ${wall.toFixed(0)} wall ms`)

  const promised0 = performance.now()
  assert.equal(await sleep(30_000, 'value'), 'value')
  assert.ok(performance.now() - promised0 >= 30_000, 'timers/promises waits on the simulated clock')

  const aborted0 = performance.now()
  const signal = AbortSignal.timeout(20_000)
  await new Promise(resolve => signal.addEventListener('abort', resolve, { once: true }))
  assert.ok(performance.now() - aborted0 >= 20_000, 'AbortSignal.timeout aborts on the simulated clock')
  assert.equal(signal.reason.name, 'TimeoutError')
})

test('timers fire in deadline order, one at a time with microtasks between; clear, refresh and intervals work', async () => {
  const order: string[] = []
  setTimeout(() => { order.push('b') }, 2_000)
  setTimeout(() => {
    order.push('a1')
    void Promise.resolve().then(() => { order.push('a1 microtask') })
  }, 1_000)
  setTimeout(() => { order.push('a2') }, 1_000)
  const cleared = setTimeout(() => { order.push('cleared') }, 1_500)
  clearTimeout(cleared)
  const refreshed = setTimeout(() => { order.push('refreshed') }, 1_000)
  let ticks = 0
  const interval = setInterval(() => {
    order.push(`tick ${++ticks}`)
    if (ticks === 3) clearInterval(interval)
  }, 700)
  await new Promise(resolve => setTimeout(resolve, 100))
  refreshed.refresh() // now due at 1,100
  await new Promise(resolve => setTimeout(resolve, 5_000))
  assert.deepEqual(order, ['tick 1', 'a1', 'a1 microtask', 'a2', 'refreshed', 'tick 2', 'b', 'tick 3'])
})

test('a queued immediate holds the clock: no jump while work is queued', async () => {
  const started = performance.now()
  let ranAt = 0
  setTimeout(() => { ranAt = performance.now() }, 10_000)
  // a chain of immediates keeps the loop working for 50 wall ms, no longer than 10 simulated ms
  const wall0 = wallMs()
  await new Promise<void>(resolve => {
    const again = (): void => { if (wallMs() - wall0 < 50) setImmediate(again); else resolve() }
    setImmediate(again)
    // a timer due meanwhile: after its turn the loop is still working, and the clock must not jump to the next deadline
    setTimeout(() => {}, 1)
  })
  assert.equal(ranAt, 0, 'the timer did not run while immediates were queued')
  assert.ok(performance.now() - started < 10 + 50 / FACTOR, `the clock advanced ${(performance.now() - started).toFixed(1)} ms while the loop worked`)
  await new Promise(resolve => setTimeout(resolve, 20_000))
  assert.ok(ranAt - started >= 10_000, 'then it ran at its deadline')
})

test('timers/promises: an aborted wait rejects with AbortError', async () => {
  const controller = new AbortController()
  const wait = sleep(10_000, undefined, { signal: controller.signal })
  controller.abort()
  await assert.rejects(wait, { name: 'AbortError', code: 'ABORT_ERR' })
  await assert.rejects(sleep(10, undefined, { signal: AbortSignal.abort() }), { name: 'AbortError' })
})
