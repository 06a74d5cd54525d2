/**
 * @packageDocumentation
 *
 * peergate: a libp2p node for blockchain prototypes whose node-DID + chain
 * handshake decides which peers are real peers.
 *
 * @example
 *
 * ```TypeScript
 * import { createPeerNode } from 'peergate'
 *
 * const node = await createPeerNode({ chain: { chainId: 'devnet-1' } })
 * await node.handle('/devnet-1/blocks/1.0.0', (stream, connection) => { ... })
 * node.addEventListener('session:open', (evt) => { console.info(evt.detail.did) })
 * await node.connect(multiaddr('/ip4/127.0.0.1/tcp/4001/p2p/12D3Koo...'))
 * ```
 */

export * from './node/index.js'
export * from './handshake/index.js'
export * from './session/index.js'
export * from './did/index.js'
export * from './dial/index.js'
export * from './addressbook/index.js'
export * from './stream/index.js'
export * from './reason/index.js'
export * from './chain/index.js'
