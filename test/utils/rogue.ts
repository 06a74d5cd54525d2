import { randomBytes } from '@libp2p/crypto'
import { generateKeyPair } from '@libp2p/crypto/keys'
import {
  HANDSHAKE_PROTOCOL, MAX_MESSAGE_SIZE, HandshakeChannel, HandshakeStage, Hello, KeyDidSigner,
  createHello, isHandshakeError, resolveChain, signingInput
} from '../../src/index.js'
import type { ChainIdentity, DidSigner, ReasonCode } from '../../src/index.js'
import type { Connection, Libp2p, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

export async function newSigner (): Promise<KeyDidSigner> {
  return new KeyDidSigner(await generateKeyPair('Ed25519'))
}

export async function testChain (chainId = 'test-chain'): Promise<ChainIdentity> {
  return resolveChain({ chainId })
}

/** Opens a raw handshake stream from a plain libp2p node: a peer that speaks the protocol by hand */
export async function openHandshake (plain: Libp2p, target: Multiaddr): Promise<{ connection: Connection, stream: Stream, channel: HandshakeChannel }> {
  const connection = await plain.dial(target)
  const stream = await connection.newStream(HANDSHAKE_PROTOCOL)
  return { connection, stream, channel: new HandshakeChannel(stream, MAX_MESSAGE_SIZE) }
}

export interface RogueInitiatorOptions {
  chain: ChainIdentity
  signer: DidSigner
  /** what to send as the signature in message B, given the real one */
  signature?(real: Uint8Array): Uint8Array
  /** runs after the responder's signature (message C) arrived, before the accept (message D) goes out */
  beforeAccept?(connection: Connection): Promise<void>
}

export interface RogueOutcome {
  /** the reason the remote rejected with, if it did */
  reject?: ReasonCode
  /** the signature this peer sent in message B */
  signatureSent?: Uint8Array
  /** the remote sent its signature (message C) and we answered with accept */
  accepted: boolean
  connection: Connection
}

/**
 * A hand-driven initiator on a plain libp2p node: follows the protocol except
 * where the options tell it to misbehave
 */
export async function rogueInitiator (plain: Libp2p, target: Multiaddr, options: RogueInitiatorOptions): Promise<RogueOutcome> {
  const { connection, channel } = await openHandshake(plain, target)
  const signal = AbortSignal.timeout(5_000)
  let signatureSent: Uint8Array | undefined
  try {
    const a = await channel.read(HandshakeStage.AwaitResponderHello, { signal })
    const responderHello = Hello.decode(a.hello ?? new Uint8Array())
    const hello = createHello(options.chain, options.signer.did, randomBytes(32), undefined, Date.now())
    const helloBytes = Hello.encode(hello)
    const real = await options.signer.sign(signingInput('initiator', {
      initiatorPeerId: plain.peerId.toMultihash().bytes,
      responderPeerId: connection.remotePeer.toMultihash().bytes,
      initiatorNonce: hello.nonce,
      responderNonce: responderHello.nonce,
      initiatorHello: helloBytes,
      responderHello: a.hello ?? new Uint8Array()
    }))
    signatureSent = options.signature?.(real) ?? real
    await channel.write({ hello: helloBytes, signature: signatureSent as Uint8Array<ArrayBuffer> }, { signal })
    await channel.read(HandshakeStage.AwaitResponderSignature, { signal })
    await options.beforeAccept?.(connection)
    await channel.write({ accept: true }, { signal })
    return { signatureSent, accepted: true, connection }
  } catch (err) {
    if (isHandshakeError(err) && err.side === 'remote') {
      return { reject: err.reason, signatureSent, accepted: false, connection }
    }
    throw err
  }
}
