/*
 * The fuzz properties of the chain record a data dir keeps
 * (src/node/chain.ts, parseChainRecord and checkSameChain): whatever the
 * record's bytes, the node reads a record or calls it damaged, and then
 * either agrees with it or refuses the chain with an InvalidParametersError.
 * Run by chain.fuzz.test.ts.
 */
import assert from 'node:assert/strict'
import { InvalidParametersError } from '@libp2p/interface'
import { toString as uint8ArrayToString } from 'uint8arrays/to-string'
import { fromString as uint8ArrayFromString } from 'uint8arrays/from-string'
import { checkSameChain, parseChainRecord } from '../../src/node/chain.js'
import { decoderInput, fc, onlyThrows, pool, property } from '../utils/fuzz.js'
import type { ChainIdentity } from '../../src/chain/index.js'

const anyChain: fc.Arbitrary<ChainIdentity> = fc.record({
  chainId: fc.stringMatching(/^[A-Za-z0-9._-]{1,24}$/),
  genesisHash: fc.uint8Array({ minLength: 1, maxLength: 64 }),
  version: fc.constant('1.0.0')
})

/** The record's text, as checkChainRecord writes it */
const recordText = (chain: ChainIdentity): string => JSON.stringify({ chainId: chain.chainId, genesisHash: uint8ArrayToString(chain.genesisHash, 'base16') })

const records = pool('chain records', anyChain.map(chain => uint8ArrayFromString(recordText(chain))))

const LOCAL: ChainIdentity = { chainId: 'fuzz-chain', genesisHash: new Uint8Array(32).fill(0xaa), version: '1.0.0' }

/**
 * Any bytes as a stored chain record: a record with a string chain id and an
 * even number of lowercase hex digits, or none (damaged); never an error.
 * A record read is this chain's or refused with an InvalidParametersError.
 */
export const chainRecord = property(import.meta.url, 'parseChainRecord', fc.tuple(decoderInput(records), fc.boolean()), ([bytes, same]) => {
  const stored = parseChainRecord(uint8ArrayToString(bytes))
  if (stored != null) {
    assert.equal(typeof stored.chainId, 'string')
    assert.match(stored.genesisHash, /^([0-9a-f]{2})+$/)
    const chain = same ? { ...LOCAL, chainId: stored.chainId, genesisHash: Uint8Array.from(Buffer.from(stored.genesisHash, 'hex')) } : LOCAL
    onlyThrows([InvalidParametersError.name], () => { checkSameChain(stored, chain, 'the data dir') })
    if (same) {
      checkSameChain(stored, chain, 'the data dir')
    }
  }
})

/** Every record a node writes reads back, and names its own chain */
export const roundTrip = property(import.meta.url, 'chain record round trip', anyChain, chain => {
  const stored = parseChainRecord(recordText(chain))
  assert.deepEqual(stored, { chainId: chain.chainId, genesisHash: uint8ArrayToString(chain.genesisHash, 'base16') })
  checkSameChain(stored, chain, 'the data dir')
}, { share: 0.05 })
