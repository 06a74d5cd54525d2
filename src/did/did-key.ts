import { publicKeyFromRaw } from '@libp2p/crypto/keys'
import { base58btc } from 'multiformats/bases/base58'
import * as varint from 'uint8-varint'
import { concat as uint8ArrayConcat } from 'uint8arrays/concat'
import { DID_KEY_PREFIX, ED25519_PUB_MULTICODEC, ED25519_PUBLIC_KEY_LENGTH, MAX_DID_BYTES } from './constants.js'
import { didSizeBytes } from './did-size.js'
import { DidUnresolvableError } from './errors.js'
import type { DidResolver } from './index.js'
import type { Ed25519PublicKey, PublicKey } from '@libp2p/interface'

/**
 * The `did:key` of an Ed25519 public key: `did:key:z` + base58btc(varint(0xed) || key)
 */
export function ed25519DidKey (publicKey: Ed25519PublicKey): string {
  const prefixed = uint8ArrayConcat([varint.encode(ED25519_PUB_MULTICODEC), publicKey.raw])
  return `${DID_KEY_PREFIX}${base58btc.encode(prefixed)}`
}

/**
 * Parses a `did:key` DID of an Ed25519 key back to its public key; only
 * the DID `ed25519DidKey` makes of that key is one
 *
 * @throws {DidUnresolvableError} for anything else
 */
export function parseEd25519DidKey (did: string): Ed25519PublicKey {
  if (didSizeBytes(did) > MAX_DID_BYTES || !did.startsWith(DID_KEY_PREFIX)) {
    throw new DidUnresolvableError('not a did:key DID')
  }

  let bytes: Uint8Array
  try {
    bytes = base58btc.decode(did.slice(DID_KEY_PREFIX.length))
  } catch {
    throw new DidUnresolvableError('did:key is not base58btc multibase')
  }

  let codec: number
  try {
    codec = varint.decode(bytes)
  } catch {
    throw new DidUnresolvableError('did:key has no multicodec prefix')
  }

  // the codec first: encodingLength throws a RangeError for a varint above 2^53
  if (codec !== ED25519_PUB_MULTICODEC || bytes.byteLength - varint.encodingLength(codec) !== ED25519_PUBLIC_KEY_LENGTH) {
    throw new DidUnresolvableError('did:key is not an Ed25519 public key')
  }
  const offset = varint.encodingLength(codec)

  const key = publicKeyFromRaw(bytes.subarray(offset))
  if (key.type !== 'Ed25519') {
    throw new DidUnresolvableError('did:key is not an Ed25519 public key')
  }
  // one key, one DID: multiformats' base58 decoder reads any character above
  // U+00FF as the digit "1", and the multicodec varint may be padded (ed 81 00),
  // so other strings decode to this key too; a DID ban, which names a string,
  // would not know them
  if (ed25519DidKey(key) !== did) {
    throw new DidUnresolvableError('did:key is not the one did:key of its key')
  }
  return key
}

/**
 * Resolves `did:key` DIDs of Ed25519 keys (the default DID method); refuses every other DID
 */
export class KeyDidResolver implements DidResolver {
  resolve (did: string): PublicKey[] {
    return [parseEd25519DidKey(did)]
  }
}
