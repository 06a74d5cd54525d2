/**
 * Runs example-chain nodes as child processes (`node.js` beside this file)
 * and reads their JSON event lines: what the demo and the end-to-end test
 * share. Nothing here imports peergate; a node is a process and its stdout.
 */

import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { ChainEvent } from './chain-node.js'

const NODE_SCRIPT = fileURLToPath(new URL('./node.js', import.meta.url))
/** A node that has not stopped this long after SIGTERM is killed */
const STOP_GRACE_MS = 5_000
/** stderr kept per process, for the message of a failed wait */
const STDERR_TAIL_CHARS = 4_000

export type EventOf<K extends ChainEvent['event']> = Extract<ChainEvent, { event: K }>

interface Waiter {
  predicate(event: ChainEvent): boolean
  resolve(event: ChainEvent): void
}

export class ChainProcess {
  readonly name: string
  readonly dataDir: string
  readonly events: ChainEvent[] = []
  readonly exited: Promise<number | null>
  private readonly child: ChildProcess
  private readonly waiters = new Set<Waiter>()
  private stderr = ''
  private exitCode?: number | null

  /** Starts `node.js --data-dir dataDir ...args` */
  constructor (name: string, dataDir: string, args: string[]) {
    this.name = name
    this.dataDir = dataDir
    this.child = spawn(process.execPath, [NODE_SCRIPT, '--data-dir', dataDir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-STDERR_TAIL_CHARS)
    })
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      let event: ChainEvent
      try {
        event = JSON.parse(line)
      } catch {
        return
      }
      this.events.push(event)
      for (const waiter of this.waiters) {
        if (waiter.predicate(event)) {
          this.waiters.delete(waiter)
          waiter.resolve(event)
        }
      }
    })
    this.exited = new Promise((resolve) => {
      this.child.on('close', (code) => {
        this.exitCode = code
        resolve(code)
      })
    })
  }

  get running (): boolean {
    return this.exitCode === undefined
  }

  /** The events of one kind, in order */
  all<K extends ChainEvent['event']> (kind: K): Array<EventOf<K>> {
    return this.events.filter((event): event is EventOf<K> => event.event === kind)
  }

  get ready (): EventOf<'ready'> {
    const ready = this.all('ready')[0]
    if (ready == null) {
      throw new Error(`${this.name} is not ready`)
    }
    return ready
  }

  /** The highest block this node accepted (its ready head before any) */
  get height (): number {
    return Math.max(this.all('ready')[0]?.head.height ?? 0, ...this.all('block').map(b => b.height))
  }

  /** The first event of kind `kind` matching `predicate`, seen already or within `timeoutMs` */
  async waitFor<K extends ChainEvent['event']> (kind: K, predicate: (event: EventOf<K>) => boolean, timeoutMs: number, what: string): Promise<EventOf<K>> {
    const matches = (event: ChainEvent): event is EventOf<K> => event.event === kind && predicate(event as EventOf<K>)
    const seen = this.events.find(matches)
    if (seen != null) {
      return seen
    }
    return await new Promise((resolve, reject) => {
      const waiter: Waiter = {
        predicate: matches,
        resolve: (event) => {
          clearTimeout(timer)
          resolve(event as EventOf<K>)
        }
      }
      const timer = setTimeout(() => {
        this.waiters.delete(waiter)
        reject(new Error(`${this.name}: no ${what} within ${timeoutMs} ms (running: ${String(this.running)}, height ${this.height}); stderr: ${this.stderr.slice(-1000)}`))
      }, timeoutMs)
      this.waiters.add(waiter)
    })
  }

  async waitForHeight (height: number, timeoutMs: number): Promise<EventOf<'block'>> {
    return await this.waitFor('block', b => b.height >= height, timeoutMs, `block at height ${height}`)
  }

  /** SIGTERM, then SIGKILL after a grace period; resolves with the exit code */
  async stop (): Promise<number | null> {
    if (this.running) {
      this.child.kill('SIGTERM')
      const timer = setTimeout(() => { this.child.kill('SIGKILL') }, STOP_GRACE_MS)
      await this.exited
      clearTimeout(timer)
    }
    return await this.exited
  }

  /** SIGKILL if still running; for clean-ups that must not wait */
  kill (): void {
    if (this.running) {
      this.child.kill('SIGKILL')
    }
  }
}

/**
 * Propagation delays in ms: for each height, from the producer's `block`
 * line to each other node's line for the same height
 */
export function propagationDelays (producer: ChainProcess, nodes: ChainProcess[], heights: number[]): number[] {
  const produced = new Map(producer.all('block').map(b => [b.height, b.t]))
  const delays: number[] = []
  for (const height of heights) {
    const start = produced.get(height)
    if (start == null) {
      throw new Error(`${producer.name} has no block at height ${height}`)
    }
    for (const node of nodes) {
      const received = node.all('block').find(b => b.height === height)
      if (received == null) {
        throw new Error(`${node.name} has no block at height ${height}`)
      }
      delays.push(received.t - start)
    }
  }
  return delays
}

/** The `p`-th percentile (0-100) of `values`, nearest rank */
export function percentile (values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.max(0, Math.ceil(p / 100 * sorted.length) - 1)]
}
