import { createPrivateKey, sign, type KeyObject } from 'node:crypto'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { Key } from 'interface-datastore'
import { DID_KEY_DATASTORE_KEY } from './constants.js'
import { ed25519DidKey } from './did-key.js'
import { DamagedDidKeyError } from './errors.js'
import type { DidSigner } from './index.js'
import type { AbortOptions, Ed25519PrivateKey, PrivateKey } from '@libp2p/interface'
import type { Datastore } from 'interface-datastore'

/**
 * A node identity whose DID is the `did:key` of an Ed25519 key
 */
export class KeyDidSigner implements DidSigner {
  readonly did: string
  readonly privateKey: Ed25519PrivateKey
  /**
   * node:crypto's form of the key, made once: `privateKey.sign` would import
   * the key again for every signature, which costs more than signing
   */
  private readonly keyObject: KeyObject

  constructor (privateKey: Ed25519PrivateKey) {
    this.privateKey = privateKey
    this.did = ed25519DidKey(privateKey.publicKey)
    this.keyObject = createPrivateKey({
      format: 'jwk',
      key: {
        kty: 'OKP',
        crv: 'Ed25519',
        d: Buffer.from(privateKey.raw.subarray(0, 32)).toString('base64url'),
        x: Buffer.from(privateKey.publicKey.raw).toString('base64url')
      }
    })
  }

  sign (data: Uint8Array): Uint8Array {
    return sign(null, data, this.keyObject)
  }
}

export interface LoadDidSignerOptions extends AbortOptions {
  /** where the datastore lives (e.g. the LevelDB directory of a data dir), named in errors */
  location?: string
}

/**
 * Loads the node's DID key from the datastore, creating and storing a new
 * Ed25519 key the first time. The DID key is not the libp2p peer key: the DID
 * is the node's long-lived identity, the peer key only secures transport.
 *
 * A record that is there but cannot be read as an Ed25519 key is never
 * replaced: the node must not come up under a new DID without its operator
 * deciding so.
 *
 * @throws {DamagedDidKeyError} when the stored record is not an Ed25519 key; the record is left as it is
 */
export async function loadOrCreateDidSigner (datastore: Datastore, options: LoadDidSignerOptions = {}): Promise<KeyDidSigner> {
  const key = new Key(DID_KEY_DATASTORE_KEY)

  if (await datastore.has(key, options)) {
    const record = await datastore.get(key, options)
    let privateKey: PrivateKey
    try {
      privateKey = privateKeyFromProtobuf(record)
    } catch (err: any) {
      throw damaged(options.location, `${record.byteLength} bytes that are not a libp2p private key (${err?.message ?? err})`)
    }
    if (privateKey.type !== 'Ed25519') {
      throw damaged(options.location, `a ${privateKey.type} key, where an Ed25519 key belongs`)
    }
    return new KeyDidSigner(privateKey)
  }

  const privateKey = await generateKeyPair('Ed25519')
  await datastore.put(key, privateKeyToProtobuf(privateKey), options)
  return new KeyDidSigner(privateKey)
}

function damaged (location: string | undefined, found: string): DamagedDidKeyError {
  const where = location == null ? 'the datastore' : `the datastore at ${location}`
  return new DamagedDidKeyError(
    `the node's DID key, record ${DID_KEY_DATASTORE_KEY} in ${where}, is damaged: it holds ${found}. ` +
    'The node did not start, so that it does not come up under a new DID. ' +
    `To recover, restore the record (or the whole data dir) from a backup. To give the node a new DID instead, which peers that knew the old one will take for another node, delete the record ${DID_KEY_DATASTORE_KEY}, ` +
    'or start on an empty data dir (which also makes a new peer id and an empty address book).'
  )
}
