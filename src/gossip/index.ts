/**
 * @packageDocumentation
 *
 * Gossip on sessions: libp2p's gossipsub, unchanged, run by `gated` so that
 * only session peers are in its mesh, with topics scoped by chain
 * (`/peergate/<chain id>/<topic>`), messages signed by the publisher's libp2p
 * key (StrictSign), and the application's validator deciding what is
 * delivered and forwarded (accept, ignore, reject; a rejection counts
 * against the session peer that sent the message: it is reported to the
 * peer score as LOW_TOLERANCE, `gossip:reject`, so two in a few minutes end
 * its session).
 *
 * @example
 *
 * ```TypeScript
 * import { createPeerNode } from 'peergate'
 *
 * const node = await createPeerNode({ chain: { chainId: 'devnet-1' }, pubsub: {} })
 * node.pubsub.topicValidators.set('blocks', async (message) => await isValid(message.data) ? 'accept' : 'reject')
 * node.pubsub.addEventListener('message', (evt) => {
 *   const { topic, data, publisher } = evt.detail
 *   console.info(topic, publisher?.did)
 * })
 * node.pubsub.subscribe('blocks')
 * await node.pubsub.publish('blocks', block)
 * ```
 */

import { GossipService } from './gossip.js'
import type { GatedComponents, Session } from '../session/index.js'
import type { ChainIdentity } from '../chain/index.js'
import type { GossipSubComponents, GossipsubOpts } from '@libp2p/gossipsub'
import type { PeerId, TypedEventTarget } from '@libp2p/interface'

/**
 * What the application's validator says of a message, as gossipsub's
 * `TopicValidatorResult`: `accept` delivers and forwards it, `ignore` drops
 * it, `reject` drops it and counts it against the peer that sent it
 */
export type GossipVerdict = 'accept' | 'ignore' | 'reject'

/** A gossip message, signed by its publisher's libp2p key */
export interface GossipMessage {
  /** the topic, as the application names it (without the chain's scope) */
  topic: string
  data: Uint8Array
  /** the publisher: the peer whose libp2p key signed the message */
  from: PeerId
  /** the publisher's sequence number */
  sequenceNumber: bigint
  /** the session peer that sent the message to this node: its publisher, or a peer forwarding it */
  receivedFrom: Session
  /**
   * this node's session with the publisher, when it has one (always when the
   * publisher sent the message itself): its `did` is the publisher's DID
   */
  publisher?: Session
}

/**
 * The application's check of a topic's messages, before they are delivered
 * (`message` events) or forwarded. It may be async, but should answer fast:
 * gossipsub's mesh peers expect messages forwarded within a heartbeat or so.
 * A validator that throws, or answers something else, ignores the message.
 */
export interface GossipValidator {
  (message: GossipMessage): GossipVerdict | Promise<GossipVerdict>
}

/** What `Gossip` remembers of a peer whose messages the application rejected */
export interface GossipRejections {
  peerId: PeerId
  /** the DID of its session when it was last rejected */
  did: string
  /** messages rejected in all */
  rejected: number
  /** when it was last rejected, ms since the epoch */
  lastRejected: number
  /** the topic of its last rejected message */
  lastTopic: string
}

/** A message the application rejected, and what its sender has been rejected for in all */
export interface GossipRejectDetail {
  message: GossipMessage
  rejections: GossipRejections
}

export interface GossipPublishResult {
  /** the session peers the message went to; empty when none subscribes to the topic */
  recipients: PeerId[]
}

/** One subscribed topic: its mesh and its message counts since it was subscribed */
export interface GossipTopicStats {
  topic: string
  /** the session peers in this node's mesh of the topic */
  meshPeers: PeerId[]
  /** messages this node published */
  published: number
  /** messages received from peers, every copy, before any check */
  received: number
  /** copies of messages received before */
  duplicate: number
  /** messages the application's validator rejected */
  rejected: number
}

export interface GossipEvents {
  /** a message of a subscribed topic that the validator (if any) accepted */
  message: CustomEvent<GossipMessage>
  /** the application's validator rejected a message */
  'message:reject': CustomEvent<GossipRejectDetail>
}

/**
 * Gossip on sessions, named as js-libp2p's pubsub (`subscribe`, `publish`,
 * `topicValidators`, `message` events) but for topics of this chain alone,
 * named without the chain's scope
 */
export interface Gossip extends TypedEventTarget<GossipEvents> {
  /** validators by topic (the application's name); set one before subscribing, or at any time */
  readonly topicValidators: Map<string, GossipValidator>
  /** the gossipsub topic of `topic`: `/peergate/<chain id>/<topic>` */
  chainTopic(topic: string): string
  /**
   * Joins `topic`'s mesh. At most MAX_TOPICS (128) topics at once; a topic
   * is 1 to MAX_TOPIC_BYTES (128) bytes of UTF-8 without whitespace.
   */
  subscribe(topic: string): void
  unsubscribe(topic: string): void
  /** the topics this node subscribes to */
  getTopics(): string[]
  /** signs `data` with this node's libp2p key and sends it to the session peers of `topic` */
  publish(topic: string, data: Uint8Array): Promise<GossipPublishResult>
  /** the session peers subscribed to `topic` */
  getSubscribers(topic: string): PeerId[]
  /** the session peers in this node's mesh of `topic` */
  getMeshPeers(topic: string): PeerId[]
  /** the session peers gossip runs with */
  getPeers(): PeerId[]
  /** the peers whose messages the application rejected, most recently rejected first (at most MAX_REJECTION_RECORDS) */
  rejections(): GossipRejections[]
  rejectionsOf(peer: PeerId): GossipRejections | undefined
  /** each subscribed topic's mesh and message counts */
  topicStats(): GossipTopicStats[]
  /** gossipsub's own score of `peer` (0 for a peer it does not know); the peer score weighs it in */
  peerScore(peer: PeerId): number
}

export interface GossipInit {
  /**
   * gossipsub's own options: mesh degrees (`D`, `Dlo`, `Dhi`, …),
   * `heartbeatInterval`, `seenTTL`, `scoreParams`, size limits, … (see
   * `@libp2p/gossipsub`); not those peergate sets: messages are always signed
   * (StrictSign), a publish to a topic nobody subscribes to is no error, no
   * direct peers and no peer exchange (peers come from sessions alone).
   * `scoreParams` start from GOSSIP_SCORE_PARAMS (no IP colocation score),
   * yours override them.
   */
  gossipsub?: Omit<Partial<GossipsubOpts>, 'globalSignaturePolicy' | 'allowPublishToZeroTopicPeers' | 'metricsRegister' | 'metricsTopicStrToLabel' | 'directPeers' | 'doPX' | 'allowedTopics' | 'emitSelf' | 'debugName'>
  /** clock of the rejection records, ms since the epoch; injectable for tests */
  now?(): number
}

export interface GossipComponents extends GatedComponents, GossipSubComponents {
  /** peergate's handshake, for the chain id that scopes the topics */
  handshake: { chain: ChainIdentity }
}

/**
 * The gossip service factory: gossipsub, on sessions, for this chain's topics
 */
export function gossip (init: GossipInit = {}): (components: GossipComponents) => Gossip {
  return (components) => new GossipService(components, init)
}

export { chainTopic, appTopic, topicProblem } from './topics.js'
export { MAX_TOPICS, MAX_TOPIC_BYTES, MAX_REJECTION_RECORDS, GOSSIP_TOPIC_PREFIX, GOSSIP_SCORE_PARAMS } from './constants.js'
