/*
 * The README's quick start, run as written: every ```sh block after a
 * `<!-- readme-test … -->` comment is run command by command, in order, in
 * one fresh directory inside the repository (so `npx peergate` finds this
 * package and `./node1` lands there), each by `sh -c` in a process group of
 * its own, as a terminal would. A command either exits 0 by itself or runs
 * until its ready line (`peergate init` must exit 0); once a block's nodes
 * are up, the last one must see a session open when there are several; then
 * Ctrl-C (SIGINT to the group)
 * stops them cleanly. `12D3KooW…` stands for the peer id the block's first
 * command printed.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { after, test } from 'node:test'
import type { ChildProcess } from 'node:child_process'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const MARKER = /<!-- readme-test\b[^>]*-->\s*```sh\n([\s\S]*?)```/g
const PEER_ID_PLACEHOLDER = '12D3KooW…'
const TIMEOUT_MS = 30_000

/** the commands of each marked block */
function readmeBlocks (readme: string): string[][] {
  return [...readme.matchAll(MARKER)].map(match => match[1].split('\n').map(line => line.trim()).filter(line => line !== '' && !line.startsWith('#')))
}

class Command {
  readonly child: ChildProcess
  readonly lines: string[] = []
  stderr = ''
  exit?: { code: number | null, signal: NodeJS.Signals | null }
  readonly exited: Promise<void>
  private readonly waiters = new Set<() => void>()

  constructor (readonly command: string, cwd: string) {
    this.child = spawn('sh', ['-c', command], { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    createInterface({ input: this.child.stdout! }).on('line', line => { this.lines.push(line); this.wake() })
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { this.stderr += chunk })
    this.exited = new Promise(resolve => {
      this.child.on('close', (code, signal) => { this.exit = { code, signal }; this.wake(); resolve() })
    })
  }

  /** the peer id of its ready line (JSON or text), once printed */
  peerId (): string | undefined {
    for (const line of this.lines) {
      const json = parseJson(line)
      if (json?.event === 'ready') {
        return json.peerId
      }
      const text = / peer id: +(\S+)$/.exec(line)
      if (text != null) {
        return text[1]
      }
    }
    return undefined
  }

  sessionOpened (): boolean {
    return this.lines.some(line => parseJson(line)?.event === 'session:open' || / session open: /.test(line))
  }

  async until (what: string, check: () => boolean): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const attempt = (): void => {
        if (check()) {
          finish()
          resolve()
        } else if (this.exit != null) {
          finish()
          reject(new Error(`${this.command}: exited ${JSON.stringify(this.exit)} before ${what}\n${this.output()}`))
        }
      }
      const timer = setTimeout(() => { finish(); reject(new Error(`${this.command}: no ${what} within ${TIMEOUT_MS} ms\n${this.output()}`)) }, TIMEOUT_MS)
      const finish = (): void => { clearTimeout(timer); this.waiters.delete(attempt) }
      this.waiters.add(attempt)
      attempt()
    })
  }

  /** Ctrl-C: SIGINT to the whole process group (sh, npx, peergate) */
  interrupt (): void {
    if (this.exit == null) {
      process.kill(-this.child.pid!, 'SIGINT')
    }
  }

  output (): string {
    return `stdout:\n${this.lines.join('\n')}\nstderr:\n${this.stderr}`
  }

  private wake (): void {
    for (const waiter of [...this.waiters]) {
      waiter()
    }
  }
}

function parseJson (line: string): any {
  try {
    return JSON.parse(line)
  } catch {
    return undefined
  }
}

const running: Command[] = []
const dirs: string[] = []

after(async () => {
  for (const command of running) {
    if (command.exit == null) {
      process.kill(-command.child.pid!, 'SIGKILL')
    }
  }
  await Promise.all(running.map(async command => command.exited))
  await Promise.all(dirs.map(async dir => rm(dir, { recursive: true, force: true })))
})

test('the README marks its quick-start commands for this test', async () => {
  const blocks = readmeBlocks(await readFile(join(ROOT, 'README.md'), 'utf8'))
  assert.ok(blocks.length >= 2, 'the two-node example and --version')
  assert.ok(blocks.flat().every(command => !command.startsWith('npm start') || command.includes('--silent')), 'npm start with --silent where output is read')
})

test('the README\'s quick-start commands run as written', async (t) => {
  const blocks = readmeBlocks(await readFile(join(ROOT, 'README.md'), 'utf8'))
  const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'))
  for (const block of blocks) {
    await t.test(block.join(' && '), async () => {
      const dir = await mkdtemp(join(ROOT, '.readme-test-'))
      dirs.push(dir)
      const commands: Command[] = []
      for (const line of block) {
        const firstPeer = commands[0]?.peerId()
        const command = new Command(firstPeer == null ? line : line.replaceAll(PEER_ID_PLACEHOLDER, firstPeer), dir)
        running.push(command)
        commands.push(command)
        // init prints a peer id too, then exits
        const exits = /\bpeergate init\b/.test(line)
        await command.until(exits ? 'exit 0' : 'ready line or exit 0', () => (!exits && command.peerId() != null) || command.exit?.code === 0)
        if (command.exit != null) {
          assert.equal(command.stderr, '', command.command)
          if (/--version$/.test(line)) {
            // the version alone first; the commit, libp2p's and Node's versions after it
            assert.equal(command.lines[0], version)
            assert.match(command.lines[command.lines.length - 1], /^node: \d+\.\d+\.\d+/)
          }
        } else if (line.includes('--json')) {
          assert.equal(parseJson(command.lines[0])?.event, 'ready', `the first stdout line of ${line} is the ready line\n${command.output()}`)
        }
      }
      const nodes = commands.filter(command => command.exit == null)
      if (nodes.length > 1) {
        const last = nodes[nodes.length - 1]
        await last.until('a session open line', () => last.sessionOpened())
      }
      for (const node of nodes) {
        node.interrupt()
      }
      for (const node of nodes) {
        await node.until('an exit after Ctrl-C', () => node.exit != null)
        const lastLine = node.lines[node.lines.length - 1]
        assert.ok(lastLine === '{"event":"stopped"}' || / stopped$/.test(lastLine), `${node.command} stopped cleanly\n${node.output()}`)
      }
    })
  }
})
