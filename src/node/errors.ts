/** The data dir cannot be created or written: permission denied, not a directory, a file system that refuses it */
export class DataDirError extends Error {
  static override name = 'DataDirError'
  override name = 'DataDirError'

  constructor (message = 'cannot use the data dir') {
    super(message)
  }
}

/**
 * The data dir was used before and has lost or damaged what makes the node
 * itself (its peer key, DID key or chain record), or its datastore cannot be
 * read. The node refuses to start rather than come up as another node or
 * wipe data; the message names what and how to recover.
 */
export class DamagedDataDirError extends Error {
  static override name = 'DamagedDataDirError'
  override name = 'DamagedDataDirError'

  constructor (message = 'the data dir is damaged') {
    super(message)
  }
}

/** Another process (another peergate, most likely) holds the data dir's datastore open */
export class DataDirLockedError extends Error {
  static override name = 'DataDirLockedError'
  override name = 'DataDirLockedError'

  constructor (message = 'the data dir is in use by another process') {
    super(message)
  }
}

/** A listen address is already taken by another socket */
export class AddressInUseError extends Error {
  static override name = 'AddressInUseError'
  override name = 'AddressInUseError'
  /** the listen addresses that are in use */
  readonly addresses: string[]

  constructor (addresses: string[], message = `${addresses.join(', ')} ${addresses.length === 1 ? 'is' : 'are'} in use`) {
    super(message)
    this.addresses = addresses
  }
}

/** `node.pubsub` of a node that runs no gossip: `createPeerNode({ pubsub: true })` runs it */
export class GossipDisabledError extends Error {
  static override name = 'GossipDisabledError'
  override name = 'GossipDisabledError'

  constructor (message = 'this node runs no gossip: createPeerNode({ pubsub: true }) runs it') {
    super(message)
  }
}
