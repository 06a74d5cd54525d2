/**
 * The client commands (`status`, `peers`, `contacts`, …) only talk HTTP to a
 * running node: they must not load the node itself (libp2p, its transports,
 * LevelDB), which took each of them about 2 s to start; nor must `start`
 * before its own flags are checked (a usage error took 0.7 s of CPU, now
 * 0.3 s). A resolve hook in the CLI's process records every module it loads.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { after, test } from 'node:test'

const BIN = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url))
/** what only a running node needs (libp2p's version.js is fine: --version prints it) */
const NODE_ONLY = ['/node_modules/libp2p/dist/src/index.js', '/node_modules/@libp2p/tcp/', '/node_modules/@chainsafe/libp2p-noise/', '/node_modules/@libp2p/kad-dht/', '/node_modules/datastore-level/']

const dirs: string[] = []
after(async () => { await Promise.all(dirs.map(async dir => rm(dir, { recursive: true, force: true }))) })

/** Runs the CLI with `args` and returns the URLs of the modules it loaded */
async function loadedBy (args: string[]): Promise<{ code: number, stderr: string, urls: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'peergate-cli-startup-'))
  dirs.push(dir)
  const log = join(dir, 'loaded.txt')
  const hook = join(dir, 'hook.mjs')
  await writeFile(hook, `import { registerHooks } from 'node:module'
import { appendFileSync } from 'node:fs'
registerHooks({ resolve (specifier, context, next) { const result = next(specifier, context); appendFileSync(${JSON.stringify(log)}, result.url + '\\n'); return result } })
`)
  const { code, stderr } = await new Promise<{ code: number, stderr: string }>(resolve => {
    execFile(process.execPath, ['--import', pathToFileURL(hook).href, BIN, ...args], (err, _stdout, stderr) => {
      resolve({ code: err == null ? 0 : Number(err.code), stderr })
    })
  })
  return { code, stderr, urls: (await readFile(log, 'utf8')).split('\n').filter(Boolean) }
}

test('client commands do not load the node: no libp2p, transports, DHT or LevelDB', async () => {
  for (const args of [['status', '--api', 'http://127.0.0.1:1'], ['peers', '--api', 'http://127.0.0.1:1', '--json'], ['--version']]) {
    const { code, stderr, urls } = await loadedBy(args)
    assert.ok(urls.some(url => url.includes('/cli/')), `the hook saw the CLI load (${args.join(' ')}): ${stderr}`)
    if (args[0] !== '--version') {
      assert.equal(code, 1)
      assert.match(stderr, /no node answers at http:\/\/127\.0\.0\.1:1/)
    }
    assert.deepEqual(urls.filter(url => NODE_ONLY.some(part => url.includes(part))), [], `peergate ${args.join(' ')} loaded the node`)
  }
})

test('start checks its own flags before it loads the node: a usage error comes without libp2p', async () => {
  for (const args of [['--max-peers', 'many'], ['--genesis', 'zz'], ['--ip-limit-exempt', 'localhost'], ['--metrics-host', '127.0.0.1']]) {
    const { code, stderr, urls } = await loadedBy(['start', ...args, '--data-dir', join(tmpdir(), 'peergate-never-made')])
    assert.equal(code, 2, `${args.join(' ')}: ${stderr}`)
    assert.match(stderr, /^peergate: /)
    assert.ok(urls.some(url => url.includes('/cli/start.js')), `the hook saw start load (${args.join(' ')})`)
    assert.deepEqual(urls.filter(url => NODE_ONLY.some(part => url.includes(part))), [], `start ${args.join(' ')} loaded the node`)
  }
})

test('start loads the node (the hook sees what it should)', async () => {
  // a usage error after the node's modules loaded: listen addresses are the node's to check
  const { code, stderr, urls } = await loadedBy(['start', '--listen', 'notamultiaddr', '--data-dir', join(tmpdir(), 'peergate-never-made')])
  assert.equal(code, 2, stderr)
  assert.match(stderr, /listen address "notamultiaddr" is not a multiaddr/)
  assert.ok(urls.some(url => url.includes('/node_modules/libp2p/dist/src/index.js')), 'start did not load libp2p: the checks above would pass for nothing')
})

test('the CLI keeps Node\'s compile cache in the temp dir, so a second run compiles less', async () => {
  const temp = await mkdtemp(join(tmpdir(), 'peergate-cli-cache-'))
  dirs.push(temp)
  const { NODE_COMPILE_CACHE: _, NODE_DISABLE_COMPILE_CACHE: __, ...env } = process.env
  await new Promise<void>((resolve, reject) => {
    execFile(process.execPath, [BIN, '--version'], { env: { ...env, TMPDIR: temp } }, (err) => { err == null ? resolve() : reject(err) })
  })
  const entries = await readdir(join(temp, 'node-compile-cache'), { recursive: true })
  assert.ok(entries.some(entry => entry.includes('/')), `no compiled module in ${temp}/node-compile-cache: ${entries.join(', ')}`)
})
