/** A gated protocol was used towards or from a peer that has no session */
export class NoSessionError extends Error {
  static override name = 'NoSessionError'
  override name = 'NoSessionError'

  constructor (message = 'peer has no session') {
    super(message)
  }
}
