import { createServer } from 'node:http'
import { InvalidParametersError } from '@libp2p/interface'
import { DEFAULT_METRICS_HOST } from './constants.js'
import { close, httpUrl, listen } from './listen.js'
import type { MetricsServer, MetricsServerInit } from './index.js'
import type { MetricsProvider } from '../metrics/index.js'
import type { Logger } from '@libp2p/interface'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** The one path a metrics listener serves */
export const METRICS_PATH = '/metrics'

/**
 * A read-only HTTP listener of its own for Prometheus (geth's
 * `--metrics.addr`, Lodestar's `--metrics.address`): `GET /metrics` and
 * nothing else, no token, so that it may face a remote scraper while the
 * status API stays on loopback
 */
export class NodeMetricsServer implements MetricsServer {
  private readonly host: string
  private readonly port: number
  private readonly metrics: MetricsProvider
  private readonly log: Logger
  private server?: Server
  private address?: AddressInfo

  constructor (init: MetricsServerInit, log: Logger) {
    this.host = init.host ?? DEFAULT_METRICS_HOST
    this.port = init.port
    this.metrics = init.metrics
    this.log = log
  }

  get url (): string {
    if (this.address == null) {
      throw new InvalidParametersError('the metrics server is not listening')
    }
    return `${httpUrl(this.address)}${METRICS_PATH}`
  }

  async start (): Promise<void> {
    if (this.server != null) {
      return
    }
    const server = createServer((req, res) => { void this.serve(req, res) })
    this.address = await listen(server, this.port, this.host)
    this.server = server
    this.log('serving metrics on %s', this.url)
  }

  async stop (): Promise<void> {
    const server = this.server
    if (server == null) {
      return
    }
    this.server = undefined
    await close(server)
  }

  private async serve (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    if (path !== METRICS_PATH) {
      reply(res, 404, 'text/plain; charset=utf-8', `no such endpoint: ${path} (this listener serves only GET ${METRICS_PATH})\n`)
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD')
      reply(res, 405, 'text/plain; charset=utf-8', `${req.method ?? ''} is not allowed on ${METRICS_PATH}\n`)
      return
    }
    try {
      reply(res, 200, this.metrics.contentType, await this.metrics.text())
    } catch (err: any) {
      this.log.error('GET %s failed - %e', METRICS_PATH, err)
      reply(res, 500, 'text/plain; charset=utf-8', `could not collect the metrics: ${String(err?.message ?? err)}\n`)
    }
  }
}

function reply (res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' })
  res.end(body)
}
