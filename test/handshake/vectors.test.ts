import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { test } from 'node:test'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { fromString as uint8ArrayFromString } from 'uint8arrays/from-string'
import { toString as uint8ArrayToString } from 'uint8arrays/to-string'
import { HandshakeStage, isHandshakeError, KeyDidResolver, KeyDidSigner, ReasonCode } from '../../src/index.js'
import { REASON_CODES } from '../../src/reason/index.js'
import { checkRemoteHello, createHello, HandshakeMessage, Hello, MAX_MESSAGE_SIZE, signingInput } from '../../src/handshake/index.js'
import { decodeHello } from '../../src/handshake/channel.js'
import { readGoodbye, sendGoodbye, type Parting } from '../../src/session/goodbye.js'
import { encodeFrame, readFrames } from '../../src/wire/index.js'
import { fakeChannel } from '../utils/fake-stream.js'
import type { ChainIdentity } from '../../src/index.js'
import type { Transcript } from '../../src/handshake/index.js'
import type { Connection, PublicKey, Stream } from '@libp2p/interface'

/**
 * The test vectors of docs/PROTOCOL.md ("Test vectors"), as literals. The test
 * recomputes every value with the handshake code and compares; it never
 * compares the code with itself.
 */
const VECTORS = {
  initiatorDidPublicKey: 'd04ab232742bb4ab3a1368bd4615e4e6d0224ab71a016baf8520a332c9778737',
  responderDidPublicKey: 'a09aa5f47a6759802ff955f8dc2d2a14a5c99d23be97f864127ff9383455a4f0',
  initiatorDid: 'did:key:z6MktULudTtAsAhRegYPiZ6631RV3viv12qd4GQF8z1xB22S',
  responderDid: 'did:key:z6MkqGC3nWZhYieEVTVDKW5v588CiGfsDSmRVG9ZwwWTvLSK',
  initiatorPeerId: '12D3KooWBRFW3HkJCLKSWb4yG6iWRBpgNjbM4FFvNsL5T5JKTqrd',
  responderPeerId: '12D3KooWQJzxKtEUvbt9BZ1uJyAMw2WSEQSShp4my4c3iikhW8Cf',
  initiatorPeerIdMultihash: '00240801122017cb79fb2b4120f2b1ec65e4198d6e08b28e813feb01e4a400839b85e18080ce',
  responderPeerIdMultihash: '002408011220d759793bbc13a2819a827c76adb6fba8a49aee007f49f2d0992d99b825ad2c48',
  initiatorHello: '0801120c766563746f722d636861696e1a20aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2205312e302e302a386469643a6b65793a7a364d6b74554c75645474417341685265675950695a363633315256337669763132716434475146387a317842323253322001010101010101010101010101010101010101010101010101010101010101013880d095ffbc31422408291220bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb',
  responderHello: '0801120c766563746f722d636861696e1a20aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2205312e302e302a386469643a6b65793a7a364d6b714743336e575a6859696545565456444b573576353838436947667344536d525647395a77775754764c534b3220020202020202020202020202020202020202020202020202020202020202020238f4d395ffbc314224082a1220cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc',
  initiatorSigningInput: '0000001f70656572676174652d68616e647368616b652d76312f696e69746961746f720000002600240801122017cb79fb2b4120f2b1ec65e4198d6e08b28e813feb01e4a400839b85e18080ce00000026002408011220d759793bbc13a2819a827c76adb6fba8a49aee007f49f2d0992d99b825ad2c48000000200101010101010101010101010101010101010101010101010101010101010101000000200202020202020202020202020202020202020202020202020202020202020202000000c20801120c766563746f722d636861696e1a20aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2205312e302e302a386469643a6b65793a7a364d6b74554c75645474417341685265675950695a363633315256337669763132716434475146387a317842323253322001010101010101010101010101010101010101010101010101010101010101013880d095ffbc31422408291220bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb000000c20801120c766563746f722d636861696e1a20aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2205312e302e302a386469643a6b65793a7a364d6b714743336e575a6859696545565456444b573576353838436947667344536d525647395a77775754764c534b3220020202020202020202020202020202020202020202020202020202020202020238f4d395ffbc314224082a1220cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc',
  responderSigningInput: '0000001f70656572676174652d68616e647368616b652d76312f726573706f6e6465720000002600240801122017cb79fb2b4120f2b1ec65e4198d6e08b28e813feb01e4a400839b85e18080ce00000026002408011220d759793bbc13a2819a827c76adb6fba8a49aee007f49f2d0992d99b825ad2c48000000200101010101010101010101010101010101010101010101010101010101010101000000200202020202020202020202020202020202020202020202020202020202020202000000c20801120c766563746f722d636861696e1a20aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2205312e302e302a386469643a6b65793a7a364d6b74554c75645474417341685265675950695a363633315256337669763132716434475146387a317842323253322001010101010101010101010101010101010101010101010101010101010101013880d095ffbc31422408291220bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb000000c20801120c766563746f722d636861696e1a20aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2205312e302e302a386469643a6b65793a7a364d6b714743336e575a6859696545565456444b573576353838436947667344536d525647395a77775754764c534b3220020202020202020202020202020202020202020202020202020202020202020238f4d395ffbc314224082a1220cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc',
  initiatorSignature: 'e06e4d331d6db6dd0e392007e3a0b1133c65a4eacebde1c9b2e3d7d03be83cf2a6217b9063863c89993306916f2eb9d8838aecf3f2ee612d708dfe50e7408f03',
  responderSignature: 'e4145a2b3154af3f30cc9c22e684de2e06ead6a20a47c5e385dd2522b8996b93bdd971bf0ddda52bc11f1bac4b79cdc8af7b198200729d296033a47c619c9a03',
  message1: 'c5010ac2010801120c766563746f722d636861696e1a20aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2205312e302e302a386469643a6b65793a7a364d6b74554c75645474417341685265675950695a363633315256337669763132716434475146387a317842323253322001010101010101010101010101010101010101010101010101010101010101013880d095ffbc31422408291220bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb',
  message2: '87020ac2010801120c766563746f722d636861696e1a20aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2205312e302e302a386469643a6b65793a7a364d6b714743336e575a6859696545565456444b573576353838436947667344536d525647395a77775754764c534b3220020202020202020202020202020202020202020202020202020202020202020238f4d395ffbc314224082a1220cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc1240e4145a2b3154af3f30cc9c22e684de2e06ead6a20a47c5e385dd2522b8996b93bdd971bf0ddda52bc11f1bac4b79cdc8af7b198200729d296033a47c619c9a03',
  message3: '421240e06e4d331d6db6dd0e392007e3a0b1133c65a4eacebde1c9b2e3d7d03be83cf2a6217b9063863c89993306916f2eb9d8838aecf3f2ee612d708dfe50e7408f03',
  message4: '022001',
  reject: '0f18012a0b77726f6e6720636861696e',
  helloWithoutHead: '0801120c766563746f722d636861696e1a20aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2205312e302e302a386469643a6b65793a7a364d6b74554c75645474417341685265675950695a363633315256337669763132716434475146387a317842323253322001010101010101010101010101010101010101010101010101010101010101013880d095ffbc31',
  // the long ones as their parts: 08 01, chain_id, genesis_hash, chain_version, did, nonce, timestamp
  helloDid2048: '0801120c766563746f722d636861696e1a20' + 'aa'.repeat(32) + '2205312e302e30' + '2a8010' + '6469643a6578616d706c653a' + 'c3a9'.repeat(1018) + '3220' + '01'.repeat(32) + '3880d095ffbc31',
  helloDid2049: '0801120c766563746f722d636861696e1a20' + 'aa'.repeat(32) + '2205312e302e30' + '2a8110' + '6469643a6578616d706c653a' + 'c3a9'.repeat(1018) + '61' + '3220' + '01'.repeat(32) + '3880d095ffbc31',
  helloChainId128: '0801128001c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a91a20aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2205312e302e302a386469643a6b65793a7a364d6b74554c75645474417341685265675950695a363633315256337669763132716434475146387a317842323253322001010101010101010101010101010101010101010101010101010101010101013880d095ffbc31',
  helloChainId129: '0801128101c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9611a20aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2205312e302e302a386469643a6b65793a7a364d6b74554c75645474417341685265675950695a363633315256337669763132716434475146387a317842323253322001010101010101010101010101010101010101010101010101010101010101013880d095ffbc31',
  helloNonce31: '0801120c766563746f722d636861696e1a20aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2205312e302e302a386469643a6b65793a7a364d6b74554c75645474417341685265675950695a363633315256337669763132716434475146387a317842323253321f010101010101010101010101010101010101010101010101010101010101013880d095ffbc31',
  helloNonce33: '0801120c766563746f722d636861696e1a20aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2205312e302e302a386469643a6b65793a7a364d6b74554c75645474417341685265675950695a363633315256337669763132716434475146387a31784232325332210101010101010101010101010101010101010101010101010101010101010101013880d095ffbc31',
  rejectWrongGenesis: '1818022a1467656e6573697320686173682064696666657273',
  rejectIncompatibleVersion: '3818032a34636861696e2076657273696f6e2022322e302e3022206973206e6f7420636f6d70617469626c6520776974682022312e302e3022',
  rejectMalformed: '2218042a1e6e6f6e6365206d7573742062652033322062797465732c20676f74203331',
  rejectBadSignature: '2818052a247472616e736372697074207369676e617475726520646f6573206e6f7420766572696679',
  rejectDidUnresolvable: '3e18062a3a63616e6e6f74207265736f6c7665206469643a7765623a6e6f64652e6578616d706c652e636f6d3a206e6f742061206469643a6b657920444944',
  rejectBanned: '0a18072a0662616e6e6564',
  rejectSelf: '1f18082a1b72656d6f74652070726573656e7473206f7572206f776e20444944',
  rejectDuplicate: '1e18092a1a7065657220616c72656164792068617320612073657373696f6e',
  rejectTooManyPeers: '21180a2a1d696e626f756e642073657373696f6e206c696d69742072656163686564',
  rejectTimeout: '25180b2a2168616e647368616b652074696d6564206f75742061667465722035303030206d73',
  rejectShutdown: '14180c2a106e6f64652069732073746f7070696e67',
  rejectUnexpectedDid: '22180f2a1e74686520706565722070726573656e74656420616e6f7468657220444944',
  rejectApplication: '1718102a11666f726b20617420686569676874203132302a',
  rejectInboundDisabled: '2a18122a2674686973206e6f646520686f6c6473206e6f2073657373696f6e732028444854206f6e6c7929',
  rejectScoreTooLow: '2218132a1e73636f7265202d32302e37206973206174206f722062656c6f77202d3230',
  rejectTooManyFromIp: '3218142a2e746f6f206d616e7920696e626f756e642073657373696f6e732066726f6d20746869732049502061646472657373',
  goodbyeBanned: '020807',
  goodbyeShutdown: '02080c',
  goodbyeTooManyPeers: '02080a',
  goodbyeApplication: '1f081010091a19796f757220626c6f636b7320646f206e6f7420766572696679',
  rejectDetailCut: '850218042a8002c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9'
}

/** The reject of each code that may be sent (PROTOCOL.md §14.9), with its detail text (and app code) */
const REJECTS: Array<[VectorName, ReasonCode, string, number?]> = [
  ['reject', ReasonCode.WRONG_CHAIN, 'wrong chain'],
  ['rejectWrongGenesis', ReasonCode.WRONG_GENESIS, 'genesis hash differs'],
  ['rejectIncompatibleVersion', ReasonCode.INCOMPATIBLE_VERSION, 'chain version "2.0.0" is not compatible with "1.0.0"'],
  ['rejectMalformed', ReasonCode.MALFORMED, 'nonce must be 32 bytes, got 31'],
  ['rejectBadSignature', ReasonCode.BAD_SIGNATURE, 'transcript signature does not verify'],
  ['rejectDidUnresolvable', ReasonCode.DID_UNRESOLVABLE, 'cannot resolve did:web:node.example.com: not a did:key DID'],
  ['rejectBanned', ReasonCode.BANNED, 'banned'],
  ['rejectSelf', ReasonCode.SELF, 'remote presents our own DID'],
  ['rejectDuplicate', ReasonCode.DUPLICATE, 'peer already has a session'],
  ['rejectTooManyPeers', ReasonCode.TOO_MANY_PEERS, 'inbound session limit reached'],
  ['rejectTimeout', ReasonCode.TIMEOUT, 'handshake timed out after 5000 ms'],
  ['rejectShutdown', ReasonCode.SHUTDOWN, 'node is stopping'],
  ['rejectUnexpectedDid', ReasonCode.UNEXPECTED_DID, 'the peer presented another DID'],
  ['rejectApplication', ReasonCode.APPLICATION_REJECTED, 'fork at height 12', 42],
  ['rejectInboundDisabled', ReasonCode.INBOUND_DISABLED, 'this node holds no sessions (DHT only)'],
  ['rejectScoreTooLow', ReasonCode.SCORE_TOO_LOW, 'score -20.7 is at or below -20'],
  ['rejectTooManyFromIp', ReasonCode.TOO_MANY_FROM_IP, 'too many inbound sessions from this IP address']
]

/** A Goodbye for the ways a session ends (PROTOCOL.md §14.10) */
const GOODBYES: Array<[VectorName, Parting]> = [
  ['goodbyeBanned', { reason: ReasonCode.BANNED }],
  ['goodbyeShutdown', { reason: ReasonCode.SHUTDOWN }],
  // a shed from the inbound burst, as the dial manager sends it: no detail (test/session/goodbye.test.ts)
  ['goodbyeTooManyPeers', { reason: ReasonCode.TOO_MANY_PEERS }],
  ['goodbyeApplication', { reason: ReasonCode.APPLICATION_REJECTED, appCode: 9, detail: 'your blocks do not verify' }]
]

type VectorName = keyof typeof VECTORS

const filled = (length: number, byte: number): Uint8Array => new Uint8Array(length).fill(byte)
const hex = (bytes: Uint8Array): string => uint8ArrayToString(bytes, 'base16')
const unhex = (value: string): Uint8Array => uint8ArrayFromString(value, 'base16')
const frame = (message: Partial<HandshakeMessage>): string => hex(encodeFrame(HandshakeMessage.encode(message)).subarray())

interface Generated {
  values: Record<VectorName, string>
  transcript: Transcript
  initiatorKey: PublicKey
  responderKey: PublicKey
  initiatorSignature: Uint8Array
  responderSignature: Uint8Array
}

/**
 * The generator of the vectors; its inputs are the ones the document lists
 */
async function generate (): Promise<Generated> {
  const chain = { chainId: 'vector-chain', genesisHash: filled(32, 0xaa), version: '1.0.0' }
  const initiatorSigner = new KeyDidSigner(await generateKeyPairFromSeed('Ed25519', filled(32, 0x11)))
  const responderSigner = new KeyDidSigner(await generateKeyPairFromSeed('Ed25519', filled(32, 0x22)))
  const initiatorPeer = peerIdFromPrivateKey(await generateKeyPairFromSeed('Ed25519', filled(32, 0x33)))
  const responderPeer = peerIdFromPrivateKey(await generateKeyPairFromSeed('Ed25519', filled(32, 0x44)))
  const initiatorNonce = filled(32, 0x01)
  const responderNonce = filled(32, 0x02)

  const initiatorHello = Hello.encode(createHello(chain, initiatorSigner.did, initiatorNonce, { height: 41n, hash: filled(32, 0xbb) }, 1_700_000_000_000))
  const responderHello = Hello.encode(createHello(chain, responderSigner.did, responderNonce, { height: 42n, hash: filled(32, 0xcc) }, 1_700_000_000_500))

  const transcript: Transcript = {
    initiatorPeerId: initiatorPeer.toMultihash().bytes,
    responderPeerId: responderPeer.toMultihash().bytes,
    initiatorNonce,
    responderNonce,
    initiatorHello,
    responderHello
  }
  const initiatorInput = signingInput('initiator', transcript)
  const responderInput = signingInput('responder', transcript)
  const initiatorSignature = await initiatorSigner.sign(initiatorInput)
  const responderSignature = await responderSigner.sign(responderInput)

  // §14.7 and §14.8: the initiator's hello without head, and with one field at a boundary
  const bare = (c: ChainIdentity, did: string, nonce: Uint8Array): string => hex(Hello.encode(createHello(c, did, nonce, undefined, 1_700_000_000_000)))
  // §14.9: a reject of each code, and one whose detail the sender cuts
  const rejects = Object.fromEntries(REJECTS.map(([name, reason, detail, appCode]) => [name, frame({ reject: reason, detail, appCode })]))
  const { channel, sent } = fakeChannel([])
  channel.sendReject(ReasonCode.MALFORMED, 'é'.repeat(130))

  return {
    values: {
      // typed as every vector; the values that follow override all but the rejects
      ...rejects as Record<VectorName, string>,
      initiatorDidPublicKey: hex(initiatorSigner.privateKey.publicKey.raw),
      responderDidPublicKey: hex(responderSigner.privateKey.publicKey.raw),
      initiatorDid: initiatorSigner.did,
      responderDid: responderSigner.did,
      initiatorPeerId: initiatorPeer.toString(),
      responderPeerId: responderPeer.toString(),
      initiatorPeerIdMultihash: hex(transcript.initiatorPeerId),
      responderPeerIdMultihash: hex(transcript.responderPeerId),
      initiatorHello: hex(initiatorHello),
      responderHello: hex(responderHello),
      initiatorSigningInput: hex(initiatorInput),
      responderSigningInput: hex(responderInput),
      initiatorSignature: hex(initiatorSignature),
      responderSignature: hex(responderSignature),
      message1: frame({ hello: initiatorHello }),
      message2: frame({ hello: responderHello, signature: responderSignature as Uint8Array<ArrayBuffer> }),
      message3: frame({ signature: initiatorSignature as Uint8Array<ArrayBuffer> }),
      message4: frame({ accept: true }),
      reject: frame({ reject: ReasonCode.WRONG_CHAIN, detail: 'wrong chain' }),
      helloWithoutHead: bare(chain, initiatorSigner.did, initiatorNonce),
      helloDid2048: bare(chain, 'did:example:' + 'é'.repeat(1018), initiatorNonce),
      helloDid2049: bare(chain, 'did:example:' + 'é'.repeat(1018) + 'a', initiatorNonce),
      helloChainId128: bare({ ...chain, chainId: 'é'.repeat(64) }, initiatorSigner.did, initiatorNonce),
      helloChainId129: bare({ ...chain, chainId: 'é'.repeat(64) + 'a' }, initiatorSigner.did, initiatorNonce),
      helloNonce31: bare(chain, initiatorSigner.did, filled(31, 0x01)),
      helloNonce33: bare(chain, initiatorSigner.did, filled(33, 0x01)),
      rejectDetailCut: hex(sent[0])
    },
    transcript,
    initiatorKey: (await new KeyDidResolver().resolve(initiatorSigner.did))[0],
    responderKey: (await new KeyDidResolver().resolve(responderSigner.did))[0],
    initiatorSignature,
    responderSignature
  }
}

const generated = generate()

function assertVectors (values: Record<VectorName, string>, names: VectorName[]): void {
  for (const name of names) {
    assert.equal(values[name], VECTORS[name], name)
  }
}

test('vectors: DID keys, DIDs and peer ids', async () => {
  const { values } = await generated
  assertVectors(values, [
    'initiatorDidPublicKey', 'responderDidPublicKey', 'initiatorDid', 'responderDid',
    'initiatorPeerId', 'responderPeerId', 'initiatorPeerIdMultihash', 'responderPeerIdMultihash'
  ])
})

test('vectors: encoded hellos', async () => {
  const { values } = await generated
  assertVectors(values, ['initiatorHello', 'responderHello'])
})

test('vectors: signing inputs of both roles', async () => {
  const { values } = await generated
  assertVectors(values, ['initiatorSigningInput', 'responderSigningInput'])
})

test('vectors: signatures (Ed25519 signatures are deterministic)', async () => {
  const { values } = await generated
  assertVectors(values, ['initiatorSignature', 'responderSignature'])
})

test('vectors: framed messages 1, 2, 3, 4 and a reject', async () => {
  const { values } = await generated
  assertVectors(values, ['message1', 'message2', 'message3', 'message4', 'reject'])
})

test('vectors: a hello without head, and hellos at the length boundaries', async () => {
  const { values } = await generated
  assertVectors(values, ['helloWithoutHead', 'helloDid2048', 'helloDid2049', 'helloChainId128', 'helloChainId129', 'helloNonce31', 'helloNonce33'])
  assert.equal(VECTORS.helloDid2048.length / 2, 2149)
  assert.equal(VECTORS.helloDid2049.length / 2, 2150)
})

test('vectors: the hellos of §14.7 and §14.8 get the verdicts the document gives', () => {
  const chain = { chainId: 'vector-chain', genesisHash: filled(32, 0xaa), version: '1.0.0' }
  const local = createHello(chain, VECTORS.responderDid, filled(32, 0x02), undefined, 1_700_000_000_500)
  const localOfOtherChain = createHello({ ...chain, chainId: 'é'.repeat(64) }, VECTORS.responderDid, filled(32, 0x02), undefined, 1_700_000_000_500)
  const cases: Array<[VectorName, Hello, ReasonCode | undefined]> = [
    ['helloWithoutHead', local, undefined],
    ['helloDid2048', local, undefined],
    ['helloDid2049', local, ReasonCode.MALFORMED],
    ['helloChainId128', local, ReasonCode.WRONG_CHAIN],
    ['helloChainId128', localOfOtherChain, undefined],
    ['helloChainId129', local, ReasonCode.MALFORMED],
    ['helloChainId129', localOfOtherChain, ReasonCode.MALFORMED],
    ['helloNonce31', local, ReasonCode.MALFORMED],
    ['helloNonce33', local, ReasonCode.MALFORMED]
  ]
  for (const [name, receiver, expected] of cases) {
    const hello = decodeHello(unhex(VECTORS[name]), HandshakeStage.AwaitInitiatorHello)
    assert.equal(checkRemoteHello(receiver, hello)?.reason, expected, `${name} at a receiver of chain ${receiver.chainId.slice(0, 12)}`)
  }
  assert.equal(decodeHello(unhex(VECTORS.helloWithoutHead), HandshakeStage.AwaitInitiatorHello).head, undefined)
  assert.equal(Buffer.byteLength(decodeHello(unhex(VECTORS.helloDid2048), HandshakeStage.AwaitInitiatorHello).did), 2048)
  assert.equal(decodeHello(unhex(VECTORS.helloDid2049), HandshakeStage.AwaitInitiatorHello).did.length, 1031)
})

test('vectors: a reject of every code that may be sent, and a detail cut on a character boundary', async () => {
  const { values } = await generated
  assertVectors(values, [...REJECTS.map(([name]) => name), 'rejectDetailCut'])

  // every code but UNSPECIFIED and the codes never sent (PROTOCOL.md §12)
  const sendable = REASON_CODES.filter(code =>
    ![ReasonCode.UNSPECIFIED, ReasonCode.CONNECTION_CLOSED, ReasonCode.DISCONNECT_REQUESTED, ReasonCode.KEY_REVOKED].includes(code))
  assert.deepEqual(REJECTS.map(([, reason]) => reason).sort(), sendable.sort())

  // each reads back, through a channel, as the remote's reject with its detail
  const expected: Array<[VectorName, ReasonCode, string, number?]> = [...REJECTS, ['rejectDetailCut', ReasonCode.MALFORMED, 'é'.repeat(128)]]
  for (const [name, reason, detail, appCode] of expected) {
    const { channel } = fakeChannel([unhex(VECTORS[name])])
    await assert.rejects(channel.read(HandshakeStage.AwaitResponderHello, {}), (err: Error) => {
      assert.ok(isHandshakeError(err), name)
      assert.equal(err.reason, reason, name)
      assert.equal(err.side, 'remote', name)
      assert.equal(err.appCode, appCode, name)
      assert.equal(err.message, `remote rejected with ${reason}${appCode == null ? '' : ` (application code ${appCode})`}: ${detail}`, name)
      return true
    })
  }
})

test('vectors: the framed messages decode back to the handshake in order', async () => {
  const stream = unhex(VECTORS.message1 + VECTORS.message2 + VECTORS.message3 + VECTORS.message4 + VECTORS.reject)
  const messages: HandshakeMessage[] = []
  for await (const body of readFrames([stream], MAX_MESSAGE_SIZE)) {
    messages.push(HandshakeMessage.decode(body))
  }
  assert.equal(messages.length, 5)
  const [first, second, third, fourth, reject] = messages
  // 1  initiator → responder  { hello }
  assert.equal(hex(first.hello ?? new Uint8Array()), VECTORS.initiatorHello)
  assert.equal(first.signature, undefined)
  assert.equal(first.accept, undefined)
  // 2  responder → initiator  { hello, signature }
  assert.equal(hex(second.hello ?? new Uint8Array()), VECTORS.responderHello)
  assert.equal(hex(second.signature ?? new Uint8Array()), VECTORS.responderSignature)
  assert.equal(second.accept, undefined)
  // 3  initiator → responder  { signature }
  assert.equal(third.hello, undefined)
  assert.equal(hex(third.signature ?? new Uint8Array()), VECTORS.initiatorSignature)
  assert.equal(third.accept, undefined)
  // 4  responder → initiator  { accept }
  assert.equal(fourth.hello, undefined)
  assert.equal(fourth.signature, undefined)
  assert.equal(fourth.accept, true)
  assert.equal(reject.reject, ReasonCode.WRONG_CHAIN)
  assert.equal(reject.detail, 'wrong chain')

  const initiatorHello = Hello.decode(first.hello ?? new Uint8Array())
  assert.equal(initiatorHello.did, VECTORS.initiatorDid)
  assert.equal(initiatorHello.chainId, 'vector-chain')
  assert.equal(initiatorHello.timestamp, 1_700_000_000_000n)
  assert.equal(initiatorHello.head?.height, 41n)

  const responderHello = Hello.decode(second.hello ?? new Uint8Array())
  assert.equal(responderHello.did, VECTORS.responderDid)
  assert.equal(responderHello.chainId, 'vector-chain')
  assert.equal(responderHello.timestamp, 1_700_000_000_500n)
  assert.equal(responderHello.head?.height, 42n)
})

test('vectors: each signature verifies with the resolved DID key and only for its own transcript', async () => {
  const { transcript, initiatorKey, responderKey } = await generated
  const initiatorSignature = unhex(VECTORS.initiatorSignature)
  const responderSignature = unhex(VECTORS.responderSignature)

  assert.equal(hex(initiatorKey.raw), VECTORS.initiatorDidPublicKey)
  assert.equal(hex(responderKey.raw), VECTORS.responderDidPublicKey)
  assert.equal(await initiatorKey.verify(signingInput('initiator', transcript), initiatorSignature), true)
  assert.equal(await responderKey.verify(signingInput('responder', transcript), responderSignature), true)

  // reflection: a signature sent back under the other role does not verify
  assert.equal(await initiatorKey.verify(signingInput('responder', transcript), initiatorSignature), false)
  assert.equal(await responderKey.verify(signingInput('initiator', transcript), responderSignature), false)

  // replay: the verifier's fresh nonce differs from the one the signature was made over
  const freshResponderNonce = { ...transcript, responderNonce: filled(32, 0x03) }
  const freshInitiatorNonce = { ...transcript, initiatorNonce: filled(32, 0x03) }
  assert.equal(await initiatorKey.verify(signingInput('initiator', freshResponderNonce), initiatorSignature), false)
  assert.equal(await responderKey.verify(signingInput('responder', freshInitiatorNonce), responderSignature), false)

  // relay: the same messages on a connection with another authenticated peer id
  const relayed = { ...transcript, responderPeerId: transcript.initiatorPeerId }
  assert.equal(await initiatorKey.verify(signingInput('initiator', relayed), initiatorSignature), false)

  // wrong key: the other DID cannot claim the signature
  assert.equal(await responderKey.verify(signingInput('initiator', transcript), initiatorSignature), false)
})

/** A stand-in inbound stream that delivers `bytes` and then the remote's close, as libp2p's streams announce them */
function streamCarrying (bytes: Uint8Array): Stream {
  const stream = Object.assign(new EventTarget(), { readStatus: 'readable', remoteWriteStatus: 'writable', readBufferLength: 0 })
  setTimeout(() => {
    stream.dispatchEvent(Object.assign(new Event('message'), { data: bytes }))
    stream.remoteWriteStatus = 'closed'
    stream.dispatchEvent(new Event('remoteCloseWrite'))
  }, 0)
  return stream as unknown as Stream
}

test('vectors: a Goodbye as this implementation sends it, and as it reads one', async () => {
  for (const [name, parting] of GOODBYES) {
    const sent: Uint8Array[] = []
    const stream = { send: (data: { subarray(): Uint8Array }) => { sent.push(data.subarray()); return true } }
    const connection = { newStream: async () => stream } as unknown as Connection
    await sendGoodbye(connection, parting, AbortSignal.timeout(1_000))
    assert.equal(sent.map(hex).join(''), VECTORS[name], name)

    assert.deepEqual(await readGoodbye(streamCarrying(unhex(VECTORS[name])), AbortSignal.timeout(1_000)), { appCode: undefined, detail: undefined, ...parting }, name)
  }
})

test('vectors: docs/PROTOCOL.md carries exactly these values', async () => {
  // hex wrapped over lines (the long hellos of §14.8) is read as one value
  const doc = (await readProtocolDoc()).replace(/([0-9a-f])\n(?=[0-9a-f])/g, '$1')
  for (const [name, value] of Object.entries(VECTORS)) {
    assert.ok(doc.includes(value), `docs/PROTOCOL.md lacks ${name}`)
  }
})

/**
 * Finds docs/PROTOCOL.md above this file, whether it runs from test/ or dist/test/
 */
async function readProtocolDoc (): Promise<string> {
  let dir = new URL('./', import.meta.url)
  for (let i = 0; i < 5; i++) {
    try {
      return await readFile(new URL('docs/PROTOCOL.md', dir), 'utf8')
    } catch {
      dir = new URL('../', dir)
    }
  }
  throw new Error('docs/PROTOCOL.md not found')
}
