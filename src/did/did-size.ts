import { MAX_DID_BYTES } from './constants.js'

/** The size of a DID on the wire and in records: its UTF-8 bytes */
export function didSizeBytes (did: string): number {
  return Buffer.byteLength(did, 'utf8')
}

/** Whether a DID has a size peergate accepts: 1 to {@link MAX_DID_BYTES} bytes of UTF-8 */
export function isDidSizeAllowed (did: string): boolean {
  const size = didSizeBytes(did)
  return size >= 1 && size <= MAX_DID_BYTES
}
