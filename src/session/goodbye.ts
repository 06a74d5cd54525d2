/*
 * Goodbye (docs/PROTOCOL.md §11.1): a node that ends a session says why on a
 * stream of its own, one length-prefixed message, before it hangs up.
 */
import * as lp from 'it-length-prefixed'
import { raceSignal } from 'race-signal'
import { MAX_DETAIL_BYTES, ReasonCode } from '../reason/index.js'
import { endOnRemoteClose, errorText } from '../stream/index.js'
import { decodeLengthPrefix, truncateUtf8 } from '../wire/index.js'
import { GOODBYE_PROTOCOL, MAX_GOODBYE_MESSAGE_BYTES } from './constants.js'
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
  stream.send(lp.encode.single(Goodbye.encode({
    reason: parting.reason,
    appCode: parting.appCode,
    detail: parting.detail == null ? undefined : truncateUtf8(parting.detail, MAX_DETAIL_BYTES)
  })))
  return stream
}

/**
 * Reads the one Goodbye message of an inbound Goodbye stream. A stream that
 * ends without one, or carries one that does not decode or is over
 * MAX_GOODBYE_MESSAGE_BYTES, says nothing: the session ends as
 * CONNECTION_CLOSED.
 */
export async function readGoodbye (stream: Stream, signal: AbortSignal): Promise<Parting> {
  try {
    const frames = lp.decode(endOnRemoteClose(stream), { maxDataLength: MAX_GOODBYE_MESSAGE_BYTES, lengthDecoder: decodeLengthPrefix })[Symbol.asyncIterator]()
    const first = await raceSignal(frames.next(), signal)
    if (first.done === true) {
      return { reason: ReasonCode.CONNECTION_CLOSED, detail: 'goodbye stream ended without a message' }
    }
    const message = Goodbye.decode(first.value.subarray())
    return {
      reason: message.reason ?? ReasonCode.UNSPECIFIED,
      appCode: message.appCode,
      detail: message.detail == null ? undefined : truncateUtf8(message.detail, MAX_DETAIL_BYTES)
    }
  } catch (err: any) {
    return { reason: ReasonCode.CONNECTION_CLOSED, detail: `unreadable goodbye: ${errorText(err)}` }
  }
}
