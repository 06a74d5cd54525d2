/*
 * Runs the fuzz properties (test/utils/fuzz.ts) of one module in a worker
 * thread: each name posted to it, one after another, reported back to the
 * test that asked.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { checkProperty, type FuzzProperty, type WorkerReport } from './fuzz.js'

const { module } = workerData as { module: string }
const exports: Record<string, unknown> = await import(module)

function isProperty (value: unknown): value is FuzzProperty {
  return typeof value === 'object' && value != null && (value as FuzzProperty).module === module && typeof (value as FuzzProperty).check === 'function'
}

const properties = new Map(Object.values(exports).filter(isProperty).map(prop => [prop.name, prop]))

/** the properties run one at a time, in the order asked */
let running = Promise.resolve()

parentPort?.on('message', (name: string) => {
  running = running.then(async () => {
    let report: WorkerReport
    try {
      const prop = properties.get(name)
      if (prop == null) {
        throw new Error(`${module} exports no fuzz property "${name}"`)
      }
      await checkProperty(prop)
      report = { name, ok: true }
    } catch (err: any) {
      report = { name, ok: false, message: err?.message ?? String(err) }
    }
    parentPort?.postMessage(report)
  })
})
