import { anySignal } from 'any-signal'
import type { AbortOptions, Connection, Logger, Stream } from '@libp2p/interface'

/** What this node told the remote before hanging up, on which stream */
export interface Farewell {
  stream: Stream
  /** a message saying why was written to `stream` (a handshake Reject, a Goodbye) */
  said: boolean
  /** how long the remote gets to read it and hang up itself; the close goes on after it */
  signal?: AbortSignal
}

/**
 * The one way peergate hangs up on a peer: end the stream that said why, give
 * the remote a moment to read it and hang up itself (closing at once could
 * reset the stream before the remote has read the reason), then close the
 * connection. Whatever is not done when `options.signal` aborts is aborted
 * instead; without a signal the close takes as long as the connection needs
 * to flush. Without a connection only the stream ends (a duplicate handshake
 * on a connection that carries the winner).
 */
export async function hangUp (connection: Connection | undefined, farewell: Farewell | undefined, log: Logger, options: AbortOptions = {}): Promise<void> {
  const { signal } = options
  const stream = farewell?.stream
  const farewellSignal = anySignal([signal, farewell?.signal])
  try {
    await stream?.close({ signal: farewellSignal })
    if (connection == null) {
      return
    }
    if (farewell?.said === true && stream != null) {
      await remoteHungUp(connection, stream, farewellSignal)
    }
    await connection.close({ signal })
  } catch (err) {
    log('hang-up was not graceful - %e', err)
    stream?.abort(err as Error)
    connection?.abort(err as Error)
  } finally {
    farewellSignal.clear()
  }
}

/** Resolves when the remote ended the stream or the connection, or when `signal` aborts */
async function remoteHungUp (connection: Connection, stream: Stream, signal?: AbortSignal): Promise<void> {
  if (stream.status !== 'open' || connection.status !== 'open' || signal?.aborted === true) {
    return
  }
  await new Promise<void>(resolve => {
    const done = (): void => {
      stream.removeEventListener('close', done)
      stream.removeEventListener('remoteCloseWrite', done)
      connection.removeEventListener('close', done)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    stream.addEventListener('close', done)
    stream.addEventListener('remoteCloseWrite', done)
    connection.addEventListener('close', done)
    signal?.addEventListener('abort', done)
  })
}
