import { MAX_DETAIL_BYTES, ReasonCode } from '../reason/index.js'
import { errorText } from '../stream/index.js'
import { FrameReader, InvalidLengthPrefixError, MessageTooLargeError, encodeFrame, truncateUtf8, writeFrame } from '../wire/index.js'
import { HandshakeError, type HandshakeStage } from './errors.js'
import { HandshakeMessage, Hello } from './pb/handshake.js'
import { HANDSHAKE_MESSAGE_SPEC, HELLO_SPEC, checkEncoding, type MessageSpec } from './wire-check.js'
import type { AbortOptions, Stream } from '@libp2p/interface'

/**
 * Length-prefixed `HandshakeMessage`s over one stream. Every message's size is
 * checked on its length prefix before it is buffered.
 */
export class HandshakeChannel {
  readonly stream: Stream
  private readonly frames: FrameReader

  constructor (stream: Stream, maxMessageSize: number) {
    this.stream = stream
    this.frames = new FrameReader(stream, maxMessageSize)
  }

  /** messages read so far, rejects included */
  get messagesRead (): number {
    return this.frames.framesRead
  }

  /**
   * Reads the next message. A remote reject surfaces as a `HandshakeError`
   * with side `remote`; anything unreadable as MALFORMED.
   */
  async read (stage: HandshakeStage, options: AbortOptions): Promise<HandshakeMessage> {
    let body: Uint8Array | undefined
    try {
      body = await this.frames.read(options)
    } catch (err: any) {
      if (options.signal?.aborted === true) {
        throw options.signal.reason
      }
      if (err instanceof MessageTooLargeError) {
        throw new HandshakeError(ReasonCode.MALFORMED, `message over the size limit: ${err.message}`, 'local', stage)
      }
      if (err instanceof InvalidLengthPrefixError) {
        throw new HandshakeError(ReasonCode.MALFORMED, `unreadable frame: ${err.message}`, 'local', stage)
      }
      // the stream failed, or ended inside a frame (StreamEndedError)
      throw new HandshakeError(ReasonCode.CONNECTION_CLOSED, `stream failed while reading: ${errorText(err)}`, 'remote', stage)
    }
    if (body == null) {
      throw new HandshakeError(ReasonCode.CONNECTION_CLOSED, 'remote closed the handshake stream', 'remote', stage)
    }

    const message = decodeHandshakeMessage(body, stage)
    if (message.reject != null) {
      const detail = message.detail == null ? '' : `: ${truncateUtf8(message.detail, MAX_DETAIL_BYTES)}`
      const code = message.appCode == null ? '' : ` (application code ${message.appCode})`
      throw new HandshakeError(message.reject, `remote rejected with ${message.reject}${code}${detail}`, 'remote', stage, message.appCode)
    }
    return message
  }

  /**
   * Frames and sends one message, waiting for the stream to drain if needed
   */
  async write (message: HandshakeMessage, options: AbortOptions): Promise<void> {
    await writeFrame(this.stream, HandshakeMessage.encode(message), options)
  }

  /**
   * Best effort: tells the remote why we hang up. Never throws.
   */
  sendReject (reason: ReasonCode, detail: string, appCode?: number): void {
    if (this.stream.writeStatus !== 'writable') {
      return
    }
    try {
      this.stream.send(encodeFrame(HandshakeMessage.encode({
        reject: reason,
        detail: truncateUtf8(detail, MAX_DETAIL_BYTES),
        appCode
      })))
    } catch {
      // the stream died under us; the hang-up that follows says enough
    }
  }
}

/**
 * Decodes the body of one frame. Its encoding is checked strictly first
 * (docs/PROTOCOL.md §4.3), because protons' decoder accepts encodings that
 * do not say what it makes of them.
 *
 * @throws {HandshakeError} MALFORMED, "undecodable message: …"
 */
export function decodeHandshakeMessage (bytes: Uint8Array, stage: HandshakeStage): HandshakeMessage {
  return decodeStrictly(bytes, HANDSHAKE_MESSAGE_SPEC, HandshakeMessage, 'message', stage)
}

/**
 * Decodes the hello carried as bytes in a message, checking its encoding
 * strictly first (docs/PROTOCOL.md §4.3)
 *
 * @throws {HandshakeError} MALFORMED, "undecodable hello: …"
 */
export function decodeHello (bytes: Uint8Array, stage: HandshakeStage): Hello {
  return decodeStrictly(bytes, HELLO_SPEC, Hello, 'hello', stage)
}

/** The strict encoding check, then protons' decoder (which still refuses a reject code it does not know) */
function decodeStrictly<T> (bytes: Uint8Array, spec: MessageSpec, codec: { decode(bytes: Uint8Array): T }, what: string, stage: HandshakeStage): T {
  const problem = checkEncoding(bytes, spec)
  if (problem != null) {
    throw new HandshakeError(ReasonCode.MALFORMED, `undecodable ${what}: ${problem}`, 'local', stage)
  }
  try {
    return codec.decode(bytes)
  } catch (err: any) {
    throw new HandshakeError(ReasonCode.MALFORMED, `undecodable ${what}: ${err.message}`, 'local', stage)
  }
}
