/**
 * @packageDocumentation
 *
 * The status API of a running node: a small HTTP server (node:http) on
 * 127.0.0.1 that serves a health probe (`GET /health`: 200 while the node
 * runs, 503 otherwise) and the node's state as JSON (`GET /status`, `/peers`,
 * `/contacts`, `/rejects`, `/bans`), a live page at `GET /`, the metrics at
 * `GET /metrics` when a provider is given, and a few commands (`POST
 * /connect`, `/disconnect`, `/ban`, `/unban`, `/backoff/clear`, `POST` and
 * `DELETE /reserved` and `/contacts`) that need the data dir's token as
 * `Authorization: Bearer <token>`.
 *
 * @example
 *
 * ```TypeScript
 * import { createPeerNode, createApiServer, loadOrCreateApiToken } from 'peergate'
 *
 * const node = await createPeerNode({ dataDir: './.peergate' })
 * const api = createApiServer(node, { port: 5080, token: await loadOrCreateApiToken('./.peergate') })
 * await api.start()
 * console.info(api.url) // http://127.0.0.1:5080 (with port 0 or none, the port the OS picked)
 * ```
 */

import { defaultLogger } from '@libp2p/logger'
import { NodeApiServer } from './server.js'
import { NodeMetricsServer } from './metrics-server.js'
import type { RejectRecord } from './reject-log.js'
import type { MetricsProvider } from '../metrics/index.js'
import type { NodeView } from '../node/index.js'
import type { ComponentLogger } from '@libp2p/interface'

export interface ApiServerInit {
  /** @default DEFAULT_API_HOST ('127.0.0.1') */
  host?: string
  /** 0: the OS picks one (read it from `url`); @default DEFAULT_API_PORT (0) */
  port?: number
  /** what the commands expect as `Authorization: Bearer <token>` (see `loadOrCreateApiToken`) */
  token: string
  /** serves `GET /metrics` when given (`createNodeMetrics(node)`) */
  metrics?: MetricsProvider
  /** @default REJECT_HISTORY_SIZE (100) */
  rejectHistory?: number
  logger?: ComponentLogger
}

export interface ApiServer {
  /** `http://host:port`, once started */
  readonly url: string
  /** listens, and starts recording rejects; fails as node:http does (EADDRINUSE, …) */
  start(): Promise<void>
  /** closes the server and every connection to it */
  stop(): Promise<void>
  /** the rejected and ended sessions recorded since `start()`, newest first */
  rejects(): RejectRecord[]
}

export interface MetricsServerInit {
  /** @default DEFAULT_METRICS_HOST ('127.0.0.1') */
  host?: string
  /** 0: the OS picks one (read it from `url`) */
  port: number
  /** what `GET /metrics` serves (`createNodeMetrics(node)`) */
  metrics: MetricsProvider
  logger?: ComponentLogger
}

export interface MetricsServer {
  /** `http://host:port/metrics`, once started */
  readonly url: string
  /** listens; fails as node:http does (EADDRINUSE, …) */
  start(): Promise<void>
  /** closes the server and every connection to it */
  stop(): Promise<void>
}

/**
 * A read-only listener of its own that serves `metrics` as `GET /metrics`
 * and nothing else, no token: for a Prometheus on another machine while the
 * status API stays on loopback
 */
export function createMetricsServer (init: MetricsServerInit): MetricsServer {
  return new NodeMetricsServer(init, (init.logger ?? defaultLogger()).forComponent('peergate:api:metrics'))
}

/**
 * The status API of a node, read through its view (a `PeerNode`, or
 * `nodeView(libp2p)` of your own libp2p node); `start()` it once the node runs
 */
export function createApiServer (node: NodeView, init: ApiServerInit): ApiServer {
  return new NodeApiServer(node, init, init.logger ?? node.logger ?? defaultLogger())
}

export { loadOrCreateApiToken, readApiToken, apiTokenPath } from './token.js'
export { isLoopbackHost } from './listen.js'
export { writeApiUrl, readApiUrl, removeApiUrl, apiUrlPath, clientUrl } from './url-file.js'
export { DEFAULT_API_PORT, DEFAULT_API_HOST, DEFAULT_METRICS_HOST, REJECT_HISTORY_SIZE, API_TOKEN_FILE, API_URL_FILE } from './constants.js'
export type { MetricsProvider } from '../metrics/index.js'
export type { RejectRecord } from './reject-log.js'
export type { StatusView, PeerView, ContactView, BanView, HeadView, ReservedView, GossipTopicView, ScoreEventView } from './views.js'
