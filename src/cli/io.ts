import { errorText } from '../stream/error-text.js'

/** Exit codes of the `peergate` command */
export const EXIT_OK = 0
export const EXIT_FAILURE = 1
/** bad flags or options */
export const EXIT_USAGE = 2

export interface TextSink {
  write(text: string): unknown
}

/**
 * Calls `listener` on the first SIGINT or SIGTERM; the returned function
 * unsubscribes, so that a second signal gets the default action
 */
export type StopSignals = (listener: (signal: NodeJS.Signals) => void) => () => void

/** Where the CLI writes and what tells it to stop; replaceable in tests */
export interface CliIo {
  stdout: TextSink
  stderr: TextSink
  stopSignals: StopSignals
  /** where `PEERGATE_*` variables are read */
  env: Record<string, string | undefined>
}

const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM']

export const processStopSignals: StopSignals = (listener) => {
  for (const signal of STOP_SIGNALS) {
    process.on(signal, listener)
  }
  return () => {
    for (const signal of STOP_SIGNALS) {
      process.off(signal, listener)
    }
  }
}

export function processIo (): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, stopSignals: processStopSignals, env: process.env }
}

/** Lines of a stack trace, which some libraries embed in error messages */
const STACK_LINE = /^\s+at /

/** An error's message, and the message of its cause if any, without stack traces */
export function describeError (err: unknown): string {
  if (!(err instanceof Error)) {
    // a DOM Event (some streams fail with one) has no message: never "[object Event]"
    return errorText(err)
  }
  const cause = err.cause instanceof Error ? err.cause.message : undefined
  const text = cause == null || cause === err.message ? err.message : `${err.message}: ${cause}`
  return text.split('\n').filter(line => !STACK_LINE.test(line)).join('\n').trim()
}
