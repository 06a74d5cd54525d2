/**
 * A ComponentLogger that keeps every line a node logs (component, level and
 * the format string with its arguments), for tests that count what a node
 * said, e.g. that a failure was logged once
 */
import type { ComponentLogger, Logger } from '@libp2p/interface'

export interface LogRecord {
  component: string
  level: 'info' | 'error' | 'trace'
  formatter: string
  args: unknown[]
}

export function captureLogger (): { logger: ComponentLogger, records: LogRecord[] } {
  const records: LogRecord[] = []
  const make = (component: string): Logger => {
    const log = ((formatter: any, ...args: any[]) => { records.push({ component, level: 'info', formatter: String(formatter), args }) }) as Logger
    log.error = (formatter: any, ...args: any[]) => { records.push({ component, level: 'error', formatter: String(formatter), args }) }
    log.trace = (formatter: any, ...args: any[]) => { records.push({ component, level: 'trace', formatter: String(formatter), args }) }
    log.enabled = true
    log.newScope = (name: string) => make(`${component}:${name}`)
    return log
  }
  return { logger: { forComponent: make }, records }
}
