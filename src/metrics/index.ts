/**
 * @packageDocumentation
 *
 * Prometheus metrics of a peergate node, read through its view (`NodeView`):
 * its sessions, handshakes, session ends, dials, connections and address
 * book, in the node's registry next to libp2p's own metrics
 * (`createPeerNode({ metrics: true })`). Labels are bounded: reason codes,
 * directions, sides, results, connection roles, never a peer id.
 *
 * @example
 *
 * ```TypeScript
 * import { createPeerNode, createNodeMetrics, nodeView } from 'peergate'
 *
 * const node = await createPeerNode({ metrics: true })
 * const metrics = createNodeMetrics(node)
 * // an HTTP handler: Content-Type metrics.contentType, body await metrics.text()
 *
 * // or of a libp2p node of your own createLibp2p, with peergate's services
 * const ownMetrics = createNodeMetrics(nodeView(libp2p))
 * ```
 */

import type { Registry } from 'prom-client'

export interface NodeMetricsOptions {
  /**
   * The registry peergate's series go in
   *
   * @default the node's `metricsRegistry` (with libp2p's metrics), or a new one when the node has none
   */
  registry?: Registry
  /** clock for "contacts in backoff", ms since the epoch; @default Date.now */
  now?(): number
}

/**
 * What an HTTP server needs to serve `GET /metrics`: the exposition text and
 * its content type
 */
export interface MetricsProvider {
  /** the Prometheus text exposition of every series in the registry */
  text(): Promise<string>
  /** the Content-Type of `text()` */
  readonly contentType: string
}

export interface NodeMetrics extends MetricsProvider {
  readonly registry: Registry
  /** stops counting: removes the event listeners and peergate's series from the registry */
  stop(): void
}

export { createNodeMetrics } from './node-metrics.js'
export { HANDSHAKE_DURATION_BUCKETS_SECONDS } from './constants.js'
