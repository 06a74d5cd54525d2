import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { InvalidParametersError } from '@libp2p/interface'
import { MAX_TOPIC_BYTES, appTopic, chainTopic, topicProblem } from '../../src/gossip/index.js'

describe('gossip topics', () => {
  const names: Array<[string, unknown, string | undefined]> = [
    ['a plain name', 'blocks', undefined],
    ['a path', 'attestation/63', undefined],
    ['a version', 'txs/v2.1_final-draft', undefined],
    ['non-ASCII', 'blöcke', undefined],
    ['the longest', 'x'.repeat(MAX_TOPIC_BYTES), undefined],
    ['empty', '', 'a topic is a non-empty string'],
    ['not a string', 42, 'a topic is a non-empty string'],
    ['one byte too long', 'x'.repeat(MAX_TOPIC_BYTES + 1), `a topic is at most ${MAX_TOPIC_BYTES} bytes of UTF-8`],
    ['too long in UTF-8 bytes', 'é'.repeat(MAX_TOPIC_BYTES / 2 + 1), `a topic is at most ${MAX_TOPIC_BYTES} bytes of UTF-8`],
    ['a space', 'new blocks', 'a topic has no whitespace or control characters'],
    ['a newline', 'blocks\n', 'a topic has no whitespace or control characters'],
    ['a NUL', 'blocks\u0000', 'a topic has no whitespace or control characters']
  ]
  for (const [what, topic, problem] of names) {
    it(`${what}: ${problem ?? 'a topic'}`, () => {
      assert.equal(topicProblem(topic), problem)
    })
  }

  const scoped: Array<[string, string, string]> = [
    ['devnet-1', 'blocks', '/peergate/devnet-1/blocks'],
    ['devnet-1', 'attestation/63', '/peergate/devnet-1/attestation/63'],
    ['main.net_2', 'txs', '/peergate/main.net_2/txs']
  ]
  for (const [chainId, topic, expected] of scoped) {
    it(`scopes ${topic} on ${chainId} as ${expected}, and back`, () => {
      assert.equal(chainTopic(chainId, topic), expected)
      assert.equal(appTopic(chainId, expected), topic)
    })
  }

  const foreign: Array<[string, string]> = [
    ['another chain', '/peergate/devnet-2/blocks'],
    ['a chain whose id starts with ours', '/peergate/devnet-10/blocks'],
    ['no scope', 'blocks'],
    ['the scope alone', '/peergate/devnet-1/'],
    ['a bad name in our scope', '/peergate/devnet-1/new blocks'],
    ['another prefix', '/eth2/devnet-1/blocks']
  ]
  for (const [what, topic] of foreign) {
    it(`is not a topic of devnet-1: ${what}`, () => {
      assert.equal(appTopic('devnet-1', topic), undefined)
    })
  }

  it('two chains never share a topic', () => {
    assert.notEqual(chainTopic('devnet-1', 'blocks'), chainTopic('devnet-2', 'blocks'))
  })

  it('refuses a bad name with InvalidParametersError', () => {
    assert.throws(() => chainTopic('devnet-1', 'new blocks'), (err: Error) => err.name === InvalidParametersError.name && err.message.includes('whitespace'))
  })
})
