/*
 * Goodbye (docs/PROTOCOL.md §11.1): a node that ends a session says why on a
 * stream of its own, one length-prefixed message, before it hangs up.
 */
import { InvalidMessageError } from '@libp2p/interface'
import { anySignal } from 'any-signal'
import { MAX_DETAIL_BYTES, ReasonCode } from '../reason/index.js'
import { endOnRemoteClose, errorText } from '../stream/index.js'
import { checkEncoding, encodeFrame, readFrame, truncateUtf8, type FieldSpec, type MessageSpec } from '../wire/index.js'
import { GOODBYE_PROTOCOL, GOODBYE_TIMEOUT_MS, MAX_GOODBYE_MESSAGE_BYTES } from './constants.js'
import { Goodbye } from './pb/session.js'
import type { Connection, Stream } from '@libp2p/interface'

/** Why a session ends, as a Goodbye carries it */
export interface Parting {
  reason: ReasonCode
  /** the application's own code, with APPLICATION_REJECTED */
  appCode?: number
  /** a short note, cut to MAX_DETAIL_BYTES on the wire */
  detail?: string
}

/**
 * Opens a Goodbye stream on `connection` and writes `parting` to it; the
 * caller hangs up with the stream as its farewell
 */
export async function sendGoodbye (connection: Connection, parting: Parting, signal: AbortSignal): Promise<Stream> {
  const stream = await connection.newStream(GOODBYE_PROTOCOL, { signal })
  stream.send(encodeFrame(Goodbye.encode({
    reason: parting.reason,
    appCode: parting.appCode,
    detail: parting.detail == null ? undefined : truncateUtf8(parting.detail, MAX_DETAIL_BYTES)
  })))
  return stream
}

/**
 * The fields of `Goodbye` (protobuf/session.proto) for the strict check that
 * every message of the handshake's family gets (docs/PROTOCOL.md §4.3, §11.1)
 */
export const GOODBYE_SPEC: MessageSpec = new Map<number, FieldSpec>([
  [1, { name: 'reason', type: 'enum' }],
  [2, { name: 'app_code', type: 'uint32' }],
  [3, { name: 'detail', type: 'string' }]
])

/**
 * Reads the one Goodbye message of an inbound Goodbye stream, within
 * GOODBYE_TIMEOUT_MS of the call (and `signal`). A detail over
 * MAX_DETAIL_BYTES is cut to its longest prefix of whole characters that
 * fits, as a reject's is.
 *
 * @throws {InvalidMessageError} when the stream carries no readable Goodbye:
 * it ends without a whole frame, the frame's prefix is not minimal or
 * announces a body over MAX_GOODBYE_MESSAGE_BYTES, the body is undecodable
 * (§4.3, an unknown reason included), or no frame came in time. The session
 * then ends as CONNECTION_CLOSED with the error's message.
 */
export async function readGoodbye (stream: Stream, signal?: AbortSignal): Promise<Parting> {
  const deadline = AbortSignal.timeout(GOODBYE_TIMEOUT_MS)
  const reading = anySignal([deadline, signal])
  let body: Uint8Array | undefined
  try {
    body = await readFrame(endOnRemoteClose(stream), { maxFrameBytes: MAX_GOODBYE_MESSAGE_BYTES, signal: reading })
  } catch (err: any) {
    if (deadline.aborted) {
      throw new InvalidMessageError(`no goodbye within ${GOODBYE_TIMEOUT_MS} ms`)
    }
    // a frame over the limit, a prefix that is not minimal, a stream that ends inside the frame or fails
    throw new InvalidMessageError(`unreadable goodbye: ${errorText(err)}`)
  } finally {
    reading.clear()
  }
  if (body == null) {
    throw new InvalidMessageError('goodbye stream ended without a message')
  }
  return decodeGoodbye(body)
}

/**
 * Decodes the body of a Goodbye frame, its encoding checked strictly first
 * (docs/PROTOCOL.md §4.3); a detail over MAX_DETAIL_BYTES is cut to its
 * longest prefix of whole characters that fits
 *
 * @throws {InvalidMessageError} "undecodable goodbye: …" (an unknown reason included)
 */
export function decodeGoodbye (body: Uint8Array): Parting {
  const problem = checkEncoding(body, GOODBYE_SPEC)
  if (problem != null) {
    throw new InvalidMessageError(`undecodable goodbye: ${problem}`)
  }
  let message: Goodbye
  try {
    message = Goodbye.decode(body)
  } catch (err: any) {
    // what the structural check leaves to protons: a reason §12 does not define
    throw new InvalidMessageError(`undecodable goodbye: ${errorText(err)}`)
  }
  return {
    reason: message.reason ?? ReasonCode.UNSPECIFIED,
    appCode: message.appCode,
    detail: message.detail == null ? undefined : truncateUtf8(message.detail, MAX_DETAIL_BYTES)
  }
}
