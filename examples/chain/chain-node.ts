/**
 * A small chain on peergate's public API, as a user would build it:
 *
 * - the hello's head and `validateRemote` refuse a fork before any session;
 * - new blocks travel as gossip (gossipsub on sessions: `node.pubsub`), the
 *   chain's validator deciding which to forward; `relay: 'flood'` sends them
 *   on a notification channel to every session peer instead, each node
 *   relaying once (what the example did before gossip, kept to compare the two
 *   on one network: `npm run lab`);
 * - a node that misses blocks asks a session peer for them on a
 *   request/response protocol, a bounded range at a time;
 * - the blocks live in the node's datastore, so a restarted node keeps them.
 *
 * peergate is imported by its package name only.
 */

import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { LevelDatastore } from 'datastore-level'
import { createPeerNode, fullBucket, ReasonCode, ResultCode, takeTokens, waitMs } from 'peergate'
import {
  decodeBlock, decodeSyncRequest, decodeSyncResponse, encodeBlock, encodeSyncRequest, encodeSyncResponse, equalHashes,
  forkBlock, makeBlock, toHex, MAX_BLOCK_BYTES, MAX_SYNC_BLOCKS, MAX_SYNC_RESPONSE_BYTES, SYNC_RATE_LIMIT_BLOCKS, SYNC_RATE_PERIOD_MS, SYNC_REQUEST_BYTES, type Block
} from './block.js'
import { ChainStore } from './chain-store.js'
import type { ApplicationRejection, Bucket, BucketRate, GossipMessage, GossipVerdict, NotificationChannel, PeerNode, RemoteInfo, Response, Session } from 'peergate'

/** The gossip topic of new blocks (peergate scopes it to the chain: `/peergate/<chain id>/blocks`) */
export const BLOCKS_TOPIC = 'blocks'
/** New blocks with `relay: 'flood'`, one notification per block */
export const BLOCKS_PROTOCOL = '/example-chain/blocks/1.0.0'
/** A range of blocks by height, on request */
export const SYNC_PROTOCOL = '/example-chain/sync/1.0.0'
/** `appCode` of a refusal because the peer is on another fork (with APPLICATION_REJECTED) */
export const FORK_APP_CODE = 1
/** The producer makes a block this often unless told */
export const DEFAULT_BLOCK_MS = 500
/** A sync request waits this long for its answer: 64 blocks of 1 KiB are quick on any link */
const SYNC_TIMEOUT_MS = 5_000
/** The directory of the LevelDB datastore inside `dataDir` */
const DATASTORE_DIR = 'datastore'

export interface ChainNodeOptions {
  dataDir: string
  listen: string[]
  bootstrap: string[]
  chainId: string
  /** make a block every `blockMs` */
  produce: boolean
  blockMs: number
  /** start from another block 1 (same genesis): a fork, for the fork test */
  forkSeed?: string
  /**
   * how new blocks spread: `gossip` (default) over gossipsub's mesh, or
   * `flood`, every node sending each new block to all its session peers
   */
  relay?: BlockRelay
  /**
   * source addresses outside the limit of inbound sessions per IP (4): the
   * demo and its test run every node on 127.0.0.1 and exempt it
   */
  ipLimitExempt?: string[]
  /** every event, as the CLI prints it */
  onEvent(event: ChainEvent): void
}

export type BlockRelay = 'gossip' | 'flood'

/** Whether blocks spread by gossip (the default) rather than by the flood relay */
function gossips (options: Pick<ChainNodeOptions, 'relay'>): boolean {
  return (options.relay ?? 'gossip') === 'gossip'
}

interface HeadJson { height: number, hash: string }

/** The sync protocol's rate limit, served and kept to: SYNC_RATE_LIMIT_BLOCKS per SYNC_RATE_PERIOD_MS */
const SYNC_RATE: BucketRate = { limit: SYNC_RATE_LIMIT_BLOCKS, periodMs: SYNC_RATE_PERIOD_MS }

/** What the node reports; `t` is ms since the epoch */
export type ChainEvent = { t: number } & (
  | { event: 'ready', peerId: string, did: string, chainId: string, addrs: string[], head: HeadJson }
  /** a block this node accepted (`from`: the DID of the peer it came from) */
  | { event: 'block', height: number, hash: string, source: 'produced' | 'gossip' | 'sync' | 'fork-seed', from?: string }
  | { event: 'session-open', peerId: string, did: string, direction: string, head?: HeadJson }
  | { event: 'session-close', peerId: string, did: string, reason: string, side: string, appCode?: number, message?: string }
  | { event: 'reject', peerId: string, did?: string, reason: string, side: string, appCode?: number, message: string }
  /** a sync run reached its target: the peer's head, or the parent of a gossiped block */
  | { event: 'synced', height: number, from: string, blocks: number, ms: number }
  | { event: 'sync-failed', from: string, message: string }
  | { event: 'stopped' }
)

export class ChainNode {
  readonly node: PeerNode
  private readonly store: ChainStore
  private readonly datastore: LevelDatastore
  private readonly options: ChainNodeOptions
  private blocks?: NotificationChannel
  private producer?: ReturnType<typeof setInterval>
  /** every change of the chain runs here, one at a time */
  private queue: Promise<unknown> = Promise.resolve()
  /** one sync run at a time; gossip brings whatever it missed */
  private syncing = false
  /**
   * the blocks this node may still ask for: one bucket with the serving
   * side's rate for every peer it syncs from, which keeps it under each
   * peer's limit (and the runs are one at a time anyway)
   */
  private syncBucket: Bucket = fullBucket(SYNC_RATE, performance.now())
  /** set by `stop`: the chain takes no more changes, its datastore is closing */
  private stopping = false

  private constructor (node: PeerNode, store: ChainStore, datastore: LevelDatastore, options: ChainNodeOptions) {
    this.node = node
    this.store = store
    this.datastore = datastore
    this.options = options
  }

  /**
   * Opens the chain, then the node. The head must be known before the node
   * starts, as its first dials go out at once and every hello carries it: so
   * the example opens the LevelDB datastore itself and gives it to
   * `createPeerNode`, which keeps its keys, peer store and address book in it
   * too (`node.datastore` is this datastore).
   */
  static async start (options: ChainNodeOptions): Promise<ChainNode> {
    await mkdir(options.dataDir, { recursive: true })
    const datastore = new LevelDatastore(join(options.dataDir, DATASTORE_DIR))
    await datastore.open()
    let node: PeerNode | undefined
    try {
      const store = await ChainStore.open(datastore, options.chainId)
      let seeded: Block | undefined
      if (options.forkSeed != null && store.height === 0n) {
        seeded = forkBlock(store.genesis, options.forkSeed)
        await store.append(seeded)
      }
      node = await createPeerNode({
        datastore,
        listen: options.listen,
        bootstrap: options.bootstrap,
        chain: { chainId: options.chainId, genesisHash: store.genesis.hash },
        head: { height: store.height, hash: store.headHash },
        limits: { ipLimitExempt: options.ipLimitExempt },
        pubsub: gossips(options),
        handshake: {
          // asked on both sides once the peer's signature verified, before
          // any session opens; a refusal reaches the peer as
          // APPLICATION_REJECTED with app code 1
          validateRemote: (remote) => validateHead(store, remote)
        }
      })
      const chain = new ChainNode(node, store, datastore, options)
      await chain.serve()
      if (seeded != null) {
        chain.emit({ event: 'block', height: Number(seeded.height), hash: toHex(seeded.hash), source: 'fork-seed' })
      }
      return chain
    } catch (err) {
      await node?.stop()
      await datastore.close()
      throw err
    }
  }

  get height (): bigint {
    return this.store.height
  }

  async stop (): Promise<void> {
    this.stopping = true
    clearInterval(this.producer)
    await this.queue
    await this.blocks?.close()
    if (this.gossip) {
      this.node.pubsub.unsubscribe(BLOCKS_TOPIC)
    }
    await this.node.stop()
    await this.datastore.close()
    this.emit({ event: 'stopped' })
  }

  private async serve (): Promise<void> {
    const node = this.node
    node.addEventListener('session:open', (evt) => { this.onSessionOpen(evt.detail) })
    node.addEventListener('session:close', (evt) => {
      const { session, reason, side, appCode, message } = evt.detail
      this.emit({ event: 'session-close', peerId: session.peerId.toString(), did: session.did, reason, side, appCode, message })
    })
    node.addEventListener('session:reject', (evt) => {
      const { peerId, reason, side, appCode, message, remote } = evt.detail
      this.emit({ event: 'reject', peerId: peerId.toString(), did: remote?.did, reason, side, appCode, message })
    })

    if (this.gossip) {
      // the validator decides what the mesh forwards: only a block this chain just added
      node.pubsub.topicValidators.set(BLOCKS_TOPIC, async (message) => await this.validateBlock(message))
      node.pubsub.subscribe(BLOCKS_TOPIC)
    } else {
      this.blocks = await node.notifications(BLOCKS_PROTOCOL, {
        maxMessageBytes: MAX_BLOCK_BYTES,
        onMessage: (bytes, session) => { void this.receive(bytes, session).catch(() => {}) }
      })
    }
    await node.handleRequests(SYNC_PROTOCOL, async (bytes) => await this.serveSync(bytes), {
      maxRequestBytes: SYNC_REQUEST_BYTES,
      maxResponseBytes: MAX_SYNC_RESPONSE_BYTES,
      // counted in blocks: an undecodable request is INVALID_REQUEST before the handler
      rateLimit: { ...SYNC_RATE, cost: (bytes) => decodeSyncRequest(bytes).count }
    })

    this.emit({
      event: 'ready',
      peerId: node.peerId.toString(),
      did: node.did,
      chainId: node.chain.chainId,
      addrs: node.getMultiaddrs().map(String),
      head: { height: Number(this.store.height), hash: toHex(this.store.headHash) }
    })
    // sessions that opened while the node was starting
    for (const session of node.sessions()) {
      this.onSessionOpen(session)
    }
    if (this.options.produce) {
      this.producer = setInterval(() => {
        this.serial(async () => { await this.produce() }).catch(() => {})
      }, this.options.blockMs)
    }
  }

  private onSessionOpen (session: Session): void {
    if (session.state.has('example-chain:seen')) {
      return
    }
    session.state.set('example-chain:seen', true)
    this.emit({ event: 'session-open', peerId: session.peerId.toString(), did: session.did, direction: session.direction, head: headJson(session.head) })
    if (session.head != null && session.head.height > this.store.height) {
      void this.sync(session, session.head.height)
    }
  }

  private async produce (): Promise<void> {
    const height = this.store.height + 1n
    const block = makeBlock(height, this.store.headHash, new TextEncoder().encode(`${this.options.chainId} block ${height} at ${Date.now()}`))
    await this.commit(block, 'produced')
  }

  private get gossip (): boolean {
    return gossips(this.options)
  }

  /**
   * A gossiped block, before the mesh forwards it: the next block is added
   * and forwarded, a duplicate is dropped quietly, a block that does not
   * decode or is on another fork is rejected (the fork's sender is also
   * disconnected, as a hello would have refused it)
   */
  private async validateBlock (message: GossipMessage): Promise<GossipVerdict> {
    const outcome = await this.receive(message.data, message.receivedFrom)
    return outcome === 'added' ? 'accept' : outcome === 'fork' || outcome === 'malformed' ? 'reject' : 'ignore'
  }

  /** A new block from a session peer: a duplicate is dropped, the next block is kept, a gap is synced first */
  private async receive (bytes: Uint8Array, session: Session): Promise<'added' | 'duplicate' | 'gap' | 'fork' | 'malformed'> {
    let block: Block
    try {
      block = decodeBlock(bytes)
    } catch {
      return 'malformed'
    }
    let outcome = await this.serial(async () => await this.accept(block, session, 'gossip'))
    if (outcome === 'gap') {
      await this.sync(session, block.height - 1n)
      outcome = await this.serial(async () => await this.accept(block, session, 'gossip'))
    }
    return outcome
  }

  /** Runs in the queue: what `block` from `session` means to this chain */
  private async accept (block: Block, session: Session, source: 'gossip' | 'sync'): Promise<'added' | 'duplicate' | 'gap' | 'fork'> {
    const known = this.store.hashAt(block.height)
    if (known != null) {
      if (equalHashes(known, block.hash)) {
        return 'duplicate'
      }
      await this.refuseFork(session, block.height)
      return 'fork'
    }
    if (block.height > this.store.height + 1n) {
      return 'gap'
    }
    if (!this.store.links(block)) {
      await this.refuseFork(session, this.store.height)
      return 'fork'
    }
    await this.commit(block, source, session)
    return 'added'
  }

  /**
   * Stores `block` on the head and announces the new head in later hellos. A
   * produced block is published; a gossiped one is forwarded by the mesh once
   * its validator accepts it, or with `relay: 'flood'` sent on to every other
   * session peer.
   */
  private async commit (block: Block, source: 'produced' | 'gossip' | 'sync', from?: Session): Promise<void> {
    await this.store.append(block)
    this.node.setHead({ height: block.height, hash: block.hash })
    this.emit({ event: 'block', height: Number(block.height), hash: toHex(block.hash), source, from: from?.did })
    if (source === 'produced' && this.gossip) {
      this.node.pubsub.publish(BLOCKS_TOPIC, encodeBlock(block)).catch(() => {})
    } else if (source !== 'sync' && !this.gossip) {
      this.blocks?.broadcast(encodeBlock(block), { except: from?.peerId }).catch(() => {})
    }
  }

  /** A session peer showed a block that conflicts with this chain: it ends, as a hello would have refused it */
  private async refuseFork (session: Session, height: bigint): Promise<void> {
    await this.node.disconnect(session.peerId, ReasonCode.APPLICATION_REJECTED, { appCode: FORK_APP_CODE, detail: `fork at height ${height}` })
  }

  /** Asks `session`'s peer for the blocks up to `target`, at most MAX_SYNC_BLOCKS per request */
  private async sync (session: Session, target: bigint): Promise<void> {
    if (this.syncing) {
      return
    }
    this.syncing = true
    const started = Date.now()
    let received = 0
    try {
      while (this.store.height < target && !session.signal.aborted) {
        const from = this.store.height + 1n
        const count = Number(target - this.store.height < BigInt(MAX_SYNC_BLOCKS) ? target - this.store.height : BigInt(MAX_SYNC_BLOCKS))
        // kept under the peer's limit, so that it never refuses (nor reports) this node
        await delay(waitMs(this.syncBucket, count, SYNC_RATE, performance.now()), session.signal)
        if (session.signal.aborted) {
          break
        }
        this.syncBucket = takeTokens(this.syncBucket, count, SYNC_RATE, performance.now()).bucket
        const { payload } = await this.request(session.peerId, encodeSyncRequest({ from, count }))
        const blocks = decodeSyncResponse(payload)
        if (blocks.length === 0 || blocks[0].height !== from) {
          break
        }
        for (const block of blocks) {
          const outcome = await this.serial(async () => await this.accept(block, session, 'sync'))
          if (outcome === 'fork') {
            return
          }
          received += outcome === 'added' ? 1 : 0
        }
      }
      if (this.store.height >= target) {
        this.emit({ event: 'synced', height: Number(this.store.height), from: session.did, blocks: received, ms: Date.now() - started })
      }
    } catch (err: any) {
      if (!this.stopping) {
        this.emit({ event: 'sync-failed', from: session.did, message: `${err.name}: ${err.message}` })
      }
    } finally {
      this.syncing = false
    }
  }

  private async request (peer: Session['peerId'], bytes: Uint8Array): Promise<{ payload: Uint8Array }> {
    return await this.node.request(peer, SYNC_PROTOCOL, bytes, {
      timeoutMs: SYNC_TIMEOUT_MS,
      maxRequestBytes: SYNC_REQUEST_BYTES,
      maxResponseBytes: MAX_SYNC_RESPONSE_BYTES
    })
  }

  private async serveSync (bytes: Uint8Array): Promise<Uint8Array | Response> {
    let request
    try {
      request = decodeSyncRequest(bytes)
    } catch (err: any) {
      return { code: ResultCode.INVALID_REQUEST, message: err.message }
    }
    return encodeSyncResponse(await this.store.range(request.from, request.count))
  }

  private async serial<T> (work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(async () => {
      if (this.stopping) {
        throw new ChainStoppingError()
      }
      return await work()
    })
    this.queue = result.catch(() => {})
    return await result
  }

  private emit (event: DistributiveOmit<ChainEvent, 't'>): void {
    this.options.onEvent({ t: Date.now(), ...event } as ChainEvent)
  }
}

/** The node is stopping: its chain takes no more blocks */
export class ChainStoppingError extends Error {
  static override name = 'ChainStoppingError'
  override name = 'ChainStoppingError'

  constructor (message = 'the chain node is stopping') {
    super(message)
  }
}

/**
 * The fork check of a hello: a peer whose head is at a height this chain has
 * must have the same block there. Each side checks what it can: the peer
 * whose chain is longer sees the other's head among its own blocks, so the
 * node that knows both blocks is the one that refuses. A peer at genesis
 * cannot tell a fork; the gossip and sync checks (`refuseFork`) catch it
 * later.
 */
export function validateHead (store: ChainStore, remote: RemoteInfo): ApplicationRejection | undefined {
  if (remote.head == null) {
    return undefined
  }
  const ours = store.hashAt(remote.head.height)
  if (ours != null && !equalHashes(ours, remote.head.hash)) {
    return { appCode: FORK_APP_CODE, detail: `fork at height ${remote.head.height}` }
  }
  return undefined
}

function headJson (head: { height: bigint, hash: Uint8Array } | undefined): HeadJson | undefined {
  return head == null ? undefined : { height: Number(head.height), hash: toHex(head.hash) }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never

/** Resolves after `ms`, or at once when `signal` aborts */
async function delay (ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) {
    return
  }
  await new Promise<void>(resolve => {
    const done = (): void => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}
