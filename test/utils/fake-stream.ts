import { HandshakeChannel, MAX_MESSAGE_SIZE } from '../../src/handshake/index.js'
import type { Stream } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'

/**
 * A handshake channel over a stand-in stream: it reads `incoming` (raw bytes,
 * framing included, one chunk each) and keeps what is sent in `sent`. For
 * tests of framing and decoding without a connection.
 */
export function fakeChannel (incoming: Uint8Array[], maxMessageSize = MAX_MESSAGE_SIZE): { channel: HandshakeChannel, sent: Uint8Array[] } {
  const sent: Uint8Array[] = []
  const stream = {
    writeStatus: 'writable',
    send (data: Uint8Array | Uint8ArrayList): boolean {
      sent.push(data.subarray())
      return true
    },
    async * [Symbol.asyncIterator] () {
      yield * incoming
    }
  }
  return { channel: new HandshakeChannel(stream as unknown as Stream, maxMessageSize), sent }
}
