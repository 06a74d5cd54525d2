import { DidUnresolvableError } from '../did/errors.js'
import { HandshakeError, HandshakeStage, rejectionError } from './errors.js'
import { checkRemoteHello, createHello } from './hello.js'
import { decodeHello } from './channel.js'
import { ReasonCode } from '../reason/index.js'
import { HandshakeMessage, Hello } from './pb/handshake.js'
import { signingInput, type HandshakeRole, type Transcript } from './transcript.js'
import type { HandshakeChannel } from './channel.js'
import type { LocalStatus } from './index.js'
import type { ChainIdentity, VersionCompatibility } from '../chain/index.js'
import type { Rejection } from '../session/admission.js'
import type { DidResolver, DidSigner } from '../did/index.js'
import type { AbortOptions, Logger, PeerId, PublicKey } from '@libp2p/interface'

/**
 * The local side of a handshake: who we are and how we judge the remote
 */
export interface HandshakeParty {
  chain: ChainIdentity
  signer: DidSigner
  resolver: DidResolver
  isCompatibleVersion: VersionCompatibility
  /** the head and extra this hello carries, read once per hello: one snapshot */
  status(): LocalStatus
  nonce(): Uint8Array
  now(): number
}

/**
 * The node's say in a handshake, asked twice: once the remote's hello has
 * passed the hello checks, and once both signatures are verified. Each returns
 * a rejection to end the handshake with, or undefined to go on.
 */
export interface HandshakeJudge {
  /** the remote's hello, decoded, before any check (for reports of a failure) */
  heard(remote: Hello): void
  /** what the remote's hello reveals (its DID): bans, duplicates, the DID this node expected */
  admit(remote: Hello): Rejection | undefined
  /**
   * The application's say, once the remote's signature over its hello is
   * verified: the initiator asks before it sends message 3, the responder
   * before it commits, so no session is announced on either side before both
   * have asked (docs/PROTOCOL.md §8.4)
   */
  validate(remote: Hello, options: AbortOptions): Promise<Rejection | undefined>
  /** the last checks; undefined means the local node announced the session */
  commit(remote: Hello): Rejection | undefined
}

export interface HandshakeSide {
  role: HandshakeRole
  localPeer: PeerId
  remotePeer: PeerId
  party: HandshakeParty
  judge: HandshakeJudge
  log: Logger
}

/**
 * Runs one handshake to its end. Both roles follow docs/PROTOCOL.md:
 *
 * ```
 * 1  initiator → responder   { hello }
 * 2  responder → initiator   { hello, signature }
 * 3  initiator → responder   { signature }          the initiator verified 2
 * 4  responder → initiator   { accept }             the responder verified 3
 * ```
 *
 * The responder announces its session after verifying message 3 (which says
 * the initiator verified message 2), the initiator after message 4: neither
 * before both signatures are verified. Either side may send `{ reject }`
 * instead of its next message and hang up.
 *
 * @returns the remote DID's key that verified the remote's signature
 */
export async function performHandshake (channel: HandshakeChannel, side: HandshakeSide, options: AbortOptions): Promise<PublicKey> {
  return side.role === 'initiator'
    ? performInitiator(channel, side, options)
    : performResponder(channel, side, options)
}

async function performInitiator (channel: HandshakeChannel, side: HandshakeSide, options: AbortOptions): Promise<PublicKey> {
  const { party, judge, log } = side
  const localHello = createLocalHello(party)
  const localHelloBytes = Hello.encode(localHello)

  log.trace('initiator sending message 1')
  await channel.write({ hello: localHelloBytes }, options)

  log.trace('initiator waiting for message 2')
  const second = await channel.read(HandshakeStage.AwaitResponderHello, options)
  const remoteHelloBytes = requireField(second.hello, 'hello', HandshakeStage.AwaitResponderHello)
  const remoteSignature = requireField(second.signature, 'signature', HandshakeStage.AwaitResponderHello)
  const remoteHello = judgeHello(localHello, remoteHelloBytes, side, HandshakeStage.AwaitResponderHello)

  const transcript = buildTranscript(side, localHello, localHelloBytes, remoteHello, remoteHelloBytes)
  const keys = await resolveKeys(party.resolver, remoteHello.did, options, HandshakeStage.AwaitResponderHello)
  const remoteKey = await verify(keys, signingInput('responder', transcript), remoteSignature, HandshakeStage.AwaitResponderHello)
  throwIfRejected(await judge.validate(remoteHello, options), HandshakeStage.Validation)

  const signature = await party.signer.sign(signingInput('initiator', transcript), options)
  log.trace('initiator sending message 3')
  await channel.write({ signature: signature as Uint8Array<ArrayBuffer> }, options)

  log.trace('initiator waiting for message 4')
  const fourth = await channel.read(HandshakeStage.AwaitResponderAccept, options)
  if (fourth.accept !== true) {
    throw new HandshakeError(ReasonCode.MALFORMED, 'expected accept', 'local', HandshakeStage.AwaitResponderAccept)
  }
  throwIfRejected(judge.commit(remoteHello), HandshakeStage.Commit)
  return remoteKey
}

async function performResponder (channel: HandshakeChannel, side: HandshakeSide, options: AbortOptions): Promise<PublicKey> {
  const { party, judge, log } = side

  log.trace('responder waiting for message 1')
  const first = await channel.read(HandshakeStage.AwaitInitiatorHello, options)
  const localHello = createLocalHello(party)
  const localHelloBytes = Hello.encode(localHello)
  const remoteHelloBytes = requireField(first.hello, 'hello', HandshakeStage.AwaitInitiatorHello)
  const remoteHello = judgeHello(localHello, remoteHelloBytes, side, HandshakeStage.AwaitInitiatorHello)
  const keys = await resolveKeys(party.resolver, remoteHello.did, options, HandshakeStage.AwaitInitiatorHello)

  const transcript = buildTranscript(side, localHello, localHelloBytes, remoteHello, remoteHelloBytes)
  const signature = await party.signer.sign(signingInput('responder', transcript), options)
  log.trace('responder sending message 2')
  await channel.write({ hello: localHelloBytes, signature: signature as Uint8Array<ArrayBuffer> }, options)

  log.trace('responder waiting for message 3')
  const third = await channel.read(HandshakeStage.AwaitInitiatorSignature, options)
  const remoteSignature = requireField(third.signature, 'signature', HandshakeStage.AwaitInitiatorSignature)
  const remoteKey = await verify(keys, signingInput('initiator', transcript), remoteSignature, HandshakeStage.AwaitInitiatorSignature)
  throwIfRejected(await judge.validate(remoteHello, options), HandshakeStage.Validation)

  throwIfRejected(judge.commit(remoteHello), HandshakeStage.Commit)
  log.trace('responder sending message 4')
  await channel.write({ accept: true }, options)
  return remoteKey
}

/** This side's hello, its head and extra from one `party.status()` */
function createLocalHello (party: HandshakeParty): Hello {
  const { head, extra } = party.status()
  return createHello(party.chain, party.signer.did, party.nonce(), head, party.now(), extra)
}

function throwIfRejected (rejection: Rejection | undefined, stage: HandshakeStage): void {
  if (rejection != null) {
    throw rejectionError(rejection, stage)
  }
}

function requireField<T> (value: T | undefined, name: keyof HandshakeMessage, stage: HandshakeStage): T {
  if (value == null) {
    throw new HandshakeError(ReasonCode.MALFORMED, `message has no ${name}`, 'local', stage)
  }
  return value
}

function judgeHello (localHello: Hello, remoteHelloBytes: Uint8Array, side: HandshakeSide, stage: HandshakeStage): Hello {
  const remoteHello = decodeHello(remoteHelloBytes, stage)
  side.judge.heard(remoteHello)
  const verdict = checkRemoteHello(localHello, remoteHello, side.party.isCompatibleVersion)
  if (verdict != null) {
    throw new HandshakeError(verdict.reason, verdict.message, 'local', stage)
  }
  throwIfRejected(side.judge.admit(remoteHello), stage)
  return remoteHello
}

function buildTranscript (side: HandshakeSide, localHello: Hello, localHelloBytes: Uint8Array, remoteHello: Hello, remoteHelloBytes: Uint8Array): Transcript {
  const local = { peer: side.localPeer.toMultihash().bytes, nonce: localHello.nonce, hello: localHelloBytes }
  const remote = { peer: side.remotePeer.toMultihash().bytes, nonce: remoteHello.nonce, hello: remoteHelloBytes }
  const [initiator, responder] = side.role === 'initiator' ? [local, remote] : [remote, local]
  return {
    initiatorPeerId: initiator.peer,
    responderPeerId: responder.peer,
    initiatorNonce: initiator.nonce,
    responderNonce: responder.nonce,
    initiatorHello: initiator.hello,
    responderHello: responder.hello
  }
}

async function resolveKeys (resolver: DidResolver, did: string, options: AbortOptions, stage: HandshakeStage): Promise<PublicKey[]> {
  try {
    const keys = await resolver.resolve(did, options)
    if (keys.length === 0) {
      throw new DidUnresolvableError('DID has no verification key')
    }
    return keys
  } catch (err: any) {
    if (options.signal?.aborted === true) {
      throw options.signal.reason
    }
    throw new HandshakeError(ReasonCode.DID_UNRESOLVABLE, `cannot resolve ${did.slice(0, 64)}: ${err.message}`, 'local', stage)
  }
}

/** The first key that verifies `signature`, or BAD_SIGNATURE */
async function verify (keys: PublicKey[], data: Uint8Array, signature: Uint8Array, stage: HandshakeStage): Promise<PublicKey> {
  for (const key of keys) {
    try {
      if (await key.verify(data, signature)) {
        return key
      }
    } catch {
      // a signature of the wrong shape for this key; try the next key
    }
  }
  throw new HandshakeError(ReasonCode.BAD_SIGNATURE, 'transcript signature does not verify', 'local', stage)
}
