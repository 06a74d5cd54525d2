import { isPeerId, serviceCapabilities, TimeoutError } from '@libp2p/interface'
import { ping as libp2pPing } from '@libp2p/ping'
import { endOnRemoteClose } from '../stream/index.js'
import { LIBP2P_PING_MAX_INBOUND_STREAMS, LIBP2P_PING_MAX_OUTBOUND_STREAMS, PING_RESPONDER_TIMEOUT_MS } from './constants.js'
import { roundTrip } from './keep-alive.js'
import type { Connection, DialProtocolOptions, DialTarget, Startable, Stream } from '@libp2p/interface'
import type { Ping, PingComponents, PingInit } from '@libp2p/ping'

/** the protocol's default prefix, @libp2p/ping's: `/ipfs/ping/1.0.0` */
const PING_PROTOCOL_PREFIX = 'ipfs'

/**
 * libp2p's ping service (`components.ping`, which kad-dht's routing table
 * and the node's `services.ping` use) with peergate's own responder.
 *
 * @libp2p/ping 3.1's responder gives every inbound ping stream an
 * `AbortSignal.timeout` whose listener holds the stream, and never removes
 * that listener: Node keeps such a signal alive until its timer fires, so
 * each answered ping keeps its closed stream (its buffers, listeners and
 * logger, about 7 KB) for the full 10 s. The peers' connection monitors ping
 * every connection every 10 s, so a node held about one such stream per
 * session at all times, a quarter of the heap a session cost it
 * (`npm run bench:sessions`, issue 22). This responder answers the same way, with
 * the same deadline, and clears its timer once the stream is done. It also
 * reads through `endOnRemoteClose`, so that a ping whose close-write arrived
 * before the handler began to read ends with the echo rather than at the
 * deadline (libp2p 3.3.11, src/stream/).
 *
 * A ping of a peer this node has a connection to is one round trip on that
 * connection (`roundTrip`: a ping frame of its muxer, no stream), as the
 * keep-alive measures it. kad-dht's routing table pings every peer it is
 * about to add (most of them, peers that just connected) and the oldest
 * contacts of a full bucket; each such ping was a stream negotiated,
 * echoed, closed and merged into the peer store on both sides, about 2 ms
 * of CPU on each, where a muxer frame costs about 0.26 ms. The answer
 * tells the same: the peer is there and answers on that connection. A
 * peer without an open connection, or a ping by address, goes through
 * @libp2p/ping, which dials.
 */
export function pingService (init: PingInit = {}): (components: PingComponents) => Ping {
  return (components) => new PingService(components, init)
}

class PingService implements Ping, Startable {
  readonly [Symbol.toStringTag] = '@libp2p/ping'
  readonly [serviceCapabilities]: string[] = ['@libp2p/ping']

  private readonly components: PingComponents
  private readonly init: PingInit
  private readonly protocol: string
  private readonly timeout: number
  /** @libp2p/ping's service, never started: only its `ping()` is used */
  private readonly outbound: Ping

  constructor (components: PingComponents, init: PingInit) {
    this.components = components
    this.init = init
    this.protocol = `/${init.protocolPrefix ?? PING_PROTOCOL_PREFIX}/ping/1.0.0`
    this.timeout = init.timeout ?? PING_RESPONDER_TIMEOUT_MS
    this.outbound = libp2pPing(init)(components)
    this.handlePing = this.handlePing.bind(this)
  }

  async start (): Promise<void> {
    await this.components.registrar.handle(this.protocol, this.handlePing, {
      maxInboundStreams: this.init.maxInboundStreams ?? LIBP2P_PING_MAX_INBOUND_STREAMS,
      maxOutboundStreams: this.init.maxOutboundStreams ?? LIBP2P_PING_MAX_OUTBOUND_STREAMS,
      runOnLimitedConnection: this.init.runOnLimitedConnection ?? true
    })
  }

  async stop (): Promise<void> {
    await this.components.registrar.unhandle(this.protocol)
  }

  async ping (peer: DialTarget, options: DialProtocolOptions = {}): Promise<number> {
    const connection = isPeerId(peer)
      ? this.components.connectionManager.getConnections(peer).find(c => c.status === 'open')
      : undefined
    if (connection != null) {
      return roundTrip(connection, options)
    }
    return this.outbound.ping(peer, options)
  }

  /** Echoes what the remote sends until it closes its write side, then closes; aborts the stream at the deadline */
  private async handlePing (stream: Stream, connection: Connection): Promise<void> {
    const log = stream.log.newScope('ping')
    log.trace('ping from %p', connection.remotePeer)
    const deadline = new AbortController()
    const timer = setTimeout(() => {
      const err = new TimeoutError('Ping timed out')
      deadline.abort(err)
      stream.abort(err)
    }, this.timeout)
    try {
      for await (const buf of endOnRemoteClose(stream)) {
        if (stream.status !== 'open') {
          log('stream status changed to %s', stream.status)
          break
        }
        if (!stream.send(buf)) {
          await stream.onDrain({ signal: deadline.signal })
        }
      }
      await stream.close({ signal: deadline.signal })
    } finally {
      clearTimeout(timer)
    }
  }
}
