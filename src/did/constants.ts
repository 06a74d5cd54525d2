/** The DID method peergate creates by default: `did:key`, see https://w3c-ccg.github.io/did-method-key/ */
export const DID_KEY_PREFIX = 'did:key:'

/** multicodec code of an Ed25519 public key (`ed25519-pub`), varint-encoded as 0xed 0x01 */
export const ED25519_PUB_MULTICODEC = 0xed

/** Byte length of a raw Ed25519 public key */
export const ED25519_PUBLIC_KEY_LENGTH = 32

/** Where the node's DID key lives in the node's datastore; apart from libp2p's own keychain keys */
export const DID_KEY_DATASTORE_KEY = '/peergate/did/private-key'

/**
 * Longest DID accepted anywhere (handshake, resolver, address book), in UTF-8
 * bytes: its size on the wire and in records, whatever characters it holds. A
 * did:key of an Ed25519 key is 56 bytes; 2 KiB leaves room for registries with
 * long method-specific ids and still fits a hello in a 4 KiB handshake message.
 */
export const MAX_DID_BYTES = 2048
