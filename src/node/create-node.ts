import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { loadOrCreateSelfKey } from '@libp2p/config'
import { identify } from '@libp2p/identify'
import { kadDHT, passthroughMapper, removePrivateAddressesMapper } from '@libp2p/kad-dht'
import { ping } from '@libp2p/ping'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { LevelDatastore } from 'datastore-level'
import { createLibp2p } from 'libp2p'
import { loadOrCreateDidSigner } from '../did/identity.js'
import { handshake } from '../handshake/index.js'
import { sessions } from '../session/index.js'
import { dhtProtocol, resolveChain } from './chain.js'
import { DATASTORE_DIR, DEFAULT_DATA_DIR, DEFAULT_LISTEN } from './constants.js'
import { InvalidConfigError } from './errors.js'
import { PeerNode } from './peer-node.js'
import type { PeerNodeOptions, PeerNodeServices } from './index.js'
import type { Libp2p } from '@libp2p/interface'
import type { Datastore } from 'interface-datastore'
import type { Multiaddr } from '@multiformats/multiaddr'

function parseAddrs (values: Array<string | Multiaddr> | undefined, what: string): Multiaddr[] {
  return (values ?? []).map(value => {
    try {
      return typeof value === 'string' ? multiaddr(value) : value
    } catch (err: any) {
      throw new InvalidConfigError(`${what} ${JSON.stringify(value)} is not a multiaddr: ${err.message}`)
    }
  })
}

/**
 * Builds and starts a peergate node: libp2p with TCP, Noise, Yamux, identify,
 * ping and a chain-scoped Kad-DHT, plus the session manager and handshake
 * services, persisted in a LevelDB datastore in `dataDir`.
 */
export async function createPeerNode (options: PeerNodeOptions = {}): Promise<PeerNode> {
  const chain = await resolveChain(options.chain)
  const listen = parseAddrs(options.listen ?? DEFAULT_LISTEN, 'listen address')
  const bootstrap = parseAddrs(options.bootstrap, 'bootstrap address')
  for (const addr of listen) {
    if (addr.getComponents().find(c => c.name === 'tcp') == null) {
      throw new InvalidConfigError(`listen address ${addr.toString()} is not a TCP address (peergate listens on TCP only)`)
    }
  }
  for (const addr of bootstrap) {
    if (addr.getComponents().find(c => c.name === 'p2p') == null) {
      throw new InvalidConfigError(`bootstrap address ${addr.toString()} has no /p2p/<peer id>`)
    }
  }

  let datastore: Datastore
  let ownDatastore: LevelDatastore | undefined
  if (options.datastore != null) {
    datastore = options.datastore
  } else {
    const dataDir = options.dataDir ?? DEFAULT_DATA_DIR
    await mkdir(dataDir, { recursive: true })
    ownDatastore = new LevelDatastore(join(dataDir, DATASTORE_DIR))
    await ownDatastore.open()
    datastore = ownDatastore
  }

  try {
    const privateKey = options.privateKey ?? await loadOrCreateSelfKey(datastore)
    const signer = options.did?.signer ?? await loadOrCreateDidSigner(datastore)
    const dht = options.dht ?? {}

    let libp2pRef: Libp2p<PeerNodeServices> | undefined
    const libp2p = await createLibp2p<PeerNodeServices>({
      privateKey,
      datastore,
      addresses: { listen: listen.map(ma => ma.toString()) },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionManager: options.connectionManager,
      // banned peers are never dialed, by us or by the DHT; inbound they still
      // reach the handshake, which tells them BANNED
      connectionGater: {
        denyDialPeer: (peer) => libp2pRef?.services.sessions.banExpiry(peer) != null
      },
      logger: options.logger,
      services: {
        // peergate's services first: the handshake's connection:open listener
        // then runs before identify's (see Handshake's constructor)
        sessions: sessions({
          maxInboundSessions: options.limits?.maxInboundSessions,
          maxOutboundSessions: options.limits?.maxOutboundSessions,
          handshakeTimeout: options.handshake?.timeout
        }),
        handshake: handshake({
          chain,
          signer,
          resolver: options.did?.resolver,
          isCompatibleVersion: options.handshake?.isCompatibleVersion,
          timeout: options.handshake?.timeout,
          maxMessageSize: options.handshake?.maxMessageSize,
          head: options.head,
          extra: options.handshake?.extra
        }),
        identify: identify(),
        ping: ping(),
        dht: kadDHT({
          protocol: dhtProtocol(chain.chainId),
          clientMode: dht.clientMode ?? false,
          peerInfoMapper: dht.publicAddressesOnly === true ? removePrivateAddressesMapper : passthroughMapper
        })
      }
    })

    libp2pRef = libp2p
    const node = new PeerNode({ libp2p, chain, did: signer.did, datastore: ownDatastore })
    node.bootstrap(bootstrap)
    return node
  } catch (err) {
    await ownDatastore?.close()
    throw err
  }
}
