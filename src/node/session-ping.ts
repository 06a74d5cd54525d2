import { randomBytes } from '@libp2p/crypto'
import { ProtocolError } from '@libp2p/interface'
import { PING_PROTOCOL } from '@libp2p/ping'
import { raceSignal } from 'race-signal'
import { equals as uint8ArrayEquals } from 'uint8arrays/equals'
import { Uint8ArrayList } from 'uint8arraylist'
import { SESSION_PING_RESPONDER_DELAY_MS, SESSION_PING_TIMEOUT_MS } from './constants.js'
import type { Session } from '../session/index.js'
import type { Logger } from '@libp2p/interface'

/** libp2p's ping: the responder echoes these many bytes */
const PING_LENGTH = 32

/**
 * Pings a new session's peer once, on the session's own connection, and
 * records the round trip as that connection's `rtt`, where `GET /peers`
 * reads it, unless libp2p's connection monitor measured it first.
 *
 * On the session's connection, not by peer id: libp2p's `ping(peer)` dials
 * when it finds no open connection, so a session that ends at once (a
 * disconnect right after the connect) would get a fresh connection it never
 * asked for. Never on the handshake's path: the initiator (an outbound
 * session) pings on the next macrotask, after its session opened; the
 * responder, whose session opens before the handshake's last message reaches
 * the initiator, waits SESSION_PING_RESPONDER_DELAY_MS. A failure is only
 * logged: the connection monitor decides about dead connections.
 */
export function pingOnOpen (session: Session, log: Logger): void {
  const timer = setTimeout(() => {
    session.signal.removeEventListener('abort', cancel)
    if (session.signal.aborted || session.connection.status !== 'open') {
      return
    }
    const signal = AbortSignal.any([session.signal, AbortSignal.timeout(SESSION_PING_TIMEOUT_MS)])
    pingOnce(session, signal).then(rtt => {
      session.connection.rtt ??= rtt
    }, (err: any) => {
      log.trace('could not ping %p at session open - %s', session.peerId, err?.message)
    })
  }, session.direction === 'outbound' ? 0 : SESSION_PING_RESPONDER_DELAY_MS)
  // a session that ends before leaves no timer behind
  const cancel = (): void => { clearTimeout(timer) }
  session.signal.addEventListener('abort', cancel, { once: true })
}

/** One ping round trip on the session's connection, in ms */
async function pingOnce (session: Session, signal: AbortSignal): Promise<number> {
  const stream = await session.connection.newStream(PING_PROTOCOL, { signal })
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
    await raceSignal(echoed, signal)
    const rtt = Date.now() - start
    if (!uint8ArrayEquals(received.subarray(0, PING_LENGTH), data)) {
      throw new ProtocolError('the ping echo does not match')
    }
    await stream.close({ signal })
    return rtt
  } catch (err: any) {
    stream.abort(err)
    throw err
  }
}
