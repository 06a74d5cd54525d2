import { identify, type Identify, type IdentifyComponents, type IdentifyInit } from '@libp2p/identify'
import type { Sessions, SessionRejectDetail, Session } from '../session/index.js'
import type { Connection } from '@libp2p/interface'

/**
 * libp2p's identify, run on every new connection as its own
 * `runOnConnectionOpen` would, except on a connection this node opened to
 * handshake on: there it runs once the handshake is over (a session, a
 * reject, or the connection closed), so that its round trip, its signed peer
 * record's signature and its peer store writes do not compete with the
 * handshake's messages on the dialer's path to its session (issue 22 item
 * 4: dialer's time to session 1.21× a bare dial's identify with identify at
 * once, 1.04× with it after the handshake, in `bench:session`).
 *
 * The remote's identify of this node is answered as ever: only this node's
 * own request waits. A handshake begun once the dial returned (a peer dialed
 * by address alone) is not known at `connection:open`, so identify runs at
 * once there, as before.
 *
 * Made after the session manager and the handshake (whose `connection:open`
 * listener, registered first, begins the handshake's attempt before this
 * one looks for it).
 */
export function identifyAfterHandshake (init: IdentifyInit = {}): (components: IdentifyComponents & { sessions: Sessions }) => Identify {
  const factory = identify({ ...init, runOnConnectionOpen: false })
  return (components) => {
    const service = factory(components)
    const log = components.logger.forComponent('peergate:node:identify')
    const run = (connection: Connection): void => {
      if (connection.status !== 'open') {
        return
      }
      service.identify(connection).catch((err: any) => {
        log.trace('identify of %p failed - %s', connection.remotePeer, err?.message)
      })
    }
    components.events.addEventListener('connection:open', (evt) => {
      const connection = evt.detail
      const handshaking = components.sessions.handshakes().some(h => h.connectionId === connection.id && h.direction === 'outbound')
      if (handshaking) {
        afterHandshake(components, connection, () => { run(connection) })
      } else {
        run(connection)
      }
    })
    return service
  }
}

/** Calls `then` once the handshake on `connection` has ended: its session opened, it was rejected, or the connection closed */
function afterHandshake (components: IdentifyComponents & { sessions: Sessions }, connection: Connection, then: () => void): void {
  const { sessions, events } = components
  const done = (): void => {
    sessions.removeEventListener('session:open', onSession)
    sessions.removeEventListener('session:reject', onReject)
    events.removeEventListener('connection:close', onClose)
    then()
  }
  const onSession = (evt: CustomEvent<Session>): void => {
    if (evt.detail.connection.id === connection.id) {
      done()
    }
  }
  const onReject = (evt: CustomEvent<SessionRejectDetail>): void => {
    if (evt.detail.connectionId === connection.id) {
      done()
    }
  }
  const onClose = (evt: CustomEvent<Connection>): void => {
    if (evt.detail.id === connection.id) {
      done()
    }
  }
  sessions.addEventListener('session:open', onSession)
  sessions.addEventListener('session:reject', onReject)
  events.addEventListener('connection:close', onClose)
}
