import { InvalidParametersError, UnsupportedOperationError, isPeerId } from '@libp2p/interface'
import { PeerSet } from '@libp2p/peer-collections'
import { peerIdFromString } from '@libp2p/peer-id'
import { withOverrides } from '../proxy/index.js'
import { NoSessionError } from './errors.js'
import type { GatedComponents, Session, SessionCloseDetail, Sessions } from './index.js'
import type { Connection, Logger, NewStreamOptions, PeerId, PeerUpdate, Stream, StreamHandler, StreamHandlerOptions, StreamHandlerRecord, StreamMiddleware, Topology, AbortOptions } from '@libp2p/interface'
import type { ConnectionManager, OpenConnectionOptions, Registrar } from '@libp2p/interface-internal'
import type { Multiaddr } from '@multiformats/multiaddr'

/**
 * `components` as a gated service sees them: the same, but for a registrar,
 * a connection manager and connections that only know session peers (see
 * ServiceGate)
 */
export function gateComponents<C extends GatedComponents> (components: C): C {
  let sessions: Sessions | undefined
  try {
    sessions = components.sessions
  } catch {
    // libp2p's components throw for a service that is not there
  }
  if (sessions == null) {
    throw new InvalidParametersError('a gated service needs peergate\'s session manager among the services, under the name "sessions", ahead of it')
  }
  const gate = new ServiceGate(components)
  return new Proxy(components, {
    get (target, prop, receiver) {
      switch (prop) {
        case 'registrar': return gate.registrar
        case 'connectionManager': return gate.connectionManager
      }
      return Reflect.get(target, prop, receiver)
    }
  })
}

/** A topology the service registered, and the session peers it was told of */
interface TopologyEntry {
  readonly protocol: string
  readonly topology: Topology
  /** peers whose `onConnect` ran and whose `onDisconnect` has not */
  readonly peers: PeerSet
}

type DialTarget = PeerId | Multiaddr | Multiaddr[]

/**
 * What a gated service is given instead of libp2p's own registrar,
 * connection manager and connections: each one answers as libp2p's would,
 * but only ever about session peers.
 *
 * - `handle` registers the handler through the session manager's gate: a
 *   stream from a peer without a session is refused before it runs.
 * - A topology's `onConnect` runs when a session opens with a peer that
 *   supports its protocol (the peer store says so, after identify, or the peer
 *   opened a stream of it), with the session's connection; `onDisconnect` runs
 *   when the session ends. DHT and other auxiliary connections never reach it.
 *   As with libp2p's registrar, a topology hears of sessions that open after
 *   it is registered.
 * - Every connection handed to the service (a handler's, a topology's, the
 *   connection manager's) opens its streams over the peer's session
 *   (`Sessions.openStream`): towards a peer without one they fail with
 *   `NoSessionError`.
 */
export class ServiceGate {
  readonly registrar: Registrar
  readonly connectionManager: ConnectionManager
  private readonly components: GatedComponents
  private readonly log: Logger
  private readonly entries = new Map<string, TopologyEntry>()
  private readonly views = new WeakMap<Connection, Connection>()
  private listening = false
  private nextId = 0

  constructor (components: GatedComponents) {
    this.components = components
    this.log = components.logger.forComponent('peergate:session:gated')
    this.onSessionOpen = this.onSessionOpen.bind(this)
    this.onSessionClose = this.onSessionClose.bind(this)
    this.onPeerUpdate = this.onPeerUpdate.bind(this)
    this.registrar = this.makeRegistrar()
    this.connectionManager = this.makeConnectionManager()
  }

  private get sessions (): Sessions {
    return this.components.sessions
  }

  /** `connection` as the service sees it: its streams go over the peer's session */
  connection (connection: Connection): Connection {
    let view = this.views.get(connection)
    if (view == null) {
      const newStream = async (protocols: string | string[], options?: NewStreamOptions): Promise<Stream> =>
        this.sessions.openStream(connection.remotePeer, protocols, options)
      view = withOverrides(connection, { newStream })
      this.views.set(connection, view)
    }
    return view
  }

  private makeRegistrar (): Registrar {
    const registrar = this.components.registrar
    return {
      getProtocols: (): string[] => registrar.getProtocols(),
      getHandler: (protocol: string): StreamHandlerRecord => registrar.getHandler(protocol),
      handle: async (protocol: string, handler: StreamHandler, options?: StreamHandlerOptions): Promise<void> => {
        await this.sessions.handle(protocol, async (stream, connection, session) => {
          // the peer speaks the protocol: its topologies hear of it now if they had not
          this.offer(session, entry => entry.protocol === protocol)
          await handler(stream, this.connection(connection))
        }, options)
      },
      unhandle: async (protocol: string, options?: AbortOptions): Promise<void> => {
        await this.sessions.unhandle(protocol, options)
      },
      use: (): void => {
        // middleware runs before the handler, so before the gate
        throw new UnsupportedOperationError('a gated service cannot add stream middleware: it would run before the session gate')
      },
      unuse: (protocol: string): void => { registrar.unuse(protocol) },
      getMiddleware: (protocol: string): StreamMiddleware[] => registrar.getMiddleware(protocol),
      register: async (protocol: string, topology: Topology): Promise<string> => {
        const id = `gated-${this.nextId++}`
        this.entries.set(id, { protocol, topology, peers: new PeerSet() })
        this.listen(true)
        return id
      },
      unregister: (id: string): void => {
        this.entries.delete(id)
        this.listen(this.entries.size > 0)
      },
      // a service that calls its own topologies (gossipsub does, for the
      // peers it dials itself) reaches them through the gate too
      getTopologies: (protocol: string): Topology[] => [...this.entries.values()]
        .filter(entry => entry.protocol === protocol)
        .map(entry => ({
          filter: entry.topology.filter,
          notifyOnLimitedConnection: entry.topology.notifyOnLimitedConnection,
          onConnect: (peer: PeerId) => {
            const session = this.sessions.get(peer)
            if (session != null) {
              this.notify(entry, session)
            }
          },
          onDisconnect: (peer: PeerId) => {
            this.forget(entry, peer)
          }
        }))
    }
  }

  private makeConnectionManager (): ConnectionManager {
    const manager = this.components.connectionManager
    const openConnection = async (target: DialTarget, options?: OpenConnectionOptions): Promise<Connection> =>
      this.connection(await manager.openConnection(target, options))
    const openStream = async (target: DialTarget, protocols: string | string[], options?: OpenConnectionOptions & NewStreamOptions): Promise<Stream> => {
      const peer = targetPeer(target)
      if (peer == null) {
        throw new NoSessionError(`no session with ${target.toString()}: the address names no peer`)
      }
      return this.sessions.openStream(peer, protocols, options)
    }
    const getConnections = (peer?: PeerId): Connection[] => manager.getConnections(peer).map(connection => this.connection(connection))
    return withOverrides(manager, { openConnection, openStream, getConnections })
  }

  private listen (on: boolean): void {
    if (on === this.listening) {
      return
    }
    this.listening = on
    const method = on ? 'addEventListener' : 'removeEventListener'
    this.sessions[method]('session:open', this.onSessionOpen)
    this.sessions[method]('session:close', this.onSessionClose)
    this.components.events[method]('peer:update', this.onPeerUpdate)
  }

  private onSessionOpen (evt: CustomEvent<Session>): void {
    const session = evt.detail
    // the protocols identify learnt, if it has run already; else peer:update brings them
    this.components.peerStore.get(session.peerId)
      .then(peer => {
        this.offer(session, entry => peer.protocols.includes(entry.protocol))
      })
      .catch(err => {
        if (err.name !== 'NotFoundError') {
          this.log.error('could not read the protocols of %p - %e', session.peerId, err)
        }
      })
  }

  private onSessionClose (evt: CustomEvent<SessionCloseDetail>): void {
    const peer = evt.detail.session.peerId
    for (const entry of this.entries.values()) {
      this.forget(entry, peer)
    }
  }

  private onPeerUpdate (evt: CustomEvent<PeerUpdate>): void {
    const { peer, previous } = evt.detail
    const session = this.sessions.get(peer.id)
    if (session == null) {
      return
    }
    this.offer(session, entry => peer.protocols.includes(entry.protocol))
    // a peer that stops supporting a protocol leaves its topologies, as libp2p's registrar has it
    const removed = (previous?.protocols ?? []).filter(protocol => !peer.protocols.includes(protocol))
    for (const entry of this.entries.values()) {
      if (removed.includes(entry.protocol)) {
        this.forget(entry, peer.id)
      }
    }
  }

  /** Tells the topologies `wanted` picks of `session`, those not told already */
  private offer (session: Session, wanted: (entry: TopologyEntry) => boolean): void {
    for (const entry of this.entries.values()) {
      if (wanted(entry)) {
        this.notify(entry, session)
      }
    }
  }

  private notify (entry: TopologyEntry, session: Session): void {
    const peer = session.peerId
    const { topology } = entry
    if (this.sessions.get(peer) !== session || entry.peers.has(peer) || topology.filter?.has(peer) === true) {
      return
    }
    entry.peers.add(peer)
    topology.filter?.add(peer)
    this.log.trace('session peer %p joins the %s topology', peer, entry.protocol)
    this.run(() => topology.onConnect?.(peer, this.connection(session.connection)), `${entry.protocol} topology failed on connect of %p - %e`, peer)
  }

  private forget (entry: TopologyEntry, peer: PeerId): void {
    if (!entry.peers.has(peer)) {
      return
    }
    entry.peers.delete(peer)
    entry.topology.filter?.remove(peer)
    this.log.trace('peer %p leaves the %s topology', peer, entry.protocol)
    this.run(() => entry.topology.onDisconnect?.(peer), `${entry.protocol} topology failed on disconnect of %p - %e`, peer)
  }

  /** Runs a topology callback now; its failure, thrown or rejected, is logged */
  private run (callback: () => void | Promise<void>, failure: string, peer: PeerId): void {
    try {
      Promise.resolve(callback()).catch(err => { this.log.error(failure, peer, err) })
    } catch (err) {
      this.log.error(failure, peer, err)
    }
  }
}

/** The peer a dial target names, if it names one */
function targetPeer (target: DialTarget): PeerId | undefined {
  if (isPeerId(target)) {
    return target
  }
  for (const addr of Array.isArray(target) ? target : [target]) {
    const id = addr.getComponents().filter(component => component.name === 'p2p').pop()?.value
    if (id != null) {
      return peerIdFromString(id)
    }
  }
  return undefined
}
