import { randomBytes } from '@libp2p/crypto'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { HANDSHAKE_PROTOCOL, HandshakeStage, KeyDidSigner, isHandshakeError } from '../../src/index.js'
import { MAX_MESSAGE_SIZE, HandshakeChannel, Hello, createHello, signingInput } from '../../src/handshake/index.js'
import { resolveChain } from '../../src/node/chain.js'
import { encodeFrame } from '../../src/wire/index.js'
import type { ChainIdentity, DidSigner, ReasonCode } from '../../src/index.js'
import type { HandshakeMessage, Transcript } from '../../src/handshake/index.js'
import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface'
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

export interface RogueOptions {
  chain: ChainIdentity
  signer: DidSigner
  /** what to send as this peer's signature, given the real one; undefined sends none */
  signature?(real: Uint8Array): Uint8Array | undefined
}

export interface RogueInitiatorOptions extends RogueOptions {
  /** runs after the initiator's signature (message 3) went out, before the accept (message 4) arrives */
  afterSignature?(connection: Connection): Promise<void>
}

export interface RogueOutcome {
  /** the reason the remote rejected with, if it did */
  reject?: ReasonCode
  /** the signature this peer sent */
  signatureSent?: Uint8Array
  /** the handshake ran to its end */
  accepted: boolean
  connection: Connection
}

function transcriptOf (initiator: PeerId, responder: PeerId, initiatorHello: Uint8Array, responderHello: Uint8Array): Transcript {
  return {
    initiatorPeerId: initiator.toMultihash().bytes,
    responderPeerId: responder.toMultihash().bytes,
    initiatorNonce: Hello.decode(initiatorHello).nonce,
    responderNonce: Hello.decode(responderHello).nonce,
    initiatorHello,
    responderHello
  }
}

function rogueHello (options: RogueOptions): Uint8Array {
  return Hello.encode(createHello(options.chain, options.signer.did, randomBytes(32), undefined, Date.now()))
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
    const hello = rogueHello(options)
    await channel.write({ hello: hello as Uint8Array<ArrayBuffer> }, { signal })
    const second = await channel.read(HandshakeStage.AwaitResponderHello, { signal })
    const transcript = transcriptOf(plain.peerId, connection.remotePeer, hello, second.hello ?? new Uint8Array())
    const real = await options.signer.sign(signingInput('initiator', transcript))
    signatureSent = options.signature == null ? real : options.signature(real)
    await channel.write({ signature: signatureSent as Uint8Array<ArrayBuffer> | undefined }, { signal })
    await options.afterSignature?.(connection)
    await channel.read(HandshakeStage.AwaitResponderAccept, { signal })
    return { signatureSent, accepted: true, connection }
  } catch (err) {
    if (isHandshakeError(err) && err.side === 'remote') {
      return { reject: err.reason, signatureSent, accepted: false, connection }
    }
    throw err
  }
}

export interface RogueResponderOptions extends RogueOptions {
  /** runs after the initiator's signature (message 3) arrived, before the accept (message 4) goes out */
  beforeAccept?(connection: Connection): Promise<void>
  /** what to send as message 4 instead of `{ accept: true }` */
  fourth?: HandshakeMessage
  /** the body of message 4 as raw bytes, framed as they are (wins over `fourth`) */
  fourthBytes?: Uint8Array
}

/**
 * Serves the handshake protocol by hand on a plain libp2p node; `outcome`
 * resolves with the first handshake it answers
 */
export async function rogueResponder (plain: Libp2p, options: RogueResponderOptions): Promise<{ outcome: Promise<RogueOutcome> }> {
  let answer!: (outcome: Promise<RogueOutcome>) => void
  const outcome = new Promise<RogueOutcome>(resolve => { answer = resolve })
  await plain.handle(HANDSHAKE_PROTOCOL, (stream, connection) => {
    answer((async () => {
      const channel = new HandshakeChannel(stream, MAX_MESSAGE_SIZE)
      const signal = AbortSignal.timeout(5_000)
      const first = await channel.read(HandshakeStage.AwaitInitiatorHello, { signal })
      const hello = rogueHello(options)
      const transcript = transcriptOf(connection.remotePeer, plain.peerId, first.hello ?? new Uint8Array(), hello)
      const real = await options.signer.sign(signingInput('responder', transcript))
      const signatureSent = options.signature == null ? real : options.signature(real)
      await channel.write({ hello: hello as Uint8Array<ArrayBuffer>, signature: signatureSent as Uint8Array<ArrayBuffer> | undefined }, { signal })
      await channel.read(HandshakeStage.AwaitInitiatorSignature, { signal })
      await options.beforeAccept?.(connection)
      if (options.fourthBytes != null) {
        stream.send(encodeFrame(options.fourthBytes))
      } else {
        await channel.write(options.fourth ?? { accept: true }, { signal })
      }
      return { signatureSent, accepted: true, connection }
    })())
  })
  return { outcome }
}
