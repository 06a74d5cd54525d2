/**
 * `--log-format` and `--log-file`: where and how the CLI's own lines (the
 * events of `start`, its warnings and errors) and libp2p's `debug`
 * namespaces (`peergate:*`, `libp2p:*`, chosen by `--log-level` or `DEBUG`)
 * go, so that an operator can ship them (geth's `--log.format`/`--log.file`,
 * Lodestar's `--logFile`)
 */
import { openSync, writeSync } from 'node:fs'
import { format as formatText } from 'node:util'
import { InvalidParametersError } from '@libp2p/interface'
import debug from 'weald'
import type { CliEvent } from './output.js'
import type { TextSink } from './io.js'

/** `--log-format`: `text`, the lines as they are; `json`, one object per line with time, level, component and message */
export const LOG_FORMATS = ['text', 'json'] as const

export type LogFormat = typeof LOG_FORMATS[number]

/** The levels of a JSON log line */
export type LogLine = { time: string, level: 'error' | 'warn' | 'info' | 'debug' | 'trace', component: string, message: string } & Record<string, unknown>

/** The component of the CLI's own lines */
export const CLI_COMPONENT = 'peergate:cli'

/** What the CLI prefixes its stderr lines with, and a warning after it */
const CLI_PREFIX = 'peergate: '
const WARNING_PREFIX = 'warning: '

/** An ISO time at the start of a human stdout line (formatText's) */
const TIME_PREFIX = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z) (.*)$/

/**
 * A debug namespace's line as a log line: `:error` and `:trace` are levels,
 * the rest of the namespace the component; peergate's other lines are info
 * (what `--log-level info` shows), libp2p's debug
 */
export function namespaceLine (namespace: string, message: string, time: Date): LogLine {
  const match = /^(.*):(error|trace)$/.exec(namespace)
  const component = match?.[1] ?? namespace
  const level = match != null ? match[2] as 'error' | 'trace' : component.startsWith('peergate') ? 'info' : 'debug'
  return { time: time.toISOString(), level, component, message }
}

/** A stderr line of the CLI (`peergate: warning: …`, `peergate: …`) as a log line */
export function stderrLine (line: string, time: Date): LogLine {
  const text = line.startsWith(CLI_PREFIX) ? line.slice(CLI_PREFIX.length) : line
  if (text.startsWith(WARNING_PREFIX)) {
    return { time: time.toISOString(), level: 'warn', component: CLI_COMPONENT, message: text.slice(WARNING_PREFIX.length) }
  }
  return { time: time.toISOString(), level: 'error', component: CLI_COMPONENT, message: text }
}

/**
 * A stdout line of `start` as a log line: a JSON event (`--json`) keeps its
 * fields and gets its human text (`describe`) as message; a human line
 * keeps the time it was printed at
 */
export function stdoutLine (line: string, time: Date, describe: (event: CliEvent) => string): LogLine {
  const event = parseEvent(line)
  if (event != null) {
    // the event's own fields first: a reject's `message` is inside the human text
    // a datastore that refuses writes is a warning; every other event is news
    const level = event.event === 'storage' && event.state === 'failing' ? 'warn' : 'info'
    return { ...event, time: time.toISOString(), level, component: CLI_COMPONENT, message: describe(event) }
  }
  const match = TIME_PREFIX.exec(line)
  return { time: match?.[1] ?? time.toISOString(), level: 'info', component: CLI_COMPONENT, message: match?.[2] ?? line }
}

function parseEvent (line: string): CliEvent | undefined {
  if (!line.startsWith('{')) {
    return undefined
  }
  try {
    const value = JSON.parse(line)
    return typeof value?.event === 'string' ? value : undefined
  } catch {
    return undefined
  }
}

export interface LogOutputInit {
  format: LogFormat
  /** `--log-file`: appended to; created with mode 0644 when missing */
  file?: string
  /** the human text of an event, for the message of a JSON event line */
  describe(event: CliEvent): string
  now?(): Date
  /**
   * Where to say that the file refuses writes (a full disk) and that it
   * takes them again: not through the file
   *
   * @default process.stderr
   */
  notice?(text: string): void
}

/**
 * Where the lines go: `wrap` gives a stream that writes the CLI's lines in
 * the format (and to the file too); `captureDebug` sends the debug
 * namespaces to the file (or stderr) in the format. A sink that turns text
 * into lines keeps a partial line until its end arrives. The file stays open
 * until the process exits; every line is written at once (no buffer to lose).
 * A line the file refuses (a full disk) is dropped: the first of a spell is
 * said on stderr, and once the file takes lines again it says how many it
 * lost, there and on stderr. A log file never stops the node.
 */
export class LogOutput {
  private readonly format: LogFormat
  private readonly fd?: number
  private readonly file?: string
  private readonly describe: (event: CliEvent) => string
  private readonly now: () => Date
  private readonly notice: (text: string) => void
  /** lines the file refused since the last it took */
  private dropped = 0

  /** fails with InvalidParametersError naming the file when it cannot be opened for appending */
  constructor (init: LogOutputInit) {
    this.format = init.format
    this.describe = init.describe
    this.now = init.now ?? (() => new Date())
    this.notice = init.notice ?? ((text) => { process.stderr.write(text) })
    this.file = init.file
    if (init.file != null) {
      try {
        this.fd = openSync(init.file, 'a', 0o644)
      } catch (err: any) {
        throw new InvalidParametersError(`--log-file ${init.file} cannot be opened for appending: ${fileProblem(err)}`)
      }
    }
  }

  /** `stream`'s lines, in the format; copied into the file when there is one */
  wrap (stream: TextSink, kind: 'stdout' | 'stderr'): TextSink {
    if (this.format === 'text' && this.fd == null) {
      return stream
    }
    let partial = ''
    return {
      write: (text: string) => {
        const lines = (partial + text).split('\n')
        partial = lines.pop() ?? ''
        let out = ''
        for (const line of lines) {
          const formatted = this.formatLine(line, kind)
          this.toFile(formatted)
          out += formatted
        }
        return out === '' ? true : stream.write(out)
      }
    }
  }

  /**
   * libp2p's debug namespaces: in the format, into the file when there is
   * one (instead of stderr), else on stderr as before
   */
  captureDebug (): void {
    if (this.format === 'text' && this.fd == null) {
      return
    }
    const output = this
    debug.formatArgs = function () {}
    debug.log = function (this: { namespace: string }, ...args: any[]) {
      const line = namespaceLine(this.namespace, formatText(...args), output.now())
      const text = output.format === 'json' ? `${JSON.stringify(line)}\n` : `${line.time} ${this.namespace} ${line.message}\n`
      if (output.fd != null) {
        output.toFile(text)
      } else {
        process.stderr.write(text)
      }
    }
  }

  private formatLine (line: string, kind: 'stdout' | 'stderr'): string {
    if (this.format === 'text') {
      return `${line}\n`
    }
    const time = this.now()
    return `${JSON.stringify(kind === 'stdout' ? stdoutLine(line, time, this.describe) : stderrLine(line, time))}\n`
  }

  private toFile (text: string): void {
    if (this.fd == null) {
      return
    }
    try {
      writeSync(this.fd, text)
    } catch (err: any) {
      if (this.dropped++ === 0) {
        this.notice(`peergate: warning: cannot write the log file ${this.file ?? ''}: ${String(err?.message ?? err)}; its lines are dropped until it takes them again\n`)
      }
      return
    }
    if (this.dropped > 0) {
      const message = `${this.dropped} lines were dropped: the log file could not be written`
      this.dropped = 0
      this.notice(`peergate: the log file ${this.file ?? ''} takes lines again; ${message}\n`)
      const line = stderrLine(`peergate: ${WARNING_PREFIX}${message}`, this.now())
      try {
        writeSync(this.fd, this.format === 'json' ? `${JSON.stringify(line)}\n` : `${line.time} ${message}\n`)
      } catch {
        // refused again: counted with the lines the next note tells of
        this.dropped++
      }
    }
  }
}

function fileProblem (err: any): string {
  switch (err?.code) {
    case 'ENOENT': return 'its directory does not exist'
    case 'EACCES': case 'EPERM': case 'EROFS': return 'permission denied'
    case 'EISDIR': return 'it is a directory'
    default: return String(err?.message ?? err)
  }
}
