/**
 * The simulation's slowed time (scripts/time-dilation.ts): the arithmetic by
 * tables, then this test process dilated 5× (each test file runs in its own
 * process), measured against `process.hrtime`, which dilation leaves alone.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { dilated, dilateTime, timeDilation, wallDelay } from '../../scripts/time-dilation.js'

const wallMs = (): number => Number(process.hrtime.bigint()) / 1e6

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

test('wallDelay: a simulated delay in wall-clock ms; what Node takes as 0 stays 0', () => {
  const table: Array<[ms: number | undefined, factor: number, wall: number]> = [
    [100, 10, 1000],
    [0, 10, 0],
    [undefined, 10, 0],
    [-5, 10, 0],
    [Number.NaN, 10, 0],
    [2.5, 4, 10]
  ]
  for (const [ms, factor, wall] of table) {
    assert.equal(wallDelay(ms, factor), wall, `${ms} at ${factor}×`)
  }
})

test('dilateTime refuses a factor under 1 and a second install', () => {
  assert.throws(() => { dilateTime(0.5) }, /≥ 1/)
  assert.throws(() => { dilateTime(Number.NaN) }, /≥ 1/)
  dilateTime(5)
  assert.equal(timeDilation(), 5)
  assert.throws(() => { dilateTime(2) }, /already dilated 5×/)
})

test('dilated 5×: timers, deadlines and clocks all run five times slower', async () => {
  assert.equal(timeDilation(), 5, 'the previous test installed 5×')
  const FACTOR = 5
  const MS = 40

  const elapsed = async (wait: () => Promise<unknown>): Promise<number> => {
    const start = wallMs()
    await wait()
    return wallMs() - start
  }

  const timeout = await elapsed(async () => { await new Promise(resolve => setTimeout(resolve, MS)) })
  assert.ok(timeout >= MS * FACTOR - 2, `setTimeout(${MS}) fired after ${timeout.toFixed(0)} ms`)

  const promised = await elapsed(async () => { await sleep(MS) })
  assert.ok(promised >= MS * FACTOR - 2, `timers/promises' setTimeout(${MS}) resolved after ${promised.toFixed(0)} ms`)

  let ticks = 0
  const interval = await elapsed(async () => {
    await new Promise<void>(resolve => {
      const timer = setInterval(() => {
        if (++ticks === 2) {
          clearInterval(timer)
          resolve()
        }
      }, MS)
    })
  })
  assert.ok(interval >= 2 * MS * FACTOR - 2, `two setInterval(${MS}) ticks took ${interval.toFixed(0)} ms`)

  const signal = AbortSignal.timeout(MS)
  const aborted = await elapsed(async () => {
    await new Promise(resolve => signal.addEventListener('abort', resolve, { once: true }))
  })
  assert.ok(aborted >= MS * FACTOR - 2, `AbortSignal.timeout(${MS}) aborted after ${aborted.toFixed(0)} ms`)
  assert.equal(signal.reason.name, 'TimeoutError')

  const wall0 = wallMs()
  const date0 = Date.now()
  const perf0 = performance.now()
  await new Promise(resolve => setTimeout(resolve, MS))
  const wall = wallMs() - wall0
  const date = Date.now() - date0
  const perf = performance.now() - perf0
  assert.ok(Math.abs(perf - wall / FACTOR) < 2, `performance.now advanced ${perf.toFixed(1)} ms in ${wall.toFixed(1)} wall ms`)
  assert.ok(Math.abs(date - wall / FACTOR) < 3, `Date.now advanced ${date} ms in ${wall.toFixed(1)} wall ms`)
})
