import { InvalidMessageError } from '@libp2p/interface'
import * as lp from 'it-length-prefixed'
import { raceSignal } from 'race-signal'
import { encodingLength } from 'uint8-varint'
import { Uint8ArrayList } from 'uint8arraylist'
import { InvalidLengthPrefixError, decodeLengthPrefix } from '../wire/index.js'
import { MessageTooLargeError, StreamEndedError } from './errors.js'
import type { AbortOptions, Stream } from '@libp2p/interface'
import type { LengthDecoderFunction } from 'it-length-prefixed'

/** What a stream (or any byte source) yields */
export type ByteSource = AsyncIterable<Uint8Array | Uint8ArrayList>

export interface MessageOptions extends AbortOptions {
  /** largest message body in bytes; a read is refused on the length prefix, a write before sending */
  maxMessageBytes: number
}

/**
 * A length-prefix decoder for it-length-prefixed that checks the limit on
 * the prefix itself. The prefix must be a minimal unsigned varint (wire's
 * decodeLengthPrefix, the rule the handshake follows too) and a prefix that
 * already runs longer than the limit's own encoding is over the limit
 * whatever follows.
 */
function limitedLengthDecoder (maxMessageBytes: number): LengthDecoderFunction {
  const maxPrefixBytes = encodingLength(maxMessageBytes)
  const decoder = Object.assign((data: Uint8ArrayList): number => {
    let length: number
    try {
      length = decodeLengthPrefix(data)
    } catch (err: any) {
      if (err?.name === InvalidLengthPrefixError.name) {
        throw new InvalidMessageError(err.message)
      }
      if (data.byteLength >= maxPrefixBytes) {
        throw new MessageTooLargeError(2 ** (7 * maxPrefixBytes), maxMessageBytes, `length prefix of ${data.byteLength}+ bytes is over the limit of ${maxMessageBytes} bytes`)
      }
      // a RangeError: the prefix continues in bytes not received yet
      throw err
    }
    if (length > maxMessageBytes) {
      throw new MessageTooLargeError(length, maxMessageBytes)
    }
    decoder.bytes = decodeLengthPrefix.bytes
    return length
  }, { bytes: 0 })
  return decoder
}

/**
 * The length-prefixed messages of `source`, each checked against
 * `maxMessageBytes` on its prefix before its body is buffered.
 *
 * @throws {MessageTooLargeError} a prefix over the limit
 * @throws {InvalidMessageError} a prefix that is not minimally encoded
 * @throws {StreamEndedError} the source ended inside a message
 */
export async function * readMessages (source: ByteSource, maxMessageBytes: number): AsyncGenerator<Uint8Array, void, undefined> {
  try {
    // maxDataLength: it-length-prefixed's own default (4 MiB) would otherwise
    // apply on top of ours, refusing messages the caller allowed
    for await (const message of lp.decode(source, { lengthDecoder: limitedLengthDecoder(maxMessageBytes), maxDataLength: maxMessageBytes })) {
      yield message.subarray()
    }
  } catch (err: any) {
    if (err?.name === 'UnexpectedEOFError') {
      throw new StreamEndedError('the stream ended inside a message')
    }
    throw err
  }
}

/**
 * Reads one length-prefixed message from `source` (a stream that carries
 * one message this way; anything after it is not read).
 *
 * @throws {StreamEndedError} the source ended before a whole message
 * @throws {MessageTooLargeError} its prefix is over `maxMessageBytes`
 * @throws the signal's reason when it aborts first
 */
export async function readMessage (source: ByteSource, options: MessageOptions): Promise<Uint8Array> {
  const messages = readMessages(source, options.maxMessageBytes)
  try {
    const next = await raceSignal(messages.next(), options.signal)
    if (next.done === true) {
      throw new StreamEndedError()
    }
    return next.value
  } finally {
    messages.return(undefined).catch(() => {})
  }
}

/**
 * Frames `message` (unsigned varint length, then the bytes) and sends it,
 * waiting while the stream asks to drain.
 *
 * @throws {MessageTooLargeError} before sending anything, when the message is over `maxMessageBytes`
 */
export async function writeMessage (stream: Stream, message: Uint8Array | Uint8ArrayList, options: MessageOptions): Promise<void> {
  if (message.byteLength > options.maxMessageBytes) {
    throw new MessageTooLargeError(message.byteLength, options.maxMessageBytes)
  }
  if (!stream.send(lp.encode.single(message, { maxDataLength: options.maxMessageBytes }))) {
    await stream.onDrain(options)
  }
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
