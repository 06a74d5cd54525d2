/*
 * Frames, as every peergate protocol carries its messages (docs/PROTOCOL.md
 * §3, docs/APPLICATION-PROTOCOLS.md §1): an unsigned-varint length prefix,
 * minimally encoded, then that many bytes of body. The handshake, the status
 * exchange, the Goodbye and the application protocols all read and write
 * them here, with the errors of ./errors.js.
 */
import { raceSignal } from 'race-signal'
import { encode as encodeVarint, encodingLength } from 'uint8-varint'
import { Uint8ArrayList } from 'uint8arraylist'
import { MessageTooLargeError, StreamEndedError } from './errors.js'
import { MAX_LENGTH_PREFIX_BYTES, readLengthPrefix } from './length-prefix.js'
import type { AbortOptions, Stream } from '@libp2p/interface'

/** What a stream (or any byte source) yields */
export type ByteSource = AsyncIterable<Uint8Array | Uint8ArrayList>

export interface ReadFrameOptions extends AbortOptions {
  /** largest body accepted, in bytes, checked on the length prefix */
  maxFrameBytes: number
}

export interface WriteFrameOptions extends AbortOptions {
  /** largest body sent, in bytes; a larger one is refused before anything is sent. None when undefined. */
  maxFrameBytes?: number
}

/**
 * Checks the length prefix at the start of `buffer` against `maxFrameBytes`,
 * before any of the body is buffered: a prefix whose value is over the
 * limit, or one that is unfinished and already as long as the limit's own
 * varint (it can only announce more), is refused at once.
 *
 * @returns the body length, with the prefix consumed; undefined while the prefix is unfinished
 */
function takeLengthPrefix (buffer: Uint8ArrayList, maxFrameBytes: number, maxPrefixBytes: number): number | undefined {
  const prefix = readLengthPrefix(buffer)
  if (prefix == null) {
    if (buffer.byteLength >= maxPrefixBytes) {
      throw new MessageTooLargeError(2 ** (7 * maxPrefixBytes), maxFrameBytes, `length prefix of ${buffer.byteLength}+ bytes is over the limit of ${maxFrameBytes} bytes`)
    }
    return undefined
  }
  if (prefix.length > maxFrameBytes) {
    throw new MessageTooLargeError(prefix.length, maxFrameBytes)
  }
  buffer.consume(prefix.bytes)
  return prefix.length
}

/**
 * The frames of `source`, their bodies in order, each checked against
 * `maxFrameBytes` on its length prefix before its body is buffered. A
 * zero-length frame is an empty body.
 *
 * @throws {MessageTooLargeError} a prefix over the limit
 * @throws {InvalidLengthPrefixError} a prefix that is not minimally encoded, or longer than MAX_LENGTH_PREFIX_BYTES
 * @throws {StreamEndedError} the source ended inside a frame (prefix or body)
 */
export async function * readFrames (source: ByteSource | Iterable<Uint8Array | Uint8ArrayList>, maxFrameBytes: number): AsyncGenerator<Uint8Array, void, undefined> {
  const maxPrefixBytes = Math.min(encodingLength(maxFrameBytes), MAX_LENGTH_PREFIX_BYTES)
  const buffer = new Uint8ArrayList()
  /** the body length of the frame being read once its prefix is in, else undefined */
  let length: number | undefined
  for await (const chunk of source) {
    buffer.append(chunk)
    while (true) {
      if (length == null) {
        if (buffer.byteLength === 0) {
          break
        }
        length = takeLengthPrefix(buffer, maxFrameBytes, maxPrefixBytes)
        if (length == null) {
          break
        }
      }
      if (buffer.byteLength < length) {
        break
      }
      const body = buffer.subarray(0, length)
      buffer.consume(length)
      length = undefined
      yield body
    }
  }
  if (length != null || buffer.byteLength > 0) {
    throw new StreamEndedError('the stream ended inside a message')
  }
}

/**
 * Reads the frames of one source one at a time, each within its own signal
 * (as the handshake reads its messages, a deadline per stage)
 */
export class FrameReader {
  /** frames read so far */
  framesRead = 0
  private readonly frames: AsyncGenerator<Uint8Array, void, undefined>

  constructor (source: ByteSource, maxFrameBytes: number) {
    this.frames = readFrames(source, maxFrameBytes)
  }

  /**
   * The next frame's body; undefined when the source ended between frames
   *
   * @throws the errors of {@link readFrames}, or the signal's reason when it aborts first
   */
  async read (options: AbortOptions = {}): Promise<Uint8Array | undefined> {
    const next = await raceSignal(this.frames.next(), options.signal)
    if (next.done === true) {
      return undefined
    }
    this.framesRead++
    return next.value
  }

  /** Stops reading: the source is not read any further */
  close (): void {
    this.frames.return(undefined).catch(() => {})
  }
}

/**
 * Reads one frame from `source` (a stream that carries one frame this way;
 * anything after it is not read)
 *
 * @returns its body; undefined when the source ended before any byte of it
 * @throws the errors of {@link readFrames}, or the signal's reason when it aborts first
 */
export async function readFrame (source: ByteSource, options: ReadFrameOptions): Promise<Uint8Array | undefined> {
  const reader = new FrameReader(source, options.maxFrameBytes)
  try {
    return await reader.read(options)
  } finally {
    reader.close()
  }
}

/** `body` framed: its minimal unsigned-varint length, then the body itself (not copied) */
export function encodeFrame (body: Uint8Array | Uint8ArrayList): Uint8ArrayList {
  return new Uint8ArrayList(encodeVarint(body.byteLength), body)
}

/**
 * Frames `body` and sends it on `stream`, waiting while the stream asks to
 * drain
 *
 * @throws {MessageTooLargeError} before sending anything, when `body` is over `maxFrameBytes`
 */
export async function writeFrame (stream: Pick<Stream, 'send' | 'onDrain'>, body: Uint8Array | Uint8ArrayList, options: WriteFrameOptions = {}): Promise<void> {
  if (options.maxFrameBytes != null && body.byteLength > options.maxFrameBytes) {
    throw new MessageTooLargeError(body.byteLength, options.maxFrameBytes)
  }
  if (!stream.send(encodeFrame(body))) {
    await stream.onDrain(options)
  }
}
