/**
 * @packageDocumentation
 *
 * Application protocols on the session gate, so that a chain never writes
 * framing, request/response or peer bookkeeping itself. Everything here goes
 * through `Sessions.handle` and `Sessions.openStream`: only session peers are
 * served or reached. The wire formats are in docs/APPLICATION-PROTOCOLS.md.
 *
 * - framing: `readMessage`, `readMessages`, `writeMessage` (unsigned-varint
 *   length prefix, size checked on the prefix)
 * - request/response: `handleRequests` and `request`, one stream per
 *   request, a `ResultCode` byte before the response (as eth2 req/resp)
 * - notifications: `notifications`, one long-lived stream per peer and
 *   protocol (as Substrate's notification protocols)
 *
 * @example
 *
 * ```TypeScript
 * import { handleRequests, request, notifications } from 'peergate'
 *
 * // the session service: your createLibp2p's `services.sessions`
 * const { sessions } = node.services
 * await handleRequests(sessions, '/my-chain/block/1.0.0', async (req, session) => blocks.get(req))
 * const { payload } = await request(sessions, peer, '/my-chain/block/1.0.0', hash)
 *
 * const txs = await notifications(sessions, '/my-chain/txs/1.0.0', { onMessage: (tx, session) => pool.add(tx) })
 * await txs.broadcast(tx, { except: from })
 * ```
 */

import type { Sessions } from '../session/index.js'

/**
 * What the protocols need of the session manager: its sessions, its gate
 * (gated handlers, streams opened only to session peers) and the wait for a
 * handshake in flight, and the peer score's port (`reportPeer`: a peer over
 * a rate limit is reported; optional, so that a stand-in of your own without
 * it still serves, unreported). `Sessions` is one; so is a test's in-memory
 * stand-in.
 */
export type ProtocolSessions = Pick<Sessions, 'get' | 'list' | 'handle' | 'unhandle' | 'openStream' | 'waitForSession'> & Partial<Pick<Sessions, 'reportPeer'>>

export { handleRequests, request } from './request-response.js'
export type { Response, SuccessResponse, RequestHandler, RequestLimits, HandleRequestsOptions, RequestOptions } from './request-response.js'
export { notifications } from './notifications.js'
export type { NotificationChannel, NotificationsOptions, BroadcastOptions } from './notifications.js'
export { readMessage, readMessages, writeMessage } from './framing.js'
export type { ByteSource, MessageOptions } from './framing.js'
export { ResultCode, RESULT_BYTE, resultCodeOf } from './result-code.js'
export { MessageTooLargeError, StreamEndedError, RemoteResultError, TooManyRequestsError, QueueFullError } from './errors.js'
export { DEFAULT_MAX_REQUEST_BYTES, DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_REQUEST_TIMEOUT_MS, DEFAULT_REQUEST_READ_TIMEOUT_MS, DEFAULT_MAX_IN_FLIGHT_PER_PEER, MAX_ERROR_MESSAGE_BYTES, DEFAULT_MAX_NOTIFICATION_BYTES, DEFAULT_MAX_QUEUED_NOTIFICATIONS, NOTIFICATION_CLOSE_TIMEOUT_MS, MAX_INBOUND_NOTIFICATION_STREAMS } from './constants.js'
