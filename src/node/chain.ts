import { InvalidParametersError } from '@libp2p/interface'
import { sha256 } from 'multiformats/hashes/sha2'
import { fromString as uint8ArrayFromString } from 'uint8arrays/from-string'
import { CHAIN_ID_PATTERN, CHAIN_RECORD_KEY, DEFAULT_CHAIN_ID, DEFAULT_CHAIN_VERSION } from './constants.js'
import { Key } from 'interface-datastore'
import { equals as uint8ArrayEquals } from 'uint8arrays/equals'
import { toString as uint8ArrayToString } from 'uint8arrays/to-string'
import type { ChainIdentity } from '../chain/index.js'
import type { Datastore } from 'interface-datastore'

export interface ChainOptions {
  /** @default 'peergate-devnet' */
  chainId?: string
  /** genesis hash as bytes or hex; @default sha256("peergate-genesis:" + chainId) */
  genesisHash?: Uint8Array | string
  /** chain software version, semver; @default '0.1.0' */
  version?: string
}

/**
 * Fills in a chain identity. Without a genesis hash, one is derived from the
 * chain id so that nodes started on defaults with the same chain id agree.
 */
export async function resolveChain (options: ChainOptions = {}): Promise<ChainIdentity> {
  const chainId = options.chainId ?? DEFAULT_CHAIN_ID
  if (!CHAIN_ID_PATTERN.test(chainId)) {
    throw new InvalidParametersError(`chain id ${JSON.stringify(chainId)} must be 1-128 characters of A-Z a-z 0-9 . _ -`)
  }
  const genesisHash = options.genesisHash == null
    ? (await sha256.digest(uint8ArrayFromString(`peergate-genesis:${chainId}`))).digest
    : typeof options.genesisHash === 'string' ? parseHex(options.genesisHash, 'genesis hash') : options.genesisHash
  if (genesisHash.byteLength === 0 || genesisHash.byteLength > 64) {
    throw new InvalidParametersError('genesis hash must be 1-64 bytes')
  }
  return { chainId, genesisHash, version: options.version ?? DEFAULT_CHAIN_VERSION }
}

/**
 * Bytes from hex digits, `0x` optional: any whole number of bytes, or with
 * `exactly`, that many (`exactly.what` says what they are in the error, e.g.
 * "a 32-byte hash"); `what` names the value in the error
 */
export function parseHex (value: string, what: string, exactly?: { bytes: number, what: string }): Uint8Array {
  const hex = value.startsWith('0x') ? value.slice(2) : value
  const digits = /^[0-9a-fA-F]+$/.test(hex)
  if (exactly != null && (!digits || hex.length !== exactly.bytes * 2)) {
    throw new InvalidParametersError(`${what} must be ${exactly.what}: ${exactly.bytes * 2} hex digits, 0x optional, got ${JSON.stringify(value)}`)
  }
  if (!digits || hex.length % 2 !== 0) {
    throw new InvalidParametersError(`${what} must be an even number of hex digits, got ${JSON.stringify(value)}`)
  }
  return Uint8Array.from(Buffer.from(hex, 'hex'))
}

/** The chain-scoped Kad-DHT protocol: only peers of the same chain fill the routing table */
export function dhtProtocol (chainId: string): string {
  return `/peergate/${chainId}/kad/1.0.0`
}

/** A chain as the operator reads it: its id and its genesis hash in hex */
export function describeChain (chainId: string, genesisHash: Uint8Array): string {
  return `"${chainId}" (genesis 0x${uint8ArrayToString(genesisHash, 'base16')})`
}

/**
 * Keeps a datastore to one chain: records `chain` (id and genesis hash) on
 * the first start, and refuses another chain later with an
 * InvalidParametersError naming both. `where` names the datastore in that
 * message (the data dir).
 */
export async function checkChainRecord (datastore: Datastore, chain: ChainIdentity, where: string): Promise<void> {
  const key = new Key(CHAIN_RECORD_KEY)
  if (!(await datastore.has(key))) {
    const record = { chainId: chain.chainId, genesisHash: uint8ArrayToString(chain.genesisHash, 'base16') }
    await datastore.put(key, uint8ArrayFromString(JSON.stringify(record)))
    return
  }
  const stored = parseChainRecord(uint8ArrayToString(await datastore.get(key)))
  if (stored == null) {
    throw new InvalidParametersError(`${where} has a damaged chain record (${CHAIN_RECORD_KEY}); it is left as it is: move the data dir aside, or delete that record to adopt this chain`)
  }
  checkSameChain(stored, chain, where)
}

/**
 * Refuses `chain` with an InvalidParametersError naming both when it is not
 * the recorded one (`stored`, genesis hash in hex); `where` names whose
 * record it is
 */
export function checkSameChain (stored: { chainId: string, genesisHash: string }, chain: ChainIdentity, where: string): void {
  const storedGenesis = Uint8Array.from(Buffer.from(stored.genesisHash, 'hex'))
  if (stored.chainId !== chain.chainId || !uint8ArrayEquals(storedGenesis, chain.genesisHash)) {
    throw new InvalidParametersError(`${where} belongs to chain ${describeChain(stored.chainId, storedGenesis)}, not ${describeChain(chain.chainId, chain.genesisHash)}: ` +
      'its contacts, backoffs and bans are that chain\'s; use another data dir for another chain')
  }
}

/** A stored chain record, or undefined when it is not one */
export function parseChainRecord (text: string): { chainId: string, genesisHash: string } | undefined {
  try {
    const record = JSON.parse(text)
    if (typeof record?.chainId === 'string' && typeof record?.genesisHash === 'string' && /^([0-9a-f]{2})+$/.test(record.genesisHash)) {
      return record
    }
  } catch {
    // not JSON: damaged
  }
  return undefined
}
