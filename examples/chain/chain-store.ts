/**
 * The example chain's blocks in the node's datastore, under a key prefix of
 * the chain's own (`/example-chain/<chain id>/…`, clear of peergate's and
 * libp2p's prefixes): one record per block by height, and the head height.
 * A block and the new head are written in one batch, so a restarted node
 * finds a whole chain. The hashes by height stay in memory for the checks a
 * hello needs.
 */

import { Key } from 'interface-datastore'
import { decodeBlock, encodeBlock, equalHashes, genesisBlock, InvalidBlockError, type Block } from './block.js'
import type { Datastore } from 'interface-datastore'

/** Digits of a height in a block key, so keys sort by height */
const HEIGHT_DIGITS = 20

export class ChainStore {
  readonly genesis: Block
  private readonly datastore: Datastore
  private readonly prefix: string
  /** hashes[h] is the hash of the block at height h, genesis included */
  private readonly hashes: Uint8Array[]

  private constructor (datastore: Datastore, chainId: string) {
    this.datastore = datastore
    this.prefix = `/example-chain/${chainId}`
    this.genesis = genesisBlock(chainId)
    this.hashes = [this.genesis.hash]
  }

  /** Opens the chain `chainId` in `datastore`: genesis alone, or the blocks a previous run kept */
  static async open (datastore: Datastore, chainId: string): Promise<ChainStore> {
    const store = new ChainStore(datastore, chainId)
    await store.load()
    return store
  }

  get height (): bigint {
    return BigInt(this.hashes.length - 1)
  }

  get headHash (): Uint8Array {
    return this.hashes[this.hashes.length - 1]
  }

  /** The hash of this chain's block at `height`, if the chain is that long */
  hashAt (height: bigint): Uint8Array | undefined {
    return height >= 0n && height < BigInt(this.hashes.length) ? this.hashes[Number(height)] : undefined
  }

  /** The block at `height` (1 up; genesis is not stored) */
  async get (height: bigint): Promise<Block> {
    if (height === 0n) {
      return this.genesis
    }
    return decodeBlock(await this.datastore.get(this.blockKey(height)))
  }

  /** Blocks `from` … `from + count - 1`, as many of them as this chain has */
  async range (from: bigint, count: number): Promise<Block[]> {
    const blocks: Block[] = []
    for (let height = from; height < from + BigInt(count) && height <= this.height; height++) {
      blocks.push(await this.get(height))
    }
    return blocks
  }

  /** Appends `block` on the head; the caller has checked that it links (`links`) */
  async append (block: Block): Promise<void> {
    if (!this.links(block)) {
      throw new InvalidBlockError(`block ${block.height} does not extend the head at ${this.height}`)
    }
    const batch = this.datastore.batch()
    batch.put(this.blockKey(block.height), encodeBlock(block))
    batch.put(this.headKey(), new TextEncoder().encode(block.height.toString()))
    await batch.commit()
    this.hashes.push(block.hash)
  }

  /** `block` is the next one on this chain's head */
  links (block: Block): boolean {
    return block.height === this.height + 1n && equalHashes(block.parent, this.headHash)
  }

  private async load (): Promise<void> {
    if (!await this.datastore.has(this.headKey())) {
      return
    }
    const head = BigInt(new TextDecoder().decode(await this.datastore.get(this.headKey())))
    for (let height = 1n; height <= head; height++) {
      const block = await this.get(height)
      if (!this.links(block)) {
        throw new InvalidBlockError(`stored block ${height} does not link to block ${height - 1n}`)
      }
      this.hashes.push(block.hash)
    }
  }

  private blockKey (height: bigint): Key {
    return new Key(`${this.prefix}/blocks/${height.toString().padStart(HEIGHT_DIGITS, '0')}`)
  }

  private headKey (): Key {
    return new Key(`${this.prefix}/head`)
  }
}
