/**
 * CPU profiles of `npm run profile:session`: node:inspector's sampling
 * profiler in the process itself, and the attribution of a profile's samples
 * inside given time windows to categories.
 *
 * Times are µs of the monotonic clock: V8 stamps a profile's samples
 * (`startTime` + cumulative `timeDeltas`) with the clock of
 * `process.hrtime.bigint()` (CLOCK_MONOTONIC on Linux); `clockCheck` shows it
 * on each run, by the samples of a spin whose ends were read with hrtime.
 *
 * A sample is categorised by the innermost frame of its stack that a rule
 * below recognises (`RULES`, first match wins for a frame; frames no rule
 * knows, such as uint8arraylist, multiformats, it-* or V8's builtins, pass to
 * their caller). A sample whose whole stack is unknown is `other`, split by
 * the leaf's package. A `sign`, `verify` or `protons` sample is labelled
 * with the next recognised caller further out (the Noise payload, identify's
 * peer record, the peergate handshake…), e.g. `verify ← noise`. `(idle)`
 * samples are not counted. Samples are counted, not weighted by the time to
 * the next one: the sampler thread wakes late (every ~210 µs for 100 µs asked,
 * p99 gap 2 ms on the 2-core VM), and a late gap after a busy sample is as
 * often idle time as busy time. Counts give shares; `process.cpuUsage` in the
 * same windows gives the CPU those shares divide (profile-session.ts).
 */
import { Session } from 'node:inspector/promises'

export interface Profile {
  nodes: Array<{ id: number, callFrame: { functionName: string, url: string }, children?: number[] }>
  startTime: number
  endTime: number
  samples: number[]
  timeDeltas: number[]
}

/** Monotonic clock in µs, the clock of a profile's timestamps */
export const nowUs = (): number => Number(process.hrtime.bigint() / 1000n)

/** A moment: monotonic µs, process CPU µs, main thread CPU µs */
export interface Moment { at: number, cpu: number, main: number }

export function moment (): Moment {
  const at = nowUs()
  const u = process.cpuUsage()
  const m = process.threadCpuUsage()
  return { at, cpu: u.user + u.system, main: m.user + m.system }
}

/** Starts sampling this process every `intervalUs`; returns its stop. 0: no profiler, an empty profile (the CPU and wall time without it) */
export async function startProfiler (intervalUs: number): Promise<() => Promise<Profile>> {
  if (intervalUs === 0) {
    return async () => ({ nodes: [{ id: 1, callFrame: { functionName: '(root)', url: '' } }], startTime: 0, endTime: 0, samples: [], timeDeltas: [] })
  }
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.setSamplingInterval', { interval: intervalUs })
  await session.post('Profiler.start')
  return async () => {
    const { profile } = await session.post('Profiler.stop')
    session.disconnect()
    return profile as unknown as Profile
  }
}

/** A busy wait of `ms`, read on hrtime at both ends, for `clockCheck` */
export function clockCheckSpin (ms: number): [number, number] {
  const start = nowUs()
  while (nowUs() - start < ms * 1000) { /* spin */ }
  return [start, nowUs()]
}

/** [category, pattern on `url` or on `functionName url`] — order matters within a frame */
const RULES: Array<[string, RegExp]> = [
  ['GC', /^\(garbage collector\) /],
  ['logger', /\/node_modules\/(weald|@libp2p\/logger|supports-color|ms)\/|^isatty |node:tty/],
  ['sign', /^(signOneShot|hashAndSign|sign) (node:internal\/crypto\/sig|.*\/@libp2p\/crypto\/.*ed25519|.*\/dist\/src\/did\/)/],
  ['verify', /^(verifyOneShot|hashAndVerify|verify) (node:internal\/crypto\/sig|.*\/@libp2p\/crypto\/.*ed25519)/],
  ['protons', /\/node_modules\/(protons-runtime|protobufjs)\/|\/dist\/src\/(handshake|session|wire)\/pb\/|\/dist\/src\/wire\//],
  ['noise', /\/node_modules\/(@chainsafe\/(libp2p-noise|as-chacha20poly1305|as-sha256)|@noble\/(ciphers|curves|hashes))\//],
  ['yamux + multistream-select', /\/node_modules\/(@chainsafe\/libp2p-yamux|@libp2p\/multistream-select)\/|\/node_modules\/libp2p\/dist\/src\/(upgrader|connection)\.js/],
  ['DID resolution', /\/dist\/src\/did\//],
  ['peer store + datastore', /\/node_modules\/(@libp2p\/peer-store|datastore-level|datastore-core|interface-datastore|classic-level|abstract-level|level-transcoder|level-supports|module-error)\/|\/dist\/src\/(storage|addressbook)\//],
  ['identify', /\/node_modules\/(@libp2p\/identify|@libp2p\/peer-record)\/|\/dist\/src\/node\/identify-after-handshake\.js/],
  ['peergate handshake (logic)', /\/dist\/src\/(handshake|chain|reason)\//],
  ['session/dial manager + events', /\/dist\/src\/(session|dial|node|ratelimit|score)\/|\/node_modules\/main-event\/|node:internal\/event_target|^dispatchEvent /],
  ['socket I/O', /node:net|node:internal\/(stream_base_commons|streams\/|net)|\/node_modules\/@libp2p\/tcp\/|^(writeBuffer|writev|writeGeneric|writevGeneric|onStreamRead) /]
]

/** The categories in the order tables print them */
export const CATEGORIES = ['noise', 'yamux + multistream-select', 'protons', 'sign', 'verify', 'DID resolution', 'peergate handshake (logic)',
  'peer store + datastore', 'identify', 'session/dial manager + events', 'logger', 'GC', 'socket I/O', 'other']
/** labelled with their caller's category */
const CALLER_LABELLED = new Set(['sign', 'verify', 'protons'])
const CALLERS = new Set(CATEGORIES.filter(c => !CALLER_LABELLED.has(c)))

/** the package (or node: module, or peergate folder) of a script url */
function packageOf (url: string): string {
  const nm = url.lastIndexOf('/node_modules/')
  if (nm >= 0) {
    const parts = url.slice(nm + 14).split('/')
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]
  }
  const pg = /\/dist\/src\/([^/]+)\//.exec(url)
  return pg != null ? `peergate ${pg[1]}` : (url === '' ? '(V8/native)' : url.replace(/^node:internal\//, 'node:'))
}

/** Every non-idle sample: its time (µs) and category label; the median gap between samples (µs) */
export function categorise (profile: Profile): { at: Float64Array, label: string[], medianGapUs: number } {
  const byId = new Map(profile.nodes.map(n => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) {
    for (const c of n.children ?? []) parent.set(c, n.id)
  }
  const ruleOf = (id: number): string | undefined => {
    const { functionName, url } = byId.get(id)!.callFrame
    return RULES.find(([, re]) => re.test(`${functionName} ${url}`))?.[0]
  }
  const memo = new Map<number, string>()
  const labelOf = (leaf: number): string => {
    let label = memo.get(leaf)
    if (label != null) return label
    let id: number | undefined = leaf
    let found: string | undefined
    while (id != null && found == null) {
      found = ruleOf(id)
      if (found == null) id = parent.get(id)
    }
    if (found == null) {
      label = `other: ${packageOf(byId.get(leaf)!.callFrame.url)}`
    } else if (CALLER_LABELLED.has(found)) {
      let caller: string | undefined
      for (let up = parent.get(id!); up != null && caller == null; up = parent.get(up)) {
        const c = ruleOf(up)
        if (c != null && CALLERS.has(c)) caller = c
      }
      label = caller == null ? found : `${found} ← ${caller}`
    } else {
      label = found
    }
    memo.set(leaf, label)
    return label
  }
  const at: number[] = []
  const label: string[] = []
  let t = profile.startTime
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i]
    const name = byId.get(profile.samples[i])!.callFrame.functionName
    if (name === '(idle)' || name === '(root)') continue
    at.push(t)
    label.push(labelOf(profile.samples[i]))
  }
  const gaps = [...profile.timeDeltas].sort((a, b) => a - b)
  return { at: Float64Array.from(at), label, medianGapUs: gaps[Math.floor(gaps.length / 2)] ?? Number.NaN }
}

/** Samples per label inside the windows ([start, end] µs, sorted, not overlapping) */
export function attribute (samples: ReturnType<typeof categorise>, windows: Array<[number, number]>): Map<string, number> {
  const sums = new Map<string, number>()
  let w = 0
  for (let i = 0; i < samples.at.length && w < windows.length; i++) {
    const t = samples.at[i]
    while (w < windows.length && windows[w][1] < t) w++
    if (w < windows.length && t >= windows[w][0]) {
      sums.set(samples.label[i], (sums.get(samples.label[i]) ?? 0) + 1)
    }
  }
  return sums
}

/** Where the samples of `clockCheckSpin` fall against its hrtime ends: µs after its start, µs before its end */
export function clockCheck (profile: Profile, [start, end]: [number, number]): string {
  const spinIds = new Set(profile.nodes.filter(n => n.callFrame.functionName === 'clockCheckSpin').map(n => n.id))
  let t = profile.startTime
  let first = Number.NaN
  let last = Number.NaN
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i]
    if (spinIds.has(profile.samples[i])) {
      if (Number.isNaN(first)) first = t
      last = t
    }
  }
  if (Number.isNaN(first)) {
    return 'no samples (no profiler)'
  }
  // the spin's frame is on the stack a little before its first hrtime read (a cold call): 0.5 ms slack
  const ok = first >= start - 500 && last <= end + 500 && (last - first) > 0.9 * (end - start)
  return `${ok ? 'same clock' : 'CLOCKS DIFFER'}: spin of ${((end - start) / 1000).toFixed(1)} ms on hrtime, its first sample ${(first - start).toFixed(0)} µs after its start, its last ${(end - last).toFixed(0)} µs before its end`
}
