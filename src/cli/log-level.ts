import { enable } from '@libp2p/logger'

/**
 * `--log-level`: which of libp2p's `debug` namespaces go to stderr. peergate
 * logs under `peergate:<component>` (`peergate:handshake`, `peergate:dial`,
 * …), with `:error` and `:trace` sub-namespaces, as libp2p does under
 * `libp2p:*`.
 */
export const LOG_LEVELS = {
  /** only what DEBUG asks for, if set */
  silent: undefined,
  error: 'peergate:*:error,libp2p:*:error',
  info: 'peergate:*,-peergate:*:trace,libp2p:*:error',
  debug: 'peergate:*,-peergate:*:trace,libp2p:*,-libp2p:*:trace',
  trace: 'peergate:*,libp2p:*'
} as const

export type LogLevel = keyof typeof LOG_LEVELS

/** Turns on the namespaces of `level`; `silent` leaves DEBUG's own choice alone */
export function applyLogLevel (level: LogLevel): void {
  const namespaces = LOG_LEVELS[level]
  if (namespaces != null) {
    enable(namespaces)
  }
}
