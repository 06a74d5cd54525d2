/*
 * The API's request bodies: reading one as JSON within MAX_BODY_BYTES, and the
 * fields of each command, checked. Pure (but for reading the body), so that
 * whatever a client sends gets a 400 or a 413, never a 500; the routes of
 * ./server.ts act on what these return.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { parsePeerAddrs } from '../node/peers.js'
import { REASON_CODES, isReasonCode, type ReasonCode } from '../reason/index.js'
import { MAX_BODY_BYTES } from './constants.js'
import { ApiRequestError, badRequest } from './errors.js'
import type { PeerId } from '@libp2p/interface'

/** A command's body: a JSON object */
export type Body = Record<string, unknown>

/**
 * Reads a request body of at most MAX_BODY_BYTES as a JSON object; an empty
 * (or blank) body is `{}`
 *
 * @throws {ApiRequestError} 413 over MAX_BODY_BYTES (read no further), 400 when it is not JSON or not an object
 */
export async function readJsonBody (source: AsyncIterable<Uint8Array>): Promise<Body> {
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of source) {
    size += chunk.byteLength
    if (size > MAX_BODY_BYTES) {
      throw new ApiRequestError(413, `the body is larger than ${MAX_BODY_BYTES} bytes`)
    }
    chunks.push(chunk)
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
  return value as Body
}

/** The body's own field `name` (never one of Object.prototype's) */
function field (body: Body, name: string): unknown {
  return Object.prototype.hasOwnProperty.call(body, name) ? body[name] : undefined
}

function requiredString (body: Body, name: string): string {
  const value = field(body, name)
  if (typeof value !== 'string' || value === '') {
    throw badRequest(`"${name}" must be a non-empty string`)
  }
  return value
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

/**
 * `addr` of `POST /reserved` and `POST /contacts`: one /p2p/ address or a
 * non-empty list of them, as strings (the node parses them, refusing one that
 * is not a multiaddr with /p2p/ with an InvalidParametersError, a 400)
 */
export function addrsBody (body: Body): string[] {
  const value = field(body, 'addr')
  const list = typeof value === 'string' ? [value] : value
  if (!Array.isArray(list) || list.length === 0 || !list.every(item => typeof item === 'string' && item !== '')) {
    throw badRequest('"addr" must be a multiaddr with /p2p/<peer id>, or a non-empty list of them')
  }
  return list as string[]
}

/** `peer` of `DELETE /contacts` */
export function peerBody (body: Body): PeerId {
  return parsePeer(requiredString(body, 'peer'))
}

/** `DELETE /reserved`: the peer, and whether to end its session */
export function removeReservedBody (body: Body): { peer: PeerId, disconnect: boolean } {
  const peer = peerBody(body)
  const disconnect = field(body, 'disconnect')
  if (disconnect !== undefined && typeof disconnect !== 'boolean') {
    throw badRequest('"disconnect" must be true or false')
  }
  return { peer, disconnect: disconnect === true }
}

/**
 * `addr` of `POST /connect`: one multiaddr with /p2p/
 *
 * @throws {InvalidParametersError} when it is not one (a 400)
 */
export function connectBody (body: Body): string {
  const addr = requiredString(body, 'addr')
  // the options' own check of a /p2p/ address
  parsePeerAddrs([addr], '"addr"')
  return addr
}

/** `POST /disconnect`: the peer, and the reason code to send (the session manager's default when undefined) */
export function disconnectBody (body: Body): { peer: PeerId, reason?: ReasonCode } {
  const peer = peerBody(body)
  const reason = field(body, 'reason')
  if (reason !== undefined && !isReasonCode(reason)) {
    throw badRequest(`"reason" must be a reason code (${REASON_CODES.join(', ')})`)
  }
  return { peer, reason }
}

/** `POST /ban`: a peer id or a DID, and for how long (for good when undefined) */
export function banBody (body: Body): { target: PeerId | string, forMs?: number } {
  const target = parseTarget(requiredString(body, 'target'))
  const forMs = field(body, 'forMs')
  if (forMs !== undefined && (typeof forMs !== 'number' || !Number.isSafeInteger(forMs) || forMs <= 0)) {
    throw badRequest('"forMs" must be a positive whole number of milliseconds')
  }
  return { target, forMs }
}

/** `POST /unban`: a peer id or a DID */
export function unbanBody (body: Body): PeerId | string {
  return parseTarget(requiredString(body, 'target'))
}

/** `POST /backoff/clear`: one contact, or every one when undefined (no `peer`, or an empty one) */
export function clearBackoffBody (body: Body): PeerId | undefined {
  const value = field(body, 'peer')
  if (value !== undefined && typeof value !== 'string') {
    throw badRequest('"peer" must be a peer id')
  }
  return value == null || value === '' ? undefined : parsePeer(value)
}
