/*
 * The Status message of /peergate/status/1.0.0 (docs/PROTOCOL.md §15.2,
 * protobuf/status.proto): its fields for the strict check, its encoding and
 * decoding, one Status read from or written to a status stream.
 */
import { InvalidMessageError } from '@libp2p/interface'
import { HEAD_SPEC } from '../chain/index.js'
import { InvalidLengthPrefixError, MessageTooLargeError, checkEncoding, encodeFrame, readFrame, writeFrame, type FieldSpec, type MessageSpec } from '../wire/index.js'
import { Status } from './pb/status.js'
import type { LocalStatus } from './index.js'
import type { RemoteStatus } from '../session/admission.js'
import type { Stream } from '@libp2p/interface'

/**
 * The fields of `Status` (protobuf/status.proto) for the strict check; they
 * must mirror the .proto (test/status/status.test.ts pins its fields)
 */
export const STATUS_SPEC: MessageSpec = new Map<number, FieldSpec>([
  [1, { name: 'head', type: 'message', message: HEAD_SPEC }],
  [2, { name: 'extra', type: 'bytes' }]
])

/** One framed Status, as written to the stream */
export function encodeStatus (status: LocalStatus): Uint8Array {
  return encodeFrame(encodeStatusBody(status)).subarray()
}

function encodeStatusBody (status: LocalStatus): Uint8Array {
  return Status.encode({
    head: status.head == null ? undefined : { height: status.head.height, hash: status.head.hash as Uint8Array<ArrayBuffer> },
    extra: (status.extra ?? new Uint8Array(0)) as Uint8Array<ArrayBuffer>
  })
}

/**
 * Decodes the body of a Status frame, its encoding checked strictly first
 * (docs/PROTOCOL.md §4.3 applies to it as to the handshake's messages)
 *
 * @throws {InvalidMessageError} "undecodable status: …"
 */
export function decodeStatus (bytes: Uint8Array): RemoteStatus {
  const problem = checkEncoding(bytes, STATUS_SPEC)
  if (problem != null) {
    throw new InvalidMessageError(`undecodable status: ${problem}`)
  }
  let status: Status
  try {
    status = Status.decode(bytes)
  } catch (err: any) {
    throw new InvalidMessageError(`undecodable status: ${err.message}`)
  }
  return {
    head: status.head == null ? undefined : { height: status.head.height, hash: status.head.hash },
    extra: status.extra
  }
}

/**
 * Reads the one Status of a status stream
 *
 * @throws {InvalidMessageError} for a frame over the size limit, an unreadable prefix, an undecodable Status or a stream that ends without one
 */
export async function readStatus (stream: Stream, maxMessageSize: number, signal: AbortSignal): Promise<RemoteStatus> {
  let body: Uint8Array | undefined
  try {
    body = await readFrame(stream, { maxFrameBytes: maxMessageSize, signal })
  } catch (err: any) {
    if (signal.aborted) {
      throw signal.reason
    }
    if (err instanceof MessageTooLargeError) {
      throw new InvalidMessageError(`status over the size limit: ${err.message}`)
    }
    if (err instanceof InvalidLengthPrefixError) {
      throw new InvalidMessageError(`unreadable status frame: ${err.message}`)
    }
    // the stream failed, or ended inside the frame (StreamEndedError)
    throw err
  }
  if (body == null) {
    throw new InvalidMessageError('the status stream ended without a Status')
  }
  return decodeStatus(body)
}

/** Frames and sends this node's Status, waiting while the stream asks to drain */
export async function writeStatus (stream: Stream, status: LocalStatus, signal: AbortSignal): Promise<void> {
  await writeFrame(stream, encodeStatusBody(status), { signal })
}
