/** A seeded uniform random in [0, 1) (mulberry32), so that a failing sequence replays */
export function seededRandom (seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6D2B79F5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

/** A seed for a test that explores: `env` when set (to replay a failure), else a fresh one */
export function testSeed (env: string | undefined): number {
  if (env != null && env !== '') {
    const seed = Number(env)
    if (!Number.isSafeInteger(seed)) {
      throw new Error(`a seed is a whole number, got ${JSON.stringify(env)}`)
    }
    return seed
  }
  return Math.floor(Math.random() * 2 ** 31)
}
