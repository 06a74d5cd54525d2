import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

/** V8's garbage collector, callable without --expose-gc */
export function collectGarbage (): () => void {
  setFlagsFromString('--expose-gc')
  return runInNewContext('gc') as () => void
}

/**
 * The process's ArrayBuffer bytes once garbage is collected: V8 frees the
 * backing stores of collected ArrayBuffers on a background thread, so the
 * figure settles a little after gc() returns (later on a loaded machine); the
 * least of a few rounds of gc() and a turn of the event loop
 */
export async function settledArrayBuffers (gc: () => void, rounds = 10): Promise<number> {
  let least = Infinity
  for (let i = 0; i < rounds; i++) {
    gc()
    await new Promise(resolve => setImmediate(resolve))
    least = Math.min(least, process.memoryUsage().arrayBuffers)
  }
  return least
}
