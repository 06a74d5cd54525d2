import { join } from 'node:path'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { loadOrCreateSelfKey } from '@libp2p/config'
import { defaultLogger } from '@libp2p/logger'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { InvalidParametersError } from '@libp2p/interface'
import { kadDHT, passthroughMapper, removePrivateAddressesMapper } from '@libp2p/kad-dht'
import { prometheusMetrics } from '@libp2p/prometheus-metrics'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { Registry } from 'prom-client'
import { loadOrCreateDidSigner } from '../did/identity.js'
import { addressBook } from '../addressbook/index.js'
import { handshake, MAX_INBOUND_HANDSHAKES } from '../handshake/index.js'
import { dialManager, OUTBOUND_FRACTION } from '../dial/index.js'
import { DEFAULT_MAX_INBOUND_SESSIONS_PER_IP, IpRanges, defaultInboundBurst, sessions, type SessionManagerInit } from '../session/index.js'
import { gossip } from '../gossip/index.js'
import { peerScore } from '../score/index.js'
import { checkChainRecord, checkSameChain, dhtProtocol, resolveChain } from './chain.js'
import { damagedDatastore, isCorruption, makeDataDir, openLevelDatastore } from './data-dir.js'
import { coalesceWrites } from './coalesce-writes.js'
import { withoutKeepAlive } from './dht-keep-alive.js'
import { loadDataDirIdentity } from './identity-files.js'
import { identifyAfterHandshake } from './identify-after-handshake.js'
import { cachePeerStore, monitorDatastore, resealLevel, type MonitoredDatastore } from '../storage/index.js'
import { AddressInUseError } from './errors.js'
import { CONNECTION_PING_INTERVAL_MS, CONNECTION_PING_MAX_TIMEOUT_MS, CONNECTION_PING_MIN_TIMEOUT_MS, DATASTORE_DIR, DEFAULT_DATA_DIR, DEFAULT_LISTEN, DEFAULT_MAX_PEERS, MAX_SESSIONS_LIMIT, PING_MAX_INBOUND_STREAMS, PING_MAX_OUTBOUND_STREAMS } from './constants.js'
import { PeerNode } from './peer-node.js'
import { keepAlive } from './keep-alive.js'
import { pingService } from './ping-service.js'
import { isSelfAddress, parseAddrs, parsePeerAddrs } from './peers.js'
import { PEERGATE_SERVICE_NAMES, type PeerNodeLimits, type PeerNodeOptions, type PeerNodeServiceFactories, type PeerNodeServices } from './index.js'
import type { DidSigner } from '../did/index.js'
import type { Libp2p, Logger, PeerId, PrivateKey, ServiceMap } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { LevelDatastore } from 'datastore-level'
import type { Datastore } from 'interface-datastore'
import type { ServiceFactoryMap } from 'libp2p'

/**
 * Builds and starts a peergate node: libp2p with TCP, Noise, Yamux, identify,
 * ping and a chain-scoped Kad-DHT, plus the session manager, handshake,
 * address book and dial manager services, persisted in a LevelDB datastore in
 * `dataDir`. Your own services (`options.services`) come after peergate's.
 */
export async function createPeerNode<S extends ServiceMap = Record<never, never>> (options: PeerNodeOptions<S> = {}): Promise<PeerNode<S>> {
  const userServices = checkServiceNames(options.services)
  const chain = await resolveChain(options.chain)
  const listen = parseAddrs(options.listen ?? DEFAULT_LISTEN, 'listen address')
  // a node of your own transports (a lab, a simulation) listens where they can
  for (const addr of options.transports == null ? listen : []) {
    if (addr.getComponents().find(c => c.name === 'tcp') == null) {
      throw new InvalidParametersError(`listen address ${addr.toString()} is not a TCP address (peergate listens on TCP only)`)
    }
  }
  const bootstrapAddrs = parsePeerAddrs(options.bootstrap, 'bootstrap address')
  const reservedAddrs = parsePeerAddrs(options.reserved, 'reserved peer address')
  const limits = resolveLimits(options.limits)
  if (limits.maxInboundSessions + limits.maxOutboundSessions === 0 && reservedAddrs.length > 0) {
    throw new InvalidParametersError('reserved peers need sessions: a DHT-only node (session limits 0) holds none, reserved peers included')
  }

  const dataDir = options.dataDir ?? DEFAULT_DATA_DIR
  let ownDatastore: LevelDatastore | undefined
  let storage: MonitoredDatastore | undefined
  try {
    let datastore: Datastore
    let privateKey: PrivateKey
    let signer: DidSigner
    if (options.datastore != null) {
      // the caller's datastore keeps everything, keys included
      datastore = options.datastore
      await checkChainRecord(datastore, chain, 'the datastore')
      privateKey = options.privateKey ?? await loadOrCreateSelfKey(datastore)
      signer = options.did?.signer ?? await loadOrCreateDidSigner(datastore)
    } else {
      // the keys and the chain record in files of their own, the rest in LevelDB
      await makeDataDir(dataDir)
      const files = await loadDataDirIdentity(dataDir, {
        chain,
        privateKey: options.privateKey,
        ownSigner: options.did?.signer != null,
        openDatastore: async () => {
          ownDatastore = await openLevelDatastore(join(dataDir, DATASTORE_DIR), dataDir)
          return ownDatastore
        }
      })
      checkSameChain(files.chain, chain, `data dir ${dataDir}`)
      datastore = files.datastore
      privateKey = options.privateKey ?? files.privateKey as PrivateKey
      signer = options.did?.signer ?? files.signer as DidSigner
    }
    const logger = options.logger ?? defaultLogger()
    // every write from here on is watched: a full disk is logged once, shown
    // in the status, and does not stop the node (src/storage/)
    const level = ownDatastore
    storage = monitorDatastore(datastore, { logger, reseal: level == null ? undefined : async () => { await resealLevel(level) } })
    // libp2p's peer store rewrites a peer's record on every stream: in
    // memory, written behind (at most a second of it is lost to a crash, and
    // what peers said comes back when they reconnect)
    const cached = cachePeerStore(storage, { logger })
    const self = peerIdFromPrivateKey(privateKey)
    const log = logger.forComponent('peergate:node')
    const bootstrap = parsePeerAddrs(withoutSelf(options.bootstrap, self, 'bootstrap', log), 'bootstrap address')
    const reserved = parsePeerAddrs(withoutSelf(options.reserved, self, 'reserved', log), 'reserved peer address')
    const dht = options.dht ?? {}
    const metrics = options.metrics === true ? {} : options.metrics === false ? undefined : options.metrics
    const metricsRegistry = metrics == null ? undefined : metrics.registry ?? new Registry()

    let libp2pRef: Libp2p<PeerNodeServices & S> | undefined
    const services: ServiceFactoryMap<PeerNodeServices> = {
      // peergate's services first: the handshake's connection:open listener
      // then runs before identify's, which finds the handshake begun (see
      // Handshake's constructor and identify-after-handshake.ts)
      sessions: sessions(limits),
      handshake: handshake({
        ...options.handshake,
        chain,
        signer,
        resolver: options.did?.resolver,
        head: options.head
      }),
      // on a connection this node dialed to handshake on, once the handshake is over
      identify: identifyAfterHandshake(),
      // libp2p's ping, with a responder that lets go of each stream it
      // answered (ping-service.ts); plain libp2p peers' connection monitors
      // ping through it. A few streams above libp2p's defaults: a ping
      // stream whose handler starts late (a busy node) is still open when
      // the next one comes, and a monitor that is refused one aborts a
      // healthy connection
      ping: pingService({ maxOutboundStreams: PING_MAX_OUTBOUND_STREAMS, maxInboundStreams: PING_MAX_INBOUND_STREAMS }),
      // a peer that vanished without closing its connection is found within PEER_LOSS_BOUND_MS
      keepAlive: keepAlive({
        interval: CONNECTION_PING_INTERVAL_MS,
        timeout: { minTimeout: CONNECTION_PING_MIN_TIMEOUT_MS, maxTimeout: CONNECTION_PING_MAX_TIMEOUT_MS }
      }),
      // the DHT dials its peers when a query needs them; it does not have
      // libp2p redial them whenever a session ends (dht-keep-alive.ts)
      dht: withoutKeepAlive(kadDHT({
        protocol: dhtProtocol(chain.chainId),
        clientMode: dht.clientMode ?? false,
        peerInfoMapper: dht.publicAddressesOnly === true ? removePrivateAddressesMapper : passthroughMapper
      })),
      // the dial manager finds the book as `addressBook`; both run on the
      // same injected clock and random draw
      addressBook: addressBook({
        ...options.addressBook,
        now: options.dial?.now,
        random: options.dial?.random
      }),
      // after the address book (its scores' store), before the dial manager (which reads them)
      score: peerScore(options.score),
      dial: dialManager({
        ...options.dial,
        bootstrap,
        reserved,
        discovery: options.discovery
      })
    }
    if (options.pubsub != null && options.pubsub !== false) {
      services.pubsub = gossip(options.pubsub === true ? {} : options.pubsub)
    }
    const libp2p = await createLibp2p<PeerNodeServices & S>({
      privateKey,
      datastore: cached,
      addresses: { listen: listen.map(ma => ma.toString()) },
      // what one run of code writes leaves as one socket write, not two per frame (coalesce-writes.ts)
      transports: (options.transports ?? [tcp()]).map(coalesceWrites),
      connectionEncrypters: [noise()],
      // yamux's own keep-alive pings every 30 s and only logs a missing
      // answer: the keep-alive service pings through it and acts on one
      streamMuxers: [yamux({ enableKeepAlive: false })],
      connectionManager: {
        // libp2p upgrades at most 10 inbound connections at once (all hosts
        // together) and resets the rest before they reach the handshake, whose
        // limiter lets a newcomer take a stalled handshake's place: under
        // attackers reconnecting at libp2p's per-host rate, an honest newcomer
        // met that reset. As many connections may upgrade at once as
        // handshakes may run (PROTOCOL.md §8.1).
        maxIncomingPendingConnections: options.handshake?.maxInboundHandshakes ?? MAX_INBOUND_HANDSHAKES,
        ...options.connectionManager
      },
      // peergate's keep-alive (a service above) finds a peer that vanished
      // without closing its connection, with a ping frame where libp2p's
      // monitor would open a ping stream
      connectionMonitor: { enabled: false },
      // banned peers are never dialed, by us or by the DHT; inbound they still
      // reach the handshake, which tells them BANNED
      connectionGater: {
        denyDialPeer: (peer) => libp2pRef?.services.sessions.banExpiry(peer) != null
      },
      logger,
      // a registry per node: several nodes in one process must not share prom-client's global one
      metrics: metricsRegistry == null ? undefined : prometheusMetrics({ registry: metricsRegistry, collectDefaultMetrics: metrics?.collectDefaultMetrics }),
      services: {
        ...services,
        ...userServices
      } as unknown as ServiceFactoryMap<PeerNodeServices & S>
    }).catch(err => {
      // a datastore record LevelDB cannot read surfaces when libp2p's services load theirs
      throw addressInUse(err) ?? (ownDatastore != null && isCorruption(err) ? damagedDatastore(dataDir, err) : err)
    })

    libp2pRef = libp2p
    return new PeerNode<S>({ libp2p, datastore: cached, storage, ownDatastore, metricsRegistry })
  } catch (err) {
    storage?.stop()
    await ownDatastore?.close()
    throw err
  }
}

/**
 * libp2p's failure to listen, when the reason is a port in use: its own
 * message suggests `transportManager.faultTolerance`, which would only start
 * a node that does not listen where it was told to
 */
function addressInUse (err: any): AddressInUseError | undefined {
  if (err?.name !== 'UnsupportedListenAddressesError') {
    return undefined
  }
  const inUse = [...String(err.message).matchAll(/^\s*(\/\S+): .*EADDRINUSE/gm)].map(match => match[1])
  return inUse.length > 0 ? new AddressInUseError(inUse) : undefined
}

/** The addresses of other peers: those of this node itself are left out and logged (see isSelfAddress) */
function withoutSelf (addrs: Array<string | Multiaddr> | undefined, self: PeerId, what: string, log: Logger): Array<string | Multiaddr> {
  return (addrs ?? []).filter(addr => {
    if (!isSelfAddress(addr, self)) {
      return true
    }
    log.error('%s address %s is this node\'s own peer id; skipped', what, addr.toString())
    return false
  })
}

/**
 * The caller's own services, refused when one takes the name of a peergate
 * service (libp2p would silently replace ours)
 */
function checkServiceNames<S extends ServiceMap> (services: PeerNodeServiceFactories<S> | undefined): PeerNodeServiceFactories<S> {
  for (const name of Object.keys(services ?? {})) {
    if ((PEERGATE_SERVICE_NAMES as readonly string[]).includes(name)) {
      throw new InvalidParametersError(`services.${name}: "${name}" is one of peergate's own services (${PEERGATE_SERVICE_NAMES.join(', ')})`)
    }
  }
  return services ?? {} as PeerNodeServiceFactories<S>
}

/**
 * Session limits from `maxPeers` (at least 1): one third outbound (the peers
 * this node selects) but at least one, the rest inbound, plus a burst
 * allowance of inbound sessions that the dial manager sheds on its next tick.
 * `maxOutboundSessions` or `maxInboundSessions` given alone take their share
 * of `maxPeers` and leave the rest to the other; given both, they are the
 * limits (and `maxPeers`, if given too, must be their sum). Either may be 0
 * (an outbound-only or inbound-only node); both 0 (`maxPeers: 0`) is a
 * DHT-only node, which serves the chain's DHT, holds no session and refuses
 * every handshake with INBOUND_DISABLED (so it takes no inbound burst).
 * The limit per source IP and its exempt ranges are checked and passed on.
 */
export function resolveLimits (limits: PeerNodeLimits = {}): Required<Pick<SessionManagerInit, 'maxInboundSessions' | 'maxOutboundSessions' | 'inboundBurst' | 'maxInboundSessionsPerIp' | 'ipLimitExempt'>> {
  const given = { maxPeers: limits.maxPeers, maxOutboundSessions: limits.maxOutboundSessions, maxInboundSessions: limits.maxInboundSessions }
  for (const [name, value] of Object.entries(given)) {
    if (value != null && (!Number.isInteger(value) || value < 0 || value > MAX_SESSIONS_LIMIT)) {
      throw new InvalidParametersError(`limits.${name} must be a whole number from 0 to ${MAX_SESSIONS_LIMIT}, got ${value}`)
    }
  }
  let { maxOutboundSessions, maxInboundSessions } = limits
  if (limits.maxPeers === 0) {
    if ((maxOutboundSessions ?? 0) + (maxInboundSessions ?? 0) > 0) {
      throw new InvalidParametersError(`limits.maxPeers is 0 (a DHT-only node) but maxOutboundSessions is ${maxOutboundSessions ?? 0} and maxInboundSessions ${maxInboundSessions ?? 0}`)
    }
    maxOutboundSessions = 0
    maxInboundSessions = 0
  } else if (maxOutboundSessions != null && maxInboundSessions != null) {
    if (limits.maxPeers != null && limits.maxPeers !== maxOutboundSessions + maxInboundSessions) {
      throw new InvalidParametersError(`limits.maxPeers (${limits.maxPeers}) must be maxOutboundSessions + maxInboundSessions (${maxOutboundSessions} + ${maxInboundSessions}) when all three are given`)
    }
  } else {
    const maxPeers = limits.maxPeers ?? Math.max(DEFAULT_MAX_PEERS, maxOutboundSessions ?? maxInboundSessions ?? 0)
    const fixed = maxOutboundSessions ?? maxInboundSessions
    if (fixed != null && fixed > maxPeers) {
      const name = maxOutboundSessions != null ? 'maxOutboundSessions' : 'maxInboundSessions'
      throw new InvalidParametersError(`limits.${name} (${fixed}) must be at most limits.maxPeers (${maxPeers})`)
    }
    maxOutboundSessions ??= maxInboundSessions != null ? maxPeers - maxInboundSessions : defaultOutbound(maxPeers)
    maxInboundSessions ??= maxPeers - maxOutboundSessions
  }
  const inboundBurst = limits.inboundBurst ?? defaultInboundBurst(maxInboundSessions)
  if (!Number.isInteger(inboundBurst) || inboundBurst < 0) {
    throw new InvalidParametersError(`limits.inboundBurst must be a whole number >= 0, got ${inboundBurst}`)
  }
  if (maxOutboundSessions + maxInboundSessions === 0 && inboundBurst > 0) {
    throw new InvalidParametersError(`limits.inboundBurst must be 0 on a DHT-only node (no session limits), got ${inboundBurst}`)
  }
  const maxInboundSessionsPerIp = limits.maxInboundSessionsPerIp ?? DEFAULT_MAX_INBOUND_SESSIONS_PER_IP
  if (!Number.isInteger(maxInboundSessionsPerIp) || maxInboundSessionsPerIp < 1 || maxInboundSessionsPerIp > MAX_SESSIONS_LIMIT) {
    throw new InvalidParametersError(`limits.maxInboundSessionsPerIp must be a whole number from 1 to ${MAX_SESSIONS_LIMIT}, got ${maxInboundSessionsPerIp}`)
  }
  // refused here, under the option's name, rather than when the service is built
  const ipLimitExempt = [...new IpRanges(limits.ipLimitExempt, 'limits.ipLimitExempt').list]
  return { maxInboundSessions, maxOutboundSessions, inboundBurst, maxInboundSessionsPerIp, ipLimitExempt }
}

/** one third of the sessions, as go-ethereum's dial ratio, but at least one: a node that selects no peer only waits to be found */
function defaultOutbound (maxPeers: number): number {
  return Math.max(1, Math.floor(maxPeers * OUTBOUND_FRACTION))
}
