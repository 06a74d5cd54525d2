import { createPrivateKey, sign, type KeyObject } from 'node:crypto'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { Key } from 'interface-datastore'
import { DID_KEY_DATASTORE_KEY } from './constants.js'
import { ed25519DidKey } from './did-key.js'
import type { DidSigner } from './index.js'
import type { AbortOptions, Ed25519PrivateKey } from '@libp2p/interface'
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

/**
 * Loads the node's DID key from the datastore, creating and storing a new
 * Ed25519 key the first time. The DID key is not the libp2p peer key: the DID
 * is the node's long-lived identity, the peer key only secures transport.
 */
export async function loadOrCreateDidSigner (datastore: Datastore, options?: AbortOptions): Promise<KeyDidSigner> {
  const key = new Key(DID_KEY_DATASTORE_KEY)

  if (await datastore.has(key, options)) {
    const privateKey = privateKeyFromProtobuf(await datastore.get(key, options))
    if (privateKey.type !== 'Ed25519') {
      throw new TypeError(`DID key in the datastore is ${privateKey.type}, expected Ed25519`)
    }
    return new KeyDidSigner(privateKey)
  }

  const privateKey = await generateKeyPair('Ed25519')
  await datastore.put(key, privateKeyToProtobuf(privateKey), options)
  return new KeyDidSigner(privateKey)
}
