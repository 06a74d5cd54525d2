import { fromString as uint8ArrayFromString } from 'uint8arrays/from-string'
import { TRANSCRIPT_DOMAIN } from './constants.js'

/** The role of the signer; it is part of what is signed so a signature cannot be reflected */
export type HandshakeRole = 'initiator' | 'responder'

/**
 * Everything a handshake signature is bound to. Peer ids are the multihash
 * bytes of the Noise-authenticated peer ids of the connection; hellos are the
 * exact encoded `Hello` bytes that travelled.
 */
export interface Transcript {
  initiatorPeerId: Uint8Array
  responderPeerId: Uint8Array
  initiatorNonce: Uint8Array
  responderNonce: Uint8Array
  initiatorHello: Uint8Array
  responderHello: Uint8Array
}

/**
 * The bytes a `role` signs (docs/PROTOCOL.md, "Transcript"):
 *
 * ```
 * field(x) = uint32_be(len(x)) || x
 * signed   = field("peergate-handshake-v1/" || role)
 *         || field(initiator peer id) || field(responder peer id)
 *         || field(initiator nonce)   || field(responder nonce)
 *         || field(initiator hello)   || field(responder hello)
 * ```
 */
export function signingInput (role: HandshakeRole, t: Transcript): Uint8Array {
  const fields = [
    uint8ArrayFromString(`${TRANSCRIPT_DOMAIN}/${role}`),
    t.initiatorPeerId,
    t.responderPeerId,
    t.initiatorNonce,
    t.responderNonce,
    t.initiatorHello,
    t.responderHello
  ]

  let length = 0
  for (const field of fields) {
    length += 4 + field.byteLength
  }

  const out = new Uint8Array(length)
  const view = new DataView(out.buffer)
  let offset = 0
  for (const field of fields) {
    view.setUint32(offset, field.byteLength)
    out.set(field, offset + 4)
    offset += 4 + field.byteLength
  }
  return out
}
