/*
 * Runs one async fuzz property (test/utils/fuzz.ts) in a worker thread, away
 * from node:test's async hook, and reports to the test that started it.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { checkProperty, type FuzzProperty } from './fuzz.js'

// a stack costs more than the rest of a check (errors are thrown by the thousand); a failure replays from its seed
Error.stackTraceLimit = 1

const { module, name } = workerData as { module: string, name: string }

function isProperty (value: unknown): value is FuzzProperty {
  return typeof value === 'object' && value != null && (value as FuzzProperty).module === module && (value as FuzzProperty).name === name
}

try {
  const exports: Record<string, unknown> = await import(module)
  const prop = Object.values(exports).find(isProperty)
  if (prop == null) {
    throw new Error(`${module} exports no fuzz property "${name}"`)
  }
  await checkProperty(prop)
  parentPort?.postMessage({ ok: true })
} catch (err: any) {
  parentPort?.postMessage({ ok: false, message: err?.message ?? String(err) })
}
