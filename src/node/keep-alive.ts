import { randomBytes } from '@libp2p/crypto'
import { ProtocolError, serviceCapabilities } from '@libp2p/interface'
import { PING_PROTOCOL } from '@libp2p/ping'
import { AdaptiveTimeout } from '@libp2p/utils'
import { setMaxListeners } from 'main-event'
import { raceSignal } from 'race-signal'
import { equals as uint8ArrayEquals } from 'uint8arrays/equals'
import { Uint8ArrayList } from 'uint8arraylist'
import type { AdaptiveTimeoutInit } from '@libp2p/utils'
import type { AbortOptions, ComponentLogger, Connection, Logger, Metrics, Startable } from '@libp2p/interface'
import type { ConnectionManager } from '@libp2p/interface-internal'

/** libp2p's ping: the responder echoes these many bytes */
const PING_LENGTH = 32

/** A round trip measured by a connection's stream muxer (yamux's ping frame) */
type MuxerPing = (options: AbortOptions) => Promise<number>

/**
 * The ping of a connection's stream muxer, where it has one: yamux's ping
 * frame, which every yamux implementation answers at once. libp2p 3.3.11
 * keeps the muxer in the connection's `muxer` field, outside its interface;
 * where that changes, there is none and `roundTrip` uses the ping protocol.
 *
 * Only the wait is given up on `options.signal`, never the ping itself:
 * yamux forgets a ping whose signal aborted, and then takes its answer, if
 * it comes after all, for an unrequested one and aborts the connection. So
 * a late answer would have cost the connection wherever a caller had given
 * up waiting (a session that ended while its first ping was out).
 */
function muxerPing (connection: Connection): MuxerPing | undefined {
  const muxer = (connection as unknown as { muxer?: { ping?: unknown } }).muxer
  const ping = muxer?.ping
  if (typeof ping !== 'function') {
    return undefined
  }
  return async (options) => raceSignal(ping.call(muxer) as Promise<number>, options.signal)
}

/**
 * One round trip to the connection's peer, in ms: a ping frame of the
 * connection's muxer (yamux), else a stream of libp2p's ping protocol. At
 * 1,000 sessions a keep-alive round cost the node about 0.26 ms of CPU per
 * connection by frame, socket write and Noise included (`bench:sessions
 * --profile`); a ping stream (a new stream, its protocol negotiated, the
 * peer store's merge of that protocol on both sides, the echo, two closes)
 * about 2 ms.
 */
export async function roundTrip (connection: Connection, options: AbortOptions): Promise<number> {
  const ping = muxerPing(connection)
  return ping != null ? ping(options) : streamRoundTrip(connection, options)
}

/** One round trip over a stream of libp2p's ping protocol, in ms */
async function streamRoundTrip (connection: Connection, options: AbortOptions): Promise<number> {
  const stream = await connection.newStream(PING_PROTOCOL, { ...options, runOnLimitedConnection: true })
  try {
    const data = randomBytes(PING_LENGTH)
    const received = new Uint8ArrayList()
    const start = Date.now()
    const echoed = new Promise<void>((resolve, reject) => {
      const onData = (evt: { data: Uint8Array | Uint8ArrayList }): void => {
        received.append(evt.data)
        if (received.byteLength >= PING_LENGTH) {
          stream.removeEventListener('message', onData)
          resolve()
        }
      }
      stream.addEventListener('message', onData)
      stream.addEventListener('close', () => { reject(new ProtocolError('the ping stream closed before the echo')) }, { once: true })
    })
    stream.send(data)
    await raceSignal(echoed, options.signal)
    const rtt = Date.now() - start
    if (!uint8ArrayEquals(received.subarray(0, PING_LENGTH), data)) {
      throw new ProtocolError('the ping echo does not match')
    }
    await stream.close(options)
    return rtt
  } catch (err: any) {
    stream.abort(err)
    throw err
  }
}

export interface KeepAliveInit {
  /** ms between two rounds over every connection */
  interval: number
  /** a round trip's deadline, adapting to the recent ones (libp2p's AdaptiveTimeout) */
  timeout: AdaptiveTimeoutInit
}

export interface KeepAliveComponents {
  connectionManager: ConnectionManager
  logger: ComponentLogger
  metrics?: Metrics
}

/**
 * peergate's connection monitor, in place of libp2p's: every `interval` it
 * measures one round trip on every open connection, records it as the
 * connection's `rtt`, and aborts a connection whose round trip has not come
 * back within the adaptive deadline, so that a peer gone without a word (its
 * host off the network, its process frozen) is found within the interval
 * plus the deadline (PEER_LOSS_BOUND_MS), as libp2p's monitor finds it.
 *
 * libp2p's monitor opens a ping stream for each round trip; at 1,000
 * sessions both ends' monitors made 200 such streams a second on a node,
 * about a third of a core at idle (`npm run bench:sessions`, issue 22).
 * This one sends yamux's ping frame instead (`roundTrip`), which plain
 * libp2p peers answer too.
 */
export function keepAlive (init: KeepAliveInit): (components: KeepAliveComponents) => KeepAlive {
  return (components) => new KeepAlive(components, init)
}

export class KeepAlive implements Startable {
  readonly [Symbol.toStringTag] = '@peergate/keep-alive'
  readonly [serviceCapabilities]: string[] = ['@libp2p/connection-monitor']

  private readonly components: KeepAliveComponents
  private readonly interval: number
  private readonly timeout: AdaptiveTimeout
  private readonly log: Logger
  private timer?: ReturnType<typeof setInterval>
  private controller?: AbortController

  constructor (components: KeepAliveComponents, init: KeepAliveInit) {
    this.components = components
    this.interval = init.interval
    this.log = components.logger.forComponent('peergate:keep-alive')
    this.timeout = new AdaptiveTimeout({
      ...init.timeout,
      // the series libp2p's connection monitor kept: dashboards built on it read on
      metrics: components.metrics,
      metricName: 'libp2p_connection_monitor_ping_time_milliseconds'
    })
  }

  start (): void {
    this.controller = new AbortController()
    setMaxListeners(Infinity, this.controller.signal)
    this.timer = setInterval(() => { this.round() }, this.interval)
  }

  stop (): void {
    this.controller?.abort()
    clearInterval(this.timer)
  }

  private round (): void {
    for (const connection of this.components.connectionManager.getConnections()) {
      void this.check(connection)
    }
  }

  private async check (connection: Connection): Promise<void> {
    const stopped = this.controller?.signal
    if (stopped == null || stopped.aborted || connection.status !== 'open') {
      return
    }
    const signal = this.timeout.getTimeoutSignal({ signal: stopped })
    try {
      connection.rtt = await roundTrip(connection, { signal })
    } catch (err: any) {
      if (stopped.aborted || connection.status !== 'open' || err?.name === 'MuxerClosedError') {
        // the node stops, or the connection is closing anyway
        return
      }
      if (err?.name === 'UnsupportedProtocolError') {
        // (the ping protocol's fallback) the peer answered the negotiation: it is there
        return
      }
      this.log('no round trip from %p in time, aborting the connection - %e', connection.remotePeer, err)
      connection.abort(err)
    } finally {
      this.timeout.cleanUp(signal)
    }
  }
}
