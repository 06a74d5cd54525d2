/** The DID could not be resolved to a verification key, or the resolver refused it */
export class DidUnresolvableError extends Error {
  static override name = 'DidUnresolvableError'
  override name = 'DidUnresolvableError'

  constructor (message = 'DID could not be resolved') {
    super(message)
  }
}

/**
 * The DID key record in the node's datastore cannot be read as an Ed25519 key.
 * The node refuses to start rather than come up under a new DID.
 */
export class DamagedDidKeyError extends Error {
  static override name = 'DamagedDidKeyError'
  override name = 'DamagedDidKeyError'

  constructor (message = 'the DID key in the datastore is damaged') {
    super(message)
  }
}
