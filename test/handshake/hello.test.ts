import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isCompatibleVersion, ReasonCode } from '../../src/index.js'
import { VERSION_LINE_BREAKS } from '../../src/chain/index.js'
import { checkRemoteHello, createHello, type Hello } from '../../src/handshake/index.js'

const chain = { chainId: 'table-chain', genesisHash: new Uint8Array(32).fill(0xaa), version: '1.2.3' }
const local = createHello(chain, 'did:key:zLocal', new Uint8Array(32).fill(1), undefined, 1_700_000_000_000)
const remote = createHello(chain, 'did:key:zRemote', new Uint8Array(32).fill(2), { height: 7n, hash: new Uint8Array(32) }, 1_700_000_000_000)

test('checkRemoteHello: one reason per broken field, in priority order', () => {
  const cases: Array<[string, Partial<Hello>, ReasonCode | undefined]> = [
    ['a well-formed hello of the same chain', {}, undefined],
    ['short nonce', { nonce: new Uint8Array(31) }, ReasonCode.MALFORMED],
    ['empty DID', { did: '' }, ReasonCode.MALFORMED],
    ['huge DID', { did: 'did:key:z' + 'a'.repeat(5000) }, ReasonCode.MALFORMED],
    ['huge chain id', { chainId: 'x'.repeat(200) }, ReasonCode.MALFORMED],
    ['other handshake protocol version', { protocolVersion: 2 }, ReasonCode.INCOMPATIBLE_VERSION],
    ['other chain', { chainId: 'other-chain' }, ReasonCode.WRONG_CHAIN],
    ['other genesis', { genesisHash: new Uint8Array(32).fill(0xbb) }, ReasonCode.WRONG_GENESIS],
    ['other chain and genesis: chain reported first', { chainId: 'other', genesisHash: new Uint8Array(1) }, ReasonCode.WRONG_CHAIN],
    ['next major version', { chainVersion: '2.0.0' }, ReasonCode.INCOMPATIBLE_VERSION],
    ['not semver', { chainVersion: 'banana' }, ReasonCode.INCOMPATIBLE_VERSION],
    ['newer minor version', { chainVersion: '1.9.0' }, undefined],
    ['our own DID', { did: 'did:key:zLocal' }, ReasonCode.SELF],
    ['malformed nonce beats wrong chain', { nonce: new Uint8Array(0), chainId: 'other' }, ReasonCode.MALFORMED]
  ]
  for (const [name, change, expected] of cases) {
    const verdict = checkRemoteHello(local, { ...remote, ...change })
    assert.equal(verdict?.reason, expected, name)
  }
})

/** a DID of exactly `bytes` UTF-8 bytes: a prefix, then `fill` characters, then ASCII to make up the rest */
function didOfBytes (bytes: number, fill: string): string {
  const prefix = 'did:example:'
  const fillBytes = Buffer.byteLength(fill)
  const count = Math.floor((bytes - prefix.length) / fillBytes)
  const did = prefix + fill.repeat(count) + 'a'.repeat(bytes - prefix.length - count * fillBytes)
  assert.equal(Buffer.byteLength(did), bytes)
  return did
}

test('checkRemoteHello: DID and chain id lengths are UTF-8 bytes, at the boundaries', () => {
  const cases: Array<[string, Partial<Hello>, ReasonCode | undefined]> = [
    ['DID of 1 byte', { did: 'x' }, undefined],
    ['DID of 2048 ASCII bytes', { did: didOfBytes(2048, 'a') }, undefined],
    ['DID of 2049 ASCII bytes', { did: didOfBytes(2049, 'a') }, ReasonCode.MALFORMED],
    ['DID of 2048 bytes in 2-byte characters (1030 characters)', { did: didOfBytes(2048, 'é') }, undefined],
    ['DID of 2049 bytes in 2-byte characters (1031 characters)', { did: didOfBytes(2049, 'é') }, ReasonCode.MALFORMED],
    ['DID of 2048 bytes in 3-byte characters', { did: didOfBytes(2048, '€') }, undefined],
    ['DID of 2049 bytes in 3-byte characters', { did: didOfBytes(2049, '€') }, ReasonCode.MALFORMED],
    ['DID of 2048 bytes in 4-byte characters', { did: didOfBytes(2048, '😀') }, undefined],
    ['DID of 2049 bytes in 4-byte characters (fewer than 2048 UTF-16 units)', { did: didOfBytes(2049, '😀') }, ReasonCode.MALFORMED],
    ['DID of 2052 bytes ending in a 4-byte character', { did: didOfBytes(2048, 'a') + '😀' }, ReasonCode.MALFORMED],
    // a chain id that passes the length check is then compared: WRONG_CHAIN, not MALFORMED
    ['chain id of 128 ASCII bytes', { chainId: 'c'.repeat(128) }, ReasonCode.WRONG_CHAIN],
    ['chain id of 129 ASCII bytes', { chainId: 'c'.repeat(129) }, ReasonCode.MALFORMED],
    ['chain id of 128 bytes in 2-byte characters (64 characters)', { chainId: 'é'.repeat(64) }, ReasonCode.WRONG_CHAIN],
    ['chain id of 129 bytes, 65 characters', { chainId: 'é'.repeat(64) + 'a' }, ReasonCode.MALFORMED],
    ['chain id of 128 bytes in 4-byte characters', { chainId: '😀'.repeat(32) }, ReasonCode.WRONG_CHAIN],
    ['chain id of 130 bytes, 66 UTF-16 units', { chainId: '😀'.repeat(32) + 'é' }, ReasonCode.MALFORMED]
  ]
  for (const [name, change, expected] of cases) {
    const verdict = checkRemoteHello(local, { ...remote, ...change })
    assert.equal(verdict?.reason, expected, name)
  }
})

test('isCompatibleVersion: semver caret rule', () => {
  const cases: Array<[string, string, boolean]> = [
    ['1.0.0', '1.0.0', true],
    ['1.0.0', '1.5.2', true],
    ['1.5.2', '1.0.0', true],
    ['1.0.0', '2.0.0', false],
    ['0.1.0', '0.1.9', true],
    ['0.1.0', '0.2.0', false],
    ['v1.2.3', '1.0.0-rc.1', true],
    ['1.0', '1.0.0', false],
    ['1.0.0', '', false]
  ]
  for (const [a, b, expected] of cases) {
    assert.equal(isCompatibleVersion(a, b), expected, `${a} vs ${b}`)
  }
})

test('isCompatibleVersion: pre-release and build suffixes, prefixes and odd forms (PROTOCOL.md §8.2)', () => {
  const cases: Array<[string, string, boolean, string]> = [
    // a suffix after - or + is ignored: a pre-release is compatible like its release
    ['1.2.0-rc.1', '1.0.0', true, 'pre-release of a later minor'],
    ['0.1.0-alpha', '0.1.0', true, 'pre-release of the same 0.x release'],
    ['0.1.0-alpha', '0.1.5', true, 'pre-release and a later patch of the same 0.x'],
    ['0.1.0-alpha', '0.2.0', false, 'pre-release of another 0.x minor'],
    ['2.0.0-rc.1', '1.9.0', false, 'pre-release of the next major'],
    ['2.0.0-rc.1', '2.5.0', true, 'pre-release and a release of the same major'],
    ['1.0.0-rc.1', '1.0.0-rc.2', true, 'two pre-releases'],
    ['1.0.0+build.7', '1.9.3', true, 'build metadata'],
    ['1.0.0-rc.1+build.7', '1.0.0', true, 'pre-release and build metadata'],
    ['1.0.0-', '1.0.0', true, 'an empty suffix is still ignored'],
    ['1.0.0+', '1.0.0', true, 'an empty build suffix is still ignored'],
    ['1.0.0-!!', '1.0.0', true, 'the suffix is not checked against semver\'s grammar'],
    ['1.0.0-a\nb', '1.0.0', false, 'a line break in the suffix: does not parse'],
    // the v prefix
    ['v1.0.0', '1.0.0', true, 'lowercase v'],
    ['v0.1.0', 'v0.1.3', true, 'v on both sides'],
    ['V1.0.0', '1.0.0', false, 'uppercase V does not parse'],
    ['vv1.0.0', '1.0.0', false, 'two v do not parse'],
    // the numbers
    ['01.2.3', '1.0.0', true, 'leading zeros are read as numbers'],
    ['0.0.1', '0.0.2', true, '0.0.x: the patch is not compared (npm\'s caret would)'],
    ['999999999.0.0', '999999999.1.0', true, 'nine digits'],
    ['1234567890.0.0', '1234567890.0.0', false, 'ten digits do not parse, not even against themselves'],
    // forms that do not parse
    ['1.0.0.0', '1.0.0', false, 'four numbers'],
    [' 1.0.0', '1.0.0', false, 'leading space'],
    ['1.0.0 ', '1.0.0', false, 'trailing space'],
    ['1.0.0_rc1', '1.0.0', false, 'a suffix that starts with neither - nor +'],
    ['banana', 'banana', false, 'not semver is compatible with nothing, not even itself']
  ]
  for (const [a, b, expected, name] of cases) {
    assert.equal(isCompatibleVersion(a, b), expected, `${name}: ${a} vs ${b}`)
    assert.equal(isCompatibleVersion(b, a), expected, `${name}, the other way round: ${b} vs ${a}`)
  }
})

test('isCompatibleVersion: a suffix holds no line break, exactly the code points of PROTOCOL.md §8.2, and any other character', () => {
  // the set as the spec gives it, in UTF-8
  assert.deepEqual(VERSION_LINE_BREAKS.map(cp => Buffer.from(String.fromCodePoint(cp)).toString('hex')), ['0a', '0b', '0c', '0d', 'c285', 'e280a8', 'e280a9'])
  const breaks = new Set(VERSION_LINE_BREAKS)
  const neighbours = new Set(VERSION_LINE_BREAKS.flatMap(cp => [cp - 1, cp, cp + 1]))
  // tab, the C0 controls around the set, NEL's C1 neighbours, the characters either side of U+2028/9
  assert.deepEqual([...neighbours].filter(cp => !breaks.has(cp)), [0x09, 0x0e, 0x84, 0x86, 0x2027, 0x202a])
  for (const cp of neighbours) {
    const ch = String.fromCodePoint(cp)
    const name = `U+${cp.toString(16).padStart(4, '0')}`
    for (const version of [`1.0.0-${ch}`, `1.0.0-rc${ch}1`, `1.0.0+build${ch}`, `1.0.0-a+b${ch}c`]) {
      assert.equal(isCompatibleVersion(version, '1.0.0'), !breaks.has(cp), `${name} in ${JSON.stringify(version)}`)
      assert.equal(isCompatibleVersion('1.0.0', version), !breaks.has(cp), `${name} in ${JSON.stringify(version)}, the other way round`)
    }
  }
  // a line break never parses elsewhere either; characters outside the BMP are fine in the suffix
  assert.equal(isCompatibleVersion('1.0.0\n', '1.0.0'), false)
  assert.equal(isCompatibleVersion('\n1.0.0', '1.0.0'), false)
  assert.equal(isCompatibleVersion('1.0.0-😀', '1.0.0'), true)
})

test('checkRemoteHello: a chain version whose suffix holds NEL (U+0085) or VT is INCOMPATIBLE_VERSION', () => {
  for (const chainVersion of ['1.2.3-rc\u0085', '1.2.3-rc\v1', '1.2.3+\f', '1.2.3-\u2029']) {
    assert.equal(checkRemoteHello(local, { ...remote, chainVersion })?.reason, ReasonCode.INCOMPATIBLE_VERSION, JSON.stringify(chainVersion))
  }
  assert.equal(checkRemoteHello(local, { ...remote, chainVersion: '1.2.3-rc\u0086' }), undefined)
})
