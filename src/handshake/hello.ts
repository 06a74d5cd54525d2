import { equals as uint8ArrayEquals } from 'uint8arrays/equals'
import { isCompatibleVersion } from '../chain/index.js'
import { MAX_DID_BYTES } from '../did/constants.js'
import { didSizeBytes } from '../did/did-size.js'
import { ReasonCode } from '../reason/index.js'
import { utf8Length } from '../wire/index.js'
import { HANDSHAKE_PROTOCOL_VERSION, MAX_CHAIN_ID_BYTES, NONCE_LENGTH } from './constants.js'
import { Hello } from './pb/handshake.js'
import type { ChainHead, ChainIdentity, VersionCompatibility } from '../chain/index.js'

/**
 * A verdict on a hello: undefined when it may go on, else the reason to reject
 */
export interface HelloVerdict {
  reason: ReasonCode
  message: string
}

/**
 * The checks of a remote hello that need nothing but the two hellos, in the
 * order a reject reports them (docs/PROTOCOL.md §8.2, checks 2–9): malformed
 * fields first, then chain, genesis, version and self. Lengths of strings are
 * UTF-8 bytes, as they travel.
 */
export function checkRemoteHello (local: Hello, remote: Hello, compatible: VersionCompatibility = isCompatibleVersion): HelloVerdict | undefined {
  if (remote.nonce.byteLength !== NONCE_LENGTH) {
    return { reason: ReasonCode.MALFORMED, message: `nonce must be ${NONCE_LENGTH} bytes, got ${remote.nonce.byteLength}` }
  }
  const didBytes = didSizeBytes(remote.did)
  if (didBytes === 0 || didBytes > MAX_DID_BYTES) {
    return { reason: ReasonCode.MALFORMED, message: `DID must be 1 to ${MAX_DID_BYTES} bytes, got ${didBytes}` }
  }
  const chainIdBytes = utf8Length(remote.chainId)
  if (chainIdBytes > MAX_CHAIN_ID_BYTES) {
    return { reason: ReasonCode.MALFORMED, message: `chain id must be at most ${MAX_CHAIN_ID_BYTES} bytes, got ${chainIdBytes}` }
  }
  if (remote.protocolVersion !== HANDSHAKE_PROTOCOL_VERSION) {
    return { reason: ReasonCode.INCOMPATIBLE_VERSION, message: `handshake protocol version ${remote.protocolVersion} is not ${HANDSHAKE_PROTOCOL_VERSION}` }
  }
  if (remote.chainId !== local.chainId) {
    return { reason: ReasonCode.WRONG_CHAIN, message: `chain ${JSON.stringify(remote.chainId)} is not ${JSON.stringify(local.chainId)}` }
  }
  if (!uint8ArrayEquals(remote.genesisHash, local.genesisHash)) {
    return { reason: ReasonCode.WRONG_GENESIS, message: 'genesis hash differs' }
  }
  if (!compatible(local.chainVersion, remote.chainVersion)) {
    return { reason: ReasonCode.INCOMPATIBLE_VERSION, message: `chain version ${JSON.stringify(remote.chainVersion)} is not compatible with ${JSON.stringify(local.chainVersion)}` }
  }
  if (remote.did === local.did) {
    return { reason: ReasonCode.SELF, message: 'remote presents our own DID' }
  }
  return undefined
}

/**
 * Builds the local hello for one handshake
 */
export function createHello (chain: ChainIdentity, did: string, nonce: Uint8Array, head: ChainHead | undefined, timestamp: number, extra?: Uint8Array): Hello {
  return {
    protocolVersion: HANDSHAKE_PROTOCOL_VERSION,
    chainId: chain.chainId,
    genesisHash: chain.genesisHash as Uint8Array<ArrayBuffer>,
    chainVersion: chain.version,
    did,
    nonce: nonce as Uint8Array<ArrayBuffer>,
    timestamp: BigInt(timestamp),
    head: head == null ? undefined : { height: head.height, hash: head.hash as Uint8Array<ArrayBuffer> },
    extra: (extra ?? new Uint8Array(0)) as Uint8Array<ArrayBuffer>
  }
}
