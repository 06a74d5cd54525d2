import { createServer } from 'node:http'
import { timingSafeEqual } from 'node:crypto'
import { InvalidParametersError } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { isHandshakeError } from '../handshake/index.js'
import { errorText } from '../stream/index.js'
import { addrsBody, banBody, clearBackoffBody, connectBody, disconnectBody, peerBody, readJsonBody, removeReservedBody, unbanBody } from './body.js'
import { CONNECT_TIMEOUT_MS, DEFAULT_API_HOST, DEFAULT_API_PORT, REJECT_HISTORY_SIZE } from './constants.js'
import { ApiRequestError } from './errors.js'
import { close, httpUrl, listen } from './listen.js'
import { livePage } from './page.js'
import { RejectLog } from './reject-log.js'
import { bansView, contactView, gossipView, headView, peersView, reservedView, statusView } from './views.js'
import type { ApiServer, ApiServerInit, MetricsProvider } from './index.js'
import type { NodeView } from '../node/index.js'
import type { ComponentLogger, Logger } from '@libp2p/interface'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** What a route answers: a JSON body, or raw text with its content type */
type Reply = { status?: number, json: unknown } | { status?: number, text: string, contentType: string }

interface Route {
  /** the commands change the node: they need the token */
  auth: boolean
  handle(body: Record<string, unknown>): Promise<Reply>
}

export class NodeApiServer implements ApiServer {
  private readonly node: NodeView
  private readonly host: string
  private readonly port: number
  private readonly token: Buffer
  private readonly metrics?: MetricsProvider
  private readonly log: Logger
  private readonly rejectLog: RejectLog
  private readonly routes: Map<string, Route>
  private server?: Server
  private address?: AddressInfo

  constructor (node: NodeView, init: ApiServerInit, logger: ComponentLogger) {
    this.node = node
    this.host = init.host ?? DEFAULT_API_HOST
    this.port = init.port ?? DEFAULT_API_PORT
    this.token = Buffer.from(init.token)
    this.metrics = init.metrics
    this.log = logger.forComponent('peergate:api')
    this.rejectLog = new RejectLog(node, init.rejectHistory ?? REJECT_HISTORY_SIZE)
    this.routes = this.makeRoutes()
  }

  get url (): string {
    if (this.address == null) {
      throw new InvalidParametersError('the API server is not listening')
    }
    return httpUrl(this.address)
  }

  async start (): Promise<void> {
    if (this.server != null) {
      return
    }
    const server = createServer((req, res) => { void this.serve(req, res) })
    this.address = await listen(server, this.port, this.host)
    this.server = server
    this.rejectLog.start()
    this.log('listening on %s', this.url)
  }

  async stop (): Promise<void> {
    const server = this.server
    if (server == null) {
      return
    }
    this.server = undefined
    this.rejectLog.stop()
    await close(server)
  }

  rejects (): ReturnType<RejectLog['list']> {
    return this.rejectLog.list()
  }

  private makeRoutes (): Map<string, Route> {
    const node = this.node
    const read = (handle: () => unknown): Route => ({ auth: false, handle: async () => ({ json: await handle() }) })
    const command = (handle: (body: Record<string, unknown>) => Promise<Reply>): Route => ({ auth: true, handle })
    const routes = new Map<string, Route>([
      ['GET /', { auth: false, handle: async () => ({ text: livePage(), contentType: 'text/html; charset=utf-8' }) }],
      ['GET /health', { auth: false, handle: async () => healthReply(node) }],
      ['GET /status', read(() => statusView(node))],
      ['GET /peers', read(async () => peersView(node))],
      ['GET /contacts', read(() => {
        const bans = node.bans()
        return node.contacts().map(contact => contactView(contact, bans))
      })],
      ['GET /rejects', read(() => this.rejectLog.list())],
      ['GET /bans', read(() => bansView(node.bans()))],
      ['GET /reserved', read(() => reservedView(node))],
      ['GET /gossip', read(() => gossipView(node))],
      ['POST /reserved', command(async (body) => {
        const added = await node.addReserved(addrsBody(body))
        return { json: { ok: true, reserved: added.map(peer => peer.peerId.toString()) } }
      })],
      ['DELETE /reserved', command(async (body) => {
        const { peer, disconnect } = removeReservedBody(body)
        if (await node.removeReserved(peer, { disconnect }) == null) {
          throw new ApiRequestError(404, `${peer.toString()} is not a reserved peer`)
        }
        return { json: { ok: true } }
      })],
      ['POST /contacts', command(async (body) => {
        const added = await node.addContact(addrsBody(body))
        return { json: { ok: true, contacts: added.map(contact => contactView(contact, node.bans())) } }
      })],
      ['DELETE /contacts', command(async (body) => {
        const peer = peerBody(body)
        if (node.contact(peer) == null) {
          throw new ApiRequestError(404, `${peer.toString()} is not a contact`)
        }
        await node.removeContact(peer)
        return { json: { ok: true } }
      })],
      ['POST /connect', command(async (body) => this.connect(body))],
      ['POST /disconnect', command(async (body) => {
        const { peer, reason } = disconnectBody(body)
        if (node.session(peer) == null) {
          throw new ApiRequestError(404, `no session with ${peer.toString()}`)
        }
        await node.disconnect(peer, reason)
        return { json: { ok: true } }
      })],
      ['POST /ban', command(async (body) => {
        const { target, forMs } = banBody(body)
        await node.ban(target, forMs)
        return { json: { ok: true, until: node.banExpiry(target) } }
      })],
      ['POST /unban', command(async (body) => {
        await node.unban(unbanBody(body))
        return { json: { ok: true } }
      })],
      ['POST /backoff/clear', command(async (body) => {
        const peer = clearBackoffBody(body)
        if (peer != null && node.contact(peer) == null) {
          throw new ApiRequestError(404, `${peer.toString()} is not a contact`)
        }
        const cleared = await node.clearBackoff(peer)
        return { json: { ok: true, cleared: cleared.map(contact => contact.peerId.toString()) } }
      })]
    ])
    if (this.metrics != null) {
      const metrics = this.metrics
      routes.set('GET /metrics', { auth: false, handle: async () => ({ text: await metrics.text(), contentType: metrics.contentType }) })
    }
    return routes
  }

  private async connect (body: Record<string, unknown>): Promise<Reply> {
    // the options' own check of a /p2p/ address (InvalidParametersError: 400)
    const addr = connectBody(body)
    const started = Date.now()
    try {
      const session = await this.node.connect(multiaddr(addr), { signal: AbortSignal.timeout(CONNECT_TIMEOUT_MS) })
      return { json: { ok: true, peerId: session.peerId.toString(), did: session.did, direction: session.direction, head: headView(session.head) } }
    } catch (err: any) {
      return { status: 502, json: connectFailure(err, Date.now() - started) }
    }
  }

  private authorized (req: IncomingMessage): boolean {
    const header = req.headers.authorization
    const match = header == null ? null : /^Bearer\s+(\S+)$/i.exec(header)
    if (match == null) {
      return false
    }
    const given = Buffer.from(match[1])
    return given.length === this.token.length && timingSafeEqual(given, this.token)
  }

  private async serve (req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const path = new URL(req.url ?? '/', 'http://localhost').pathname
      const route = this.routes.get(`${req.method ?? 'GET'} ${path}`)
      if (route == null) {
        const known = [...this.routes.keys()].some(key => key.endsWith(` ${path}`))
        throw new ApiRequestError(known ? 405 : 404, known ? `${req.method ?? ''} is not allowed on ${path}` : `no such endpoint: ${path}`)
      }
      if (route.auth && !this.authorized(req)) {
        throw new ApiRequestError(401, 'this command needs "Authorization: Bearer <token>" (the token is in the data dir, file api-token)')
      }
      const body = req.method === 'POST' || req.method === 'DELETE' ? await readJsonBody(req) : {}
      send(res, await route.handle(body))
    } catch (err: any) {
      if (err instanceof ApiRequestError) {
        send(res, { status: err.status, json: { error: err.message } })
      } else if (err?.name === InvalidParametersError.name) {
        send(res, { status: 400, json: { error: err.message } })
      } else {
        this.log.error('%s %s failed - %e', req.method, req.url, err)
        send(res, { status: 500, json: { error: String(err?.message ?? err) } })
      }
    }
  }
}

/**
 * `GET /health`, a supervisor's or a load balancer's probe: 200 while the
 * node runs, 503 while it starts or stops (and once it has stopped), with
 * libp2p's status and, while it runs, the number of sessions
 */
function healthReply (node: NodeView): Reply {
  const status = node.state
  if (status !== 'started') {
    return { status: 503, json: { status } }
  }
  return { json: { status, sessions: node.sessions().length } }
}

/**
 * Why `POST /connect` failed, as its 502 body: a handshake's reason, side and
 * stage, or the dial's own error and how long it took (libp2p's text alone,
 * "The operation was aborted due to timeout", says neither what nor when)
 */
function connectFailure (err: unknown, elapsedMs: number): { error: string, reason?: string, side?: string, stage?: string, appCode?: number } {
  if (isHandshakeError(err)) {
    const by = err.side === 'remote' ? 'the peer' : 'this node'
    const at = err.stage == null ? '' : ` at ${err.stage}`
    return {
      error: `handshake failed: ${err.reason}${err.appCode == null ? '' : ` ${err.appCode}`}, by ${by}${at}: ${failureText(err)}`,
      reason: err.reason,
      side: err.side,
      stage: err.stage,
      appCode: err.appCode
    }
  }
  return { error: `dial failed: ${failureText(err)}, after ${(elapsedMs / 1000).toFixed(1)} s` }
}

/**
 * An error's text for a reply: the message with its class name when that
 * says more (EncryptionFailedError: …), the cause's message when it differs;
 * anything else as `errorText` says it (never "[object Event]")
 */
function failureText (err: unknown): string {
  if (err instanceof Error) {
    const message = err.message === '' ? err.name : err.message
    const named = err.name === 'Error' || err.name === 'HandshakeError' || message.startsWith(err.name) ? message : `${err.name}: ${message}`
    const cause = (err as { cause?: unknown }).cause
    const because = cause == null ? undefined : failureText(cause)
    return because == null || named.includes(because) ? named : `${named} (${because})`
  }
  return errorText(err)
}

function send (res: ServerResponse, reply: Reply): void {
  if (res.headersSent) {
    return
  }
  const status = reply.status ?? 200
  if ('json' in reply) {
    const body = JSON.stringify(reply.json ?? null)
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' })
    res.end(body)
  } else {
    res.writeHead(status, { 'content-type': reply.contentType, 'cache-control': 'no-store' })
    res.end(reply.text)
  }
}
