import { pushable } from 'it-pushable'
import type { Stream, StreamCloseEvent, StreamMessageEvent } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'

/** Marks a stream whose iterator has been corrected, so correcting twice is a no-op */
const CORRECTED = Symbol.for('@peergate/stream/remote-end')

type Chunk = Uint8Array | Uint8ArrayList

/**
 * Makes iterating `stream` end once the remote has closed its write side and
 * every byte it sent has been delivered, however early that close arrived.
 *
 * libp2p 3.3.11's stream iterator ends on the `remoteCloseWrite` event only,
 * and only listens for it from the moment iteration starts: a request that was
 * sent and closed before the handler began to iterate (the handler awaited a
 * database read, or the stream reached it late) is delivered, but the loop
 * never ends. This iterator ends on what the stream's state says instead:
 * remote write closed and nothing left to read. Everything else (messages,
 * errors, a local close or abort, pause/resume) behaves as upstream.
 *
 * Returns the same stream object; calling it again is a no-op.
 */
export function endOnRemoteClose<S extends Stream> (stream: S): S {
  const target = stream as S & { [CORRECTED]?: true }
  if (target[CORRECTED] === true) {
    return stream
  }
  target[CORRECTED] = true
  Object.defineProperty(stream, Symbol.asyncIterator, {
    configurable: true,
    writable: true,
    value: () => iterate(stream)
  })
  return stream
}

async function * iterate (stream: Stream): AsyncGenerator<Chunk, void, undefined> {
  if (stream.readStatus !== 'readable' && stream.readStatus !== 'paused') {
    return
  }
  const output = pushable<Chunk>({ objectMode: true })
  // the remote sends nothing more and every byte it sent was handed out
  const endIfDrained = (): void => {
    if (stream.remoteWriteStatus === 'closed' && stream.readBufferLength === 0) {
      output.end()
    }
  }
  const onMessage = (evt: StreamMessageEvent): void => {
    output.push(evt.data)
    endIfDrained()
  }
  const onClose = (evt: StreamCloseEvent): void => {
    output.end(evt.error)
  }
  const onEnd = (): void => {
    output.end()
  }
  // adding a 'message' listener makes the stream hand out what it buffered
  // before iteration began (in a microtask), so that data comes first
  stream.addEventListener('message', onMessage)
  stream.addEventListener('close', onClose)
  stream.addEventListener('remoteCloseWrite', endIfDrained)
  stream.addEventListener('end', onEnd)
  endIfDrained()
  try {
    yield * output
  } finally {
    stream.removeEventListener('message', onMessage)
    stream.removeEventListener('close', onClose)
    stream.removeEventListener('remoteCloseWrite', endIfDrained)
    stream.removeEventListener('end', onEnd)
  }
}
