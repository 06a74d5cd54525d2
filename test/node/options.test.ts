/*
 * createPeerNode's options as one definition each: the handshake's options
 * are HandshakeInit's (passed through whole), the own-peer-id address check
 * and hex parsing are written once and shared with the CLI.
 */
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { isSelfAddress, parseHex } from '../../src/node/index.js'
import { TestNetwork } from '../utils/nodes.js'
import type { HandshakeInit, PeerNodeOptions } from '../../src/index.js'

const net = new TestNetwork()
after(async () => { await net.cleanup() })

/** true when A and B are the same type */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false

test('PeerNodeOptions.handshake is HandshakeInit but for what createPeerNode supplies (chain, signer, resolver, head, now)', () => {
  const derived: Equal<keyof NonNullable<PeerNodeOptions['handshake']>, Exclude<keyof HandshakeInit, 'chain' | 'signer' | 'resolver' | 'head' | 'now'>> = true
  assert.equal(derived, true)
})

test('every handshake option reaches the handshake service: its own checks refuse a bad one', async () => {
  const cases: Array<[NonNullable<PeerNodeOptions['handshake']>, RegExp]> = [
    [{ timeout: 0 }, /^handshake timeout must be a positive number, got 0$/],
    [{ maxMessageSize: -1 }, /^handshake maxMessageSize must be a positive number, got -1$/],
    [{ firstMessageTimeout: 0 }, /^handshake firstMessageTimeout must be a positive number/],
    [{ maxInboundHandshakes: 0 }, /^handshake maxInboundHandshakes must be a positive number/],
    [{ maxInboundHandshakesPerIp: 0 }, /^handshake maxInboundHandshakesPerIp must be a positive number/],
    [{ statusInterval: -5 }, /^handshake statusInterval must be a number >= 0 or false, got -5$/]
  ]
  for (const [handshake, message] of cases) {
    await assert.rejects(net.node({ handshake }), { name: 'InvalidParametersError', message }, JSON.stringify(handshake))
  }
})

test('hex: any whole number of bytes, or exactly so many, 0x optional, a message naming the value', () => {
  const ok: Array<[string, number[], { bytes: number, what: string }?]> = [
    ['0xabcd', [0xab, 0xcd]],
    ['ABCD', [0xab, 0xcd]],
    ['00'.repeat(32), new Array(32).fill(0), { bytes: 32, what: 'a 32-byte hash' }],
    [`0x${'ff'.repeat(32)}`, new Array(32).fill(0xff), { bytes: 32, what: 'a 32-byte hash' }]
  ]
  for (const [value, bytes, exactly] of ok) {
    assert.deepEqual([...parseHex(value, 'x', exactly)], bytes, value)
  }
  const bad: Array<[string, RegExp, { bytes: number, what: string }?]> = [
    ['', /^genesis hash must be an even number of hex digits, got ""$/],
    ['0x', /^genesis hash must be an even number of hex digits, got "0x"$/],
    ['abc', /^genesis hash must be an even number of hex digits, got "abc"$/],
    ['zz', /^genesis hash must be an even number of hex digits, got "zz"$/],
    ['zz', /^--genesis must be a 32-byte hash: 64 hex digits, 0x optional, got "zz"$/, { bytes: 32, what: 'a 32-byte hash' }],
    ['0xabcd', /^--genesis must be a 32-byte hash: 64 hex digits, 0x optional, got "0xabcd"$/, { bytes: 32, what: 'a 32-byte hash' }],
    ['', /^--genesis must be a 32-byte hash/, { bytes: 32, what: 'a 32-byte hash' }]
  ]
  for (const [value, message, exactly] of bad) {
    assert.throws(() => parseHex(value, exactly == null ? 'genesis hash' : '--genesis', exactly), { name: 'InvalidParametersError', message }, value)
  }
})

test('an address names this node when its /p2p/ peer id is the node\'s own', async () => {
  const self = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  const other = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  const cases: Array<[string | ReturnType<typeof multiaddr>, boolean]> = [
    [`/ip4/127.0.0.1/tcp/9/p2p/${self.toString()}`, true],
    [multiaddr(`/ip4/127.0.0.1/tcp/9/p2p/${self.toString()}`), true],
    [`/dns4/example.org/tcp/4001/p2p/${self.toString()}`, true],
    [`/ip4/127.0.0.1/tcp/9/p2p/${other.toString()}`, false],
    ['/ip4/127.0.0.1/tcp/9', false],
    ['not a multiaddr', false]
  ]
  for (const [addr, expected] of cases) {
    assert.equal(isSelfAddress(addr, self), expected, addr.toString())
  }
})

test('transports (labs, simulations): a memory listen address is refused with peergate\'s TCP, taken with memory(), and two such nodes hold a session', async () => {
  const { createPeerNode } = await import('../../src/index.js')
  const { memory } = await import('@libp2p/memory')
  const { MemoryDatastore } = await import('datastore-core')
  await assert.rejects(createPeerNode({ datastore: new MemoryDatastore(), listen: ['/memory/options-test-refused'] }), { name: 'InvalidParametersError', message: /is not a TCP address/ })
  const a = await createPeerNode({ datastore: new MemoryDatastore(), listen: ['/memory/options-test-a'], transports: [memory()] })
  const b = await createPeerNode({ datastore: new MemoryDatastore(), listen: ['/memory/options-test-b'], transports: [memory()], bootstrap: [a.getMultiaddrs()[0]] })
  try {
    assert.equal(a.getMultiaddrs()[0].toString().startsWith('/memory/options-test-a/p2p/'), true)
    const deadline = Date.now() + 10_000
    while (b.sessions().length === 0 && Date.now() < deadline) {
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    assert.deepEqual(b.sessions().map(s => s.peerId.toString()), [a.peerId.toString()])
  } finally {
    await Promise.all([a.stop(), b.stop()])
  }
})
