/**
 * The handshake driver against in-memory streams: two HandshakeChannels joined
 * back to back, no connection. What the judge (the session manager's say)
 * returns decides where each side stops, with which reason and stage.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { defaultLogger } from '@libp2p/logger'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { pushable } from 'it-pushable'
import { isCompatibleVersion } from '../../src/chain/index.js'
import { KeyDidResolver } from '../../src/did/did-key.js'
import { KeyDidSigner } from '../../src/did/identity.js'
import { HandshakeChannel } from '../../src/handshake/channel.js'
import { MAX_MESSAGE_SIZE, NONCE_LENGTH } from '../../src/handshake/constants.js'
import { HandshakeStage, isHandshakeError } from '../../src/handshake/errors.js'
import { performHandshake, type HandshakeJudge, type HandshakeParty } from '../../src/handshake/perform-handshake.js'
import { ReasonCode } from '../../src/reason/index.js'
import type { HandshakeRole } from '../../src/handshake/transcript.js'
import type { Rejection } from '../../src/session/admission.js'
import type { PeerId, Stream } from '@libp2p/interface'

/** Two streams back to back: what one sends, the other reads; `end()` ends both */
function streamPair (): { streams: [Stream, Stream], end(): void } {
  const make = (inbox: ReturnType<typeof pushable<Uint8Array>>, outbox: ReturnType<typeof pushable<Uint8Array>>): Stream => ({
    writeStatus: 'writable',
    send (data: { subarray(): Uint8Array }): boolean {
      outbox.push(data.subarray())
      return true
    },
    [Symbol.asyncIterator]: () => inbox[Symbol.asyncIterator]()
  }) as unknown as Stream
  const a = pushable<Uint8Array>()
  const b = pushable<Uint8Array>()
  return { streams: [make(a, b), make(b, a)], end: () => { a.end(); b.end() } }
}

async function party (): Promise<{ peer: PeerId, party: HandshakeParty }> {
  const peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  return {
    peer,
    party: {
      chain: { chainId: 'test-chain', genesisHash: Uint8Array.of(1, 2, 3), version: '1.0.0' },
      signer: new KeyDidSigner(await generateKeyPair('Ed25519')),
      resolver: new KeyDidResolver(),
      isCompatibleVersion,
      status: () => ({}),
      nonce: () => crypto.getRandomValues(new Uint8Array(NONCE_LENGTH)),
      now: Date.now
    }
  }
}

interface Verdicts {
  admit?: Rejection
  validate?: Rejection
  commit?: Rejection
}

/** A judge that records what it was asked, in order, and answers with `verdicts` */
function judge (calls: string[], role: HandshakeRole, verdicts: Verdicts): HandshakeJudge {
  return {
    heard: () => {},
    admit: () => { calls.push(`${role} admit`); return verdicts.admit },
    validate: async () => { calls.push(`${role} validate`); return verdicts.validate },
    commit: () => { calls.push(`${role} commit`); return verdicts.commit }
  }
}

interface Ending { reason?: ReasonCode, side?: string, stage?: HandshakeStage }

async function run (initiatorVerdicts: Verdicts, responderVerdicts: Verdicts): Promise<{ calls: string[], initiator: Ending, responder: Ending }> {
  const [i, r] = await Promise.all([party(), party()])
  const pair = streamPair()
  const [initiatorStream, responderStream] = pair.streams
  const calls: string[] = []
  const signal = AbortSignal.timeout(2_000)
  const log = defaultLogger().forComponent('test')
  const outcome = async (work: Promise<unknown>): Promise<Ending> => work.then(() => ({}), (err) => {
    assert.ok(isHandshakeError(err), String(err))
    return { reason: err.reason, side: err.side, stage: err.stage }
  })
  const responderChannel = new HandshakeChannel(responderStream, MAX_MESSAGE_SIZE)
  const initiatorChannel = new HandshakeChannel(initiatorStream, MAX_MESSAGE_SIZE)
  const responder = outcome(performHandshake(responderChannel, { role: 'responder', localPeer: r.peer, remotePeer: i.peer, party: r.party, judge: judge(calls, 'responder', responderVerdicts), log }, { signal }))
  const initiator = outcome(performHandshake(initiatorChannel, { role: 'initiator', localPeer: i.peer, remotePeer: r.peer, party: i.party, judge: judge(calls, 'initiator', initiatorVerdicts), log }, { signal }))
  // the service would send a reject and hang up; here the first side to
  // stop ends both streams, so the other one reads the end
  await Promise.race([initiator, responder])
  pair.end()
  return { calls, initiator: await initiator, responder: await responder }
}

describe('performHandshake with a judge', () => {
  it('asks each judge to admit the remote hello, then to commit only after both signatures verify', async () => {
    const { calls, initiator, responder } = await run({}, {})
    assert.deepEqual([initiator, responder], [{}, {}])
    // message 1 → responder admits; message 2 → initiator admits, verifies;
    // message 3 → responder verifies, commits, sends 4 → initiator commits
    // the initiator validates before message 3, the responder before it commits
    assert.deepEqual(calls, ['responder admit', 'initiator admit', 'initiator validate', 'responder validate', 'responder commit', 'initiator commit'])
  })

  const table: Array<[string, Verdicts, Verdicts, 'initiator' | 'responder', Ending, string[]]> = [
    ['the responder refuses the remote at its hello', {}, { admit: { reason: ReasonCode.BANNED, message: 'DID is banned' } },
      'responder', { reason: ReasonCode.BANNED, side: 'local', stage: HandshakeStage.AwaitInitiatorHello }, ['responder admit']],
    ['the initiator refuses the remote at its hello', { admit: { reason: ReasonCode.UNEXPECTED_DID, message: 'moved' } }, {},
      'initiator', { reason: ReasonCode.UNEXPECTED_DID, side: 'local', stage: HandshakeStage.AwaitResponderHello }, ['responder admit', 'initiator admit']],
    ['the initiator\'s application refuses the responder before message 3: the responder never commits', { validate: { reason: ReasonCode.APPLICATION_REJECTED, message: 'fork', appCode: 7 } }, {},
      'initiator', { reason: ReasonCode.APPLICATION_REJECTED, side: 'local', stage: HandshakeStage.Validation }, ['responder admit', 'initiator admit', 'initiator validate']],
    ['the responder\'s application refuses the initiator before it commits', {}, { validate: { reason: ReasonCode.APPLICATION_REJECTED, message: 'fork', appCode: 7 } },
      'responder', { reason: ReasonCode.APPLICATION_REJECTED, side: 'local', stage: HandshakeStage.Validation }, ['responder admit', 'initiator admit', 'initiator validate', 'responder validate']],
    ['the responder is full at commit: no accept is sent', {}, { commit: { reason: ReasonCode.TOO_MANY_PEERS, message: 'full' } },
      'responder', { reason: ReasonCode.TOO_MANY_PEERS, side: 'local', stage: HandshakeStage.Commit }, ['responder admit', 'initiator admit', 'initiator validate', 'responder validate', 'responder commit']],
    ['the connection closed before the initiator commits: the remote\'s doing, never sent', { commit: { reason: ReasonCode.CONNECTION_CLOSED, message: 'closed' } }, {},
      'initiator', { reason: ReasonCode.CONNECTION_CLOSED, side: 'remote', stage: HandshakeStage.Commit }, ['responder admit', 'initiator admit', 'initiator validate', 'responder validate', 'responder commit', 'initiator commit']]
  ]
  for (const [name, initiatorVerdicts, responderVerdicts, stopper, ending, calls] of table) {
    it(name, async () => {
      const result = await run(initiatorVerdicts, responderVerdicts)
      assert.deepEqual(result[stopper], ending)
      assert.deepEqual(result.calls, calls)
    })
  }
})
