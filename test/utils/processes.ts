import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createServer, type AddressInfo } from 'node:net'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const BIN = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url))

/** A `peergate start --json` process and its ready line */
export interface CliNode {
  child: ChildProcess
  ready: any
  stderr(): string
  /** resolves once the process has exited */
  exited: Promise<void>
}

/** `peergate start --json …`, resolved with its first stdout line, the ready event */
export async function startCli (args: string[], timeoutMs = 20_000): Promise<CliNode> {
  const child = spawn(process.execPath, [BIN, 'start', '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  const exited = once(child, 'exit').then(() => {})
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  const lines = createInterface({ input: child.stdout! })
  const timer = setTimeout(() => { child.kill('SIGKILL') }, timeoutMs)
  try {
    const [line] = await Promise.race([
      once(lines, 'line'),
      exited.then(() => { throw new Error(`start exited before its ready line: ${stderr}`) })
    ]) as [string]
    return { child, ready: JSON.parse(line), stderr: () => stderr, exited }
  } finally {
    clearTimeout(timer)
  }
}

/** A TCP port on 127.0.0.1 nothing listens on: one the OS gave and took back */
export async function freePort (): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  server.close()
  await once(server, 'close')
  return port
}
