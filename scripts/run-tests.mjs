/**
 * `npm test` after the build: every test file under dist/test/, four at a
 * time, then the few whose assertions are about time under load one at a
 * time.
 *
 * Four at a time: most test files spend their time waiting on real sockets,
 * timers and child processes. Two at a time, a 2-core machine was busy 1.24
 * cores on average (420 s of CPU in 340 s); the parallel part took 255 s two
 * at a time, 208 s three at a time and 187 s four at a time, where its 333 s
 * of CPU make the cores the limit (2026-12-04, issue 19).
 *
 * One at a time: a file listed in SERIAL measures how fast a node serves an
 * honest peer while it is attacked, or waits for a network of real processes
 * to converge within a deadline (a second file's load would measure the
 * machine, not the node), or may rebuild dist/.
 *
 * Extra arguments go to `node --test` (e.g. `-- --test-name-pattern=ban`).
 */
import { spawn } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const TESTS = join(ROOT, 'dist', 'test')

/** files whose figures depend on the machine being theirs, relative to dist/test/ */
const SERIAL = new Set([
  // honest connects under a slowloris attack from 8 source IPs, against a baseline
  'handshake/slowloris.test.js',
  // five-node testnets of real processes converge within a deadline
  'metrics/testnet.test.js',
  // the example chain's network of real processes syncs and refuses forks within deadlines
  'examples/chain.test.js',
  // the README's commands run as written: `npx peergate` may run the
  // package's prepare script, which rebuilds dist/ under the other file
  'cli/readme.test.js'
])

/** Parallel test files at a time, on machines of 2 cores (see above) */
const CONCURRENCY = 4

function testFiles (dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap(entry => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) {
      return testFiles(path)
    }
    return entry.name.endsWith('.test.js') ? [path] : []
  }).sort()
}

function run (files, concurrency, extra) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--test', `--test-concurrency=${concurrency}`, ...extra, ...files], { cwd: ROOT, stdio: 'inherit' })
    child.on('exit', (code, signal) => { resolve(code ?? (signal == null ? 1 : 128)) })
  })
}

/** a test file's name as SERIAL writes it: relative to dist/test/, with forward slashes */
const nameOf = (file) => relative(TESTS, file).split('\\').join('/')

const files = testFiles(TESTS)
const serial = files.filter(file => SERIAL.has(nameOf(file)))
const parallel = files.filter(file => !serial.includes(file))
const missing = [...SERIAL].filter(name => !serial.some(file => nameOf(file) === name))
if (missing.length > 0) {
  console.error(`run-tests: SERIAL names files that do not exist: ${missing.join(', ')}`)
  process.exit(1)
}

const extra = process.argv.slice(2)
const parallelCode = await run(parallel, CONCURRENCY, extra)
const serialCode = await run(serial, 1, extra)
process.exit(parallelCode !== 0 ? parallelCode : serialCode)
