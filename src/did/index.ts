/**
 * @packageDocumentation
 *
 * The node-DID layer. A node proves control of its DID by signing the
 * handshake transcript with the DID's key; the remote side resolves the DID to
 * its verification keys. Both halves are interfaces so that an embedding chain
 * can bring its own DID method or registry (as the Nuts node does with DID
 * documents). The default is `did:key` of an Ed25519 key that is separate from
 * the libp2p peer key.
 */

import type { AbortOptions, PublicKey } from '@libp2p/interface'

/**
 * Resolves a DID to the public keys allowed to sign for it
 */
export interface DidResolver {
  /**
   * Returns the verification keys of `did`. Throw a `DidUnresolvableError` to
   * refuse the DID (unknown method, deactivated, not in the registry…).
   */
  resolve(did: string, options?: AbortOptions): PublicKey[] | Promise<PublicKey[]>
}

/**
 * The local node's DID and the means to sign with its key
 */
export interface DidSigner {
  readonly did: string
  sign(data: Uint8Array, options?: AbortOptions): Uint8Array | Promise<Uint8Array>
}

export { MAX_DID_BYTES } from './constants.js'
export { didSizeBytes } from './did-size.js'
export { DamagedDidKeyError, DidUnresolvableError } from './errors.js'
export { KeyDidResolver, ed25519DidKey, parseEd25519DidKey } from './did-key.js'
export { KeyDidSigner, loadOrCreateDidSigner, type LoadDidSignerOptions } from './identity.js'
