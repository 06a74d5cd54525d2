import { createServer } from 'node:http'
import { timingSafeEqual } from 'node:crypto'
import { InvalidParametersError } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { isHandshakeError } from '../handshake/index.js'
import { REASON_CODES, isReasonCode } from '../reason/index.js'
import { errorText } from '../stream/index.js'
import { CONNECT_TIMEOUT_MS, DEFAULT_API_HOST, DEFAULT_API_PORT, MAX_BODY_BYTES, REJECT_HISTORY_SIZE } from './constants.js'
import { ApiRequestError, badRequest } from './errors.js'
import { close, httpUrl, listen } from './listen.js'
import { livePage } from './page.js'
import { RejectLog } from './reject-log.js'
import { bansView, contactView, gossipView, headView, peersView, reservedView, statusView } from './views.js'
import type { ApiServer, ApiServerInit, MetricsProvider } from './index.js'
import { parsePeerAddrs } from '../node/index.js'
import type { NodeView } from '../node/index.js'
import type { ComponentLogger, Logger, PeerId } from '@libp2p/interface'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** What a route answers: a JSON body, or raw text with its content type */
type Reply = { status?: number, json: unknown } | { status?: number, text: string, contentType: string }

interface Route {
  /** the commands change the node: they need the token */
  auth: boolean
  handle(body: Record<string, unknown>): Promise<Reply>
}

function field (body: Record<string, unknown>, name: string): unknown {
  return Object.prototype.hasOwnProperty.call(body, name) ? body[name] : undefined
}

function requiredString (body: Record<string, unknown>, name: string): string {
  const value = field(body, name)
  if (typeof value !== 'string' || value === '') {
    throw badRequest(`"${name}" must be a non-empty string`)
  }
  return value
}

/** `addr`: one /p2p/ address or a non-empty list of them */
function addrList (body: Record<string, unknown>, name: string): string[] {
  const value = field(body, name)
  const list = typeof value === 'string' ? [value] : value
  if (!Array.isArray(list) || list.length === 0 || !list.every(item => typeof item === 'string' && item !== '')) {
    throw badRequest(`"${name}" must be a multiaddr with /p2p/<peer id>, or a non-empty list of them`)
  }
  return list as string[]
}

export function parsePeer (value: string, name = 'peer'): PeerId {
  try {
    return peerIdFromString(value)
  } catch {
    throw badRequest(`"${name}" ${JSON.stringify(value)} is not a peer id`)
  }
}

/** A ban target: a DID as is, anything else must be a peer id */
export function parseTarget (value: string): PeerId | string {
  return value.startsWith('did:') ? value : parsePeer(value, 'target')
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
        const added = await node.addReserved(addrList(body, 'addr'))
        return { json: { ok: true, reserved: added.map(peer => peer.peerId.toString()) } }
      })],
      ['DELETE /reserved', command(async (body) => {
        const peer = parsePeer(requiredString(body, 'peer'))
        const disconnect = field(body, 'disconnect')
        if (disconnect !== undefined && typeof disconnect !== 'boolean') {
          throw badRequest('"disconnect" must be true or false')
        }
        if (await node.removeReserved(peer, { disconnect: disconnect === true }) == null) {
          throw new ApiRequestError(404, `${peer.toString()} is not a reserved peer`)
        }
        return { json: { ok: true } }
      })],
      ['POST /contacts', command(async (body) => {
        const added = await node.addContact(addrList(body, 'addr'))
        return { json: { ok: true, contacts: added.map(contact => contactView(contact, node.bans())) } }
      })],
      ['DELETE /contacts', command(async (body) => {
        const peer = parsePeer(requiredString(body, 'peer'))
        if (node.contact(peer) == null) {
          throw new ApiRequestError(404, `${peer.toString()} is not a contact`)
        }
        await node.removeContact(peer)
        return { json: { ok: true } }
      })],
      ['POST /connect', command(async (body) => this.connect(body))],
      ['POST /disconnect', command(async (body) => {
        const peer = parsePeer(requiredString(body, 'peer'))
        const reason = field(body, 'reason')
        if (reason !== undefined && !isReasonCode(reason)) {
          throw badRequest(`"reason" must be a reason code (${REASON_CODES.join(', ')})`)
        }
        if (node.session(peer) == null) {
          throw new ApiRequestError(404, `no session with ${peer.toString()}`)
        }
        await node.disconnect(peer, reason)
        return { json: { ok: true } }
      })],
      ['POST /ban', command(async (body) => {
        const target = parseTarget(requiredString(body, 'target'))
        const forMs = field(body, 'forMs')
        if (forMs !== undefined && (typeof forMs !== 'number' || !Number.isSafeInteger(forMs) || forMs <= 0)) {
          throw badRequest('"forMs" must be a positive whole number of milliseconds')
        }
        await node.ban(target, forMs as number | undefined)
        return { json: { ok: true, until: node.banExpiry(target) } }
      })],
      ['POST /unban', command(async (body) => {
        await node.unban(parseTarget(requiredString(body, 'target')))
        return { json: { ok: true } }
      })],
      ['POST /backoff/clear', command(async (body) => {
        const value = field(body, 'peer')
        if (value !== undefined && typeof value !== 'string') {
          throw badRequest('"peer" must be a peer id')
        }
        const peer = value == null || value === '' ? undefined : parsePeer(value)
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
    const addr = requiredString(body, 'addr')
    // the options' own check of a /p2p/ address (InvalidParametersError: 400)
    parsePeerAddrs([addr], '"addr"')
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

async function readJsonBody (req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY_BYTES) {
      throw new ApiRequestError(413, `the body is larger than ${MAX_BODY_BYTES} bytes`)
    }
    chunks.push(chunk as Buffer)
  }
  const text = Buffer.concat(chunks).toString('utf8').trim()
  if (text === '') {
    return {}
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw badRequest('the body is not JSON')
  }
  if (value == null || typeof value !== 'object' || Array.isArray(value)) {
    throw badRequest('the body must be a JSON object')
  }
  return value as Record<string, unknown>
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
