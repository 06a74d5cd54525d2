import { InvalidMessageError } from '@libp2p/interface'
import { raceSignal } from 'race-signal'
import { InvalidLengthPrefixError, StreamEndedError, readFrame, readFrames, writeFrame, type ByteSource } from '../wire/index.js'
import type { AbortOptions, Stream } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'

export type { ByteSource } from '../wire/index.js'

export interface MessageOptions extends AbortOptions {
  /** largest message body in bytes; a read is refused on the length prefix, a write before sending */
  maxMessageBytes: number
}

/** The protocols' outcome of a prefix the wire cannot read: the message is invalid */
function toProtocolError (err: unknown): unknown {
  return err instanceof InvalidLengthPrefixError ? new InvalidMessageError(err.message) : err
}

/**
 * The length-prefixed messages of `source`, each checked against
 * `maxMessageBytes` on its prefix before its body is buffered (a prefix over
 * the limit, or an unfinished one already as long as the limit's own varint)
 *
 * @throws {MessageTooLargeError} a prefix over the limit
 * @throws {InvalidMessageError} a prefix that is not minimally encoded
 * @throws {StreamEndedError} the source ended inside a message
 */
export async function * readMessages (source: ByteSource, maxMessageBytes: number): AsyncGenerator<Uint8Array, void, undefined> {
  try {
    yield * readFrames(source, maxMessageBytes)
  } catch (err) {
    throw toProtocolError(err)
  }
}

/**
 * Reads one length-prefixed message from `source` (a stream that carries
 * one message this way; anything after it is not read).
 *
 * @throws {StreamEndedError} the source ended before a whole message
 * @throws {MessageTooLargeError} its prefix is over `maxMessageBytes`
 * @throws {InvalidMessageError} its prefix is not minimally encoded
 * @throws the signal's reason when it aborts first
 */
export async function readMessage (source: ByteSource, options: MessageOptions): Promise<Uint8Array> {
  let message: Uint8Array | undefined
  try {
    message = await readFrame(source, { maxFrameBytes: options.maxMessageBytes, signal: options.signal })
  } catch (err) {
    throw toProtocolError(err)
  }
  if (message == null) {
    throw new StreamEndedError()
  }
  return message
}

/**
 * Frames `message` (unsigned varint length, then the bytes) and sends it,
 * waiting while the stream asks to drain.
 *
 * @throws {MessageTooLargeError} before sending anything, when the message is over `maxMessageBytes`
 */
export async function writeMessage (stream: Stream, message: Uint8Array | Uint8ArrayList, options: MessageOptions): Promise<void> {
  await writeFrame(stream, message, { maxFrameBytes: options.maxMessageBytes, signal: options.signal })
}

/**
 * Reads the first byte of `source` and returns it with the rest of the
 * source (the bytes after it first)
 *
 * @throws {StreamEndedError} the source ended before a byte
 */
export async function readFirstByte (source: ByteSource, options: AbortOptions = {}): Promise<{ byte: number, rest: ByteSource }> {
  const iterator = source[Symbol.asyncIterator]()
  while (true) {
    const next = await raceSignal(iterator.next(), options.signal)
    if (next.done === true) {
      throw new StreamEndedError('the stream ended before its first byte')
    }
    const chunk = next.value instanceof Uint8Array ? next.value : next.value.subarray()
    if (chunk.byteLength === 0) {
      continue
    }
    const remainder = chunk.subarray(1)
    return {
      byte: chunk[0],
      rest: {
        async * [Symbol.asyncIterator] () {
          if (remainder.byteLength > 0) {
            yield remainder
          }
          while (true) {
            const more = await iterator.next()
            if (more.done === true) {
              return
            }
            yield more.value
          }
        }
      }
    }
  }
}
