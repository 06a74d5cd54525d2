/** The DID could not be resolved to a verification key, or the resolver refused it */
export class DidUnresolvableError extends Error {
  static override name = 'DidUnresolvableError'
  override name = 'DidUnresolvableError'

  constructor (message = 'DID could not be resolved') {
    super(message)
  }
}
