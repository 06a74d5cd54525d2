import { SESSION_PING_RESPONDER_DELAY_MS, SESSION_PING_TIMEOUT_MS } from './constants.js'
import { roundTrip } from './keep-alive.js'
import type { Session } from '../session/index.js'
import type { Logger } from '@libp2p/interface'

/**
 * Pings a new session's peer once, on the session's own connection, and
 * records the round trip as that connection's `rtt`, where `GET /peers`
 * reads it, unless the keep-alive measured it first (a ping frame of the
 * connection's muxer: keep-alive.ts).
 *
 * On the session's connection, not by peer id: libp2p's `ping(peer)` dials
 * when it finds no open connection, so a session that ends at once (a
 * disconnect right after the connect) would get a fresh connection it never
 * asked for. Never on the handshake's path: the initiator (an outbound
 * session) pings on the next macrotask, after its session opened; the
 * responder, whose session opens before the handshake's last message reaches
 * the initiator, waits SESSION_PING_RESPONDER_DELAY_MS. A failure is only
 * logged: the keep-alive decides about dead connections.
 */
export function pingOnOpen (session: Session, log: Logger): void {
  const timer = setTimeout(() => {
    session.signal.removeEventListener('abort', cancel)
    if (session.signal.aborted || session.connection.status !== 'open') {
      return
    }
    const signal = AbortSignal.any([session.signal, AbortSignal.timeout(SESSION_PING_TIMEOUT_MS)])
    roundTrip(session.connection, { signal }).then(rtt => {
      session.connection.rtt ??= rtt
    }, (err: any) => {
      log.trace('could not ping %p at session open - %s', session.peerId, err?.message)
    })
  }, session.direction === 'outbound' ? 0 : SESSION_PING_RESPONDER_DELAY_MS)
  // a session that ends before leaves no timer behind
  const cancel = (): void => { clearTimeout(timer) }
  session.signal.addEventListener('abort', cancel, { once: true })
}
