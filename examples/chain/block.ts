/**
 * The example chain's blocks and the bytes its two protocols carry: pure
 * functions, no I/O.
 *
 * A block is `{ height, parent, payload, hash }` with
 * `hash = sha256(height ‖ parent ‖ payload)`, the height a big-endian uint64
 * and the parent the previous block's 32-byte hash. On the wire a block is
 * `height (8) ‖ parent (32) ‖ payload`; the receiver computes the hash, so a
 * block cannot arrive with a hash that does not match it.
 */

import { createHash } from 'node:crypto'

export const HASH_BYTES = 32
const HEIGHT_BYTES = 8
const HEADER_BYTES = HEIGHT_BYTES + HASH_BYTES

/** Largest payload a block may carry: the example's blocks carry a short note */
export const MAX_PAYLOAD_BYTES = 1024
/** Largest encoded block: the gossip channel's message limit */
export const MAX_BLOCK_BYTES = HEADER_BYTES + MAX_PAYLOAD_BYTES
/** Most blocks one sync request may ask for (and one response carry) */
export const MAX_SYNC_BLOCKS = 64
/**
 * Blocks a node serves one peer by sync per SYNC_RATE_PERIOD_MS, counted in
 * the blocks each request asks for (peergate's `rateLimit.cost`), as
 * Lodestar limits BlocksByRange to 1,024 blocks per 10 s: 16 full requests at
 * once, then one every 625 ms. The requester paces itself to it.
 */
export const SYNC_RATE_LIMIT_BLOCKS = 1024
/** The period of SYNC_RATE_LIMIT_BLOCKS, in ms */
export const SYNC_RATE_PERIOD_MS = 10_000
/** A sync request: from height (uint64) ‖ count (uint32) */
export const SYNC_REQUEST_BYTES = HEIGHT_BYTES + 4
/** Largest sync response: a uint16 count, then each block behind a uint32 length */
export const MAX_SYNC_RESPONSE_BYTES = 2 + MAX_SYNC_BLOCKS * (4 + MAX_BLOCK_BYTES)

export interface Block {
  height: bigint
  parent: Uint8Array
  payload: Uint8Array
  hash: Uint8Array
}

/** A block or sync message that does not decode */
export class InvalidBlockError extends Error {
  static override name = 'InvalidBlockError'
  override name = 'InvalidBlockError'

  constructor (message = 'invalid block') {
    super(message)
  }
}

export function hashBlock (height: bigint, parent: Uint8Array, payload: Uint8Array): Uint8Array {
  const header = new Uint8Array(HEIGHT_BYTES)
  new DataView(header.buffer).setBigUint64(0, height)
  return Uint8Array.from(createHash('sha256').update(header).update(parent).update(payload).digest())
}

export function makeBlock (height: bigint, parent: Uint8Array, payload: Uint8Array): Block {
  if (parent.byteLength !== HASH_BYTES) {
    throw new InvalidBlockError(`parent must be ${HASH_BYTES} bytes`)
  }
  if (payload.byteLength > MAX_PAYLOAD_BYTES) {
    throw new InvalidBlockError(`payload over ${MAX_PAYLOAD_BYTES} bytes`)
  }
  return { height, parent, payload, hash: hashBlock(height, parent, payload) }
}

/**
 * Block 0 of the chain `chainId`: its hash is the chain's genesis hash, which
 * every hello carries, so nodes of another genesis never get a session
 */
export function genesisBlock (chainId: string): Block {
  return makeBlock(0n, new Uint8Array(HASH_BYTES), new TextEncoder().encode(`example-chain genesis:${chainId}`))
}

/**
 * The first block of a fork: the same genesis, another block 1 (for the
 * fork test)
 */
export function forkBlock (genesis: Block, seed: string): Block {
  return makeBlock(1n, genesis.hash, new TextEncoder().encode(`fork:${seed}`))
}

export function encodeBlock (block: Block): Uint8Array {
  const bytes = new Uint8Array(HEADER_BYTES + block.payload.byteLength)
  new DataView(bytes.buffer).setBigUint64(0, block.height)
  bytes.set(block.parent, HEIGHT_BYTES)
  bytes.set(block.payload, HEADER_BYTES)
  return bytes
}

export function decodeBlock (bytes: Uint8Array): Block {
  if (bytes.byteLength < HEADER_BYTES || bytes.byteLength > MAX_BLOCK_BYTES) {
    throw new InvalidBlockError(`a block is ${HEADER_BYTES}-${MAX_BLOCK_BYTES} bytes, got ${bytes.byteLength}`)
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return makeBlock(view.getBigUint64(0), bytes.slice(HEIGHT_BYTES, HEADER_BYTES), bytes.slice(HEADER_BYTES))
}

export interface SyncRequest {
  from: bigint
  count: number
}

export function encodeSyncRequest (request: SyncRequest): Uint8Array {
  const bytes = new Uint8Array(SYNC_REQUEST_BYTES)
  const view = new DataView(bytes.buffer)
  view.setBigUint64(0, request.from)
  view.setUint32(HEIGHT_BYTES, request.count)
  return bytes
}

/** A sync request, refused unless it asks for 1 to MAX_SYNC_BLOCKS blocks from height 1 up */
export function decodeSyncRequest (bytes: Uint8Array): SyncRequest {
  if (bytes.byteLength !== SYNC_REQUEST_BYTES) {
    throw new InvalidBlockError(`a sync request is ${SYNC_REQUEST_BYTES} bytes, got ${bytes.byteLength}`)
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const request = { from: view.getBigUint64(0), count: view.getUint32(HEIGHT_BYTES) }
  if (request.from < 1n || request.count < 1 || request.count > MAX_SYNC_BLOCKS) {
    throw new InvalidBlockError(`a sync request asks for 1-${MAX_SYNC_BLOCKS} blocks from height 1, got ${request.count} from ${request.from}`)
  }
  return request
}

export function encodeSyncResponse (blocks: Block[]): Uint8Array {
  const encoded = blocks.map(encodeBlock)
  const bytes = new Uint8Array(2 + encoded.reduce((sum, b) => sum + 4 + b.byteLength, 0))
  const view = new DataView(bytes.buffer)
  view.setUint16(0, encoded.length)
  let offset = 2
  for (const block of encoded) {
    view.setUint32(offset, block.byteLength)
    bytes.set(block, offset + 4)
    offset += 4 + block.byteLength
  }
  return bytes
}

export function decodeSyncResponse (bytes: Uint8Array): Block[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (bytes.byteLength < 2) {
    throw new InvalidBlockError('sync response without a count')
  }
  const count = view.getUint16(0)
  if (count > MAX_SYNC_BLOCKS) {
    throw new InvalidBlockError(`sync response of ${count} blocks, over ${MAX_SYNC_BLOCKS}`)
  }
  const blocks: Block[] = []
  let offset = 2
  for (let i = 0; i < count; i++) {
    if (offset + 4 > bytes.byteLength) {
      throw new InvalidBlockError('sync response ends inside a length')
    }
    const length = view.getUint32(offset)
    if (offset + 4 + length > bytes.byteLength) {
      throw new InvalidBlockError('sync response ends inside a block')
    }
    blocks.push(decodeBlock(bytes.subarray(offset + 4, offset + 4 + length)))
    offset += 4 + length
  }
  if (offset !== bytes.byteLength) {
    throw new InvalidBlockError('bytes after the last block of a sync response')
  }
  return blocks
}

export function equalHashes (a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((byte, i) => byte === b[i])
}

export function toHex (bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex')
}
