/** An option given to `createPeerNode` (or a CLI flag) is not usable */
export class InvalidConfigError extends Error {
  static override name = 'InvalidConfigError'
  override name = 'InvalidConfigError'

  constructor (message = 'invalid configuration') {
    super(message)
  }
}
