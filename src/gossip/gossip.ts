import { StrictSign, TopicValidatorResult, gossipsub } from '@libp2p/gossipsub'
import { InvalidParametersError, serviceCapabilities, serviceDependencies } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { TypedEventEmitter } from 'main-event'
import { gated, PeerAction } from '../session/index.js'
import { GOSSIP_REJECT_REASON, GOSSIP_SCORE_PARAMS, MAX_REJECTION_RECORDS, MAX_TOPICS } from './constants.js'
import { TopicCounters } from './counters.js'
import { RejectionBook } from './rejections.js'
import { appTopic, chainTopic } from './topics.js'
import type { Gossip, GossipComponents, GossipEvents, GossipInit, GossipMessage, GossipPublishResult, GossipRejections, GossipTopicStats, GossipValidator, GossipVerdict } from './index.js'
import type { Sessions } from '../session/index.js'
import type { GossipSub, GossipsubMessage, Message, TopicValidatorFn } from '@libp2p/gossipsub'
import type { Logger, PeerId, Startable } from '@libp2p/interface'

/** gossipsub's router as its class has it: the interface its factory returns leaves out the mesh and the score */
type Router = GossipSub & Startable & { getMeshPeers(topic: string): string[], getScore(peer: string): number }

const RESULT_OF: Record<GossipVerdict, TopicValidatorResult> = {
  accept: TopicValidatorResult.Accept,
  ignore: TopicValidatorResult.Ignore,
  reject: TopicValidatorResult.Reject
}

function isVerdict (value: unknown): value is GossipVerdict {
  return typeof value === 'string' && value in RESULT_OF
}

/**
 * gossipsub, run by `gated` (so it only ever sees session peers), behind
 * this chain's topic scope and the application's validators
 */
export class GossipService extends TypedEventEmitter<GossipEvents> implements Gossip, Startable {
  readonly [Symbol.toStringTag] = '@peergate/gossip'
  readonly [serviceCapabilities]: string[] = ['@peergate/gossip']
  readonly [serviceDependencies]: string[] = ['@peergate/sessions', '@peergate/handshake', '@libp2p/identify']
  readonly topicValidators = new Map<string, GossipValidator>()

  private readonly chainId: string
  private readonly sessions: Sessions
  private readonly router: Router
  private readonly counters = new TopicCounters()
  private readonly rejectionBook = new RejectionBook(MAX_REJECTION_RECORDS)
  private readonly now: () => number
  private readonly log: Logger
  /** what each message the validators saw was delivered as, for its `message` event */
  private readonly validated = new WeakMap<Message, GossipMessage>()

  constructor (components: GossipComponents, init: GossipInit = {}) {
    super()
    this.chainId = components.handshake.chain.chainId
    this.sessions = components.sessions
    this.now = init.now ?? Date.now
    this.log = components.logger.forComponent('peergate:gossip')
    const router = gated(gossipsub({
      ...init.gossipsub,
      scoreParams: { ...GOSSIP_SCORE_PARAMS, ...init.gossipsub?.scoreParams },
      globalSignaturePolicy: StrictSign,
      allowPublishToZeroTopicPeers: true,
      doPX: false,
      directPeers: [],
      emitSelf: false,
      debugName: 'peergate:gossip:gossipsub',
      metricsRegister: this.counters,
      // empty: gossipsub labels its counts with the topic itself
      metricsTopicStrToLabel: new Map()
    }))(components) as Router
    if (typeof router.getMeshPeers !== 'function') {
      throw new InvalidParametersError('this @libp2p/gossipsub has no getMeshPeers')
    }
    this.router = router
    this.onMessage = this.onMessage.bind(this)
  }

  async start (): Promise<void> {
    await this.router.start()
    this.router.addEventListener('gossipsub:message', this.onMessage)
  }

  async stop (): Promise<void> {
    this.router.removeEventListener('gossipsub:message', this.onMessage)
    for (const [scoped] of [...this.counters.entries()]) {
      this.router.topicValidators.delete(scoped)
      this.counters.untrack(scoped)
    }
    await this.router.stop()
  }

  chainTopic (topic: string): string {
    return chainTopic(this.chainId, topic)
  }

  subscribe (topic: string): void {
    const scoped = this.chainTopic(topic)
    if (this.counters.get(scoped) == null && this.getTopics().length >= MAX_TOPICS) {
      throw new InvalidParametersError(`gossip subscribes to at most ${MAX_TOPICS} topics at once`)
    }
    this.counters.track(scoped, topic)
    this.router.topicValidators.set(scoped, this.validatorOf(topic))
    this.router.subscribe(scoped)
  }

  unsubscribe (topic: string): void {
    const scoped = this.chainTopic(topic)
    this.router.unsubscribe(scoped)
    this.router.topicValidators.delete(scoped)
    this.counters.untrack(scoped)
  }

  getTopics (): string[] {
    return this.router.getTopics()
      .map(scoped => appTopic(this.chainId, scoped))
      .filter((topic): topic is string => topic != null)
  }

  async publish (topic: string, data: Uint8Array): Promise<GossipPublishResult> {
    const scoped = this.chainTopic(topic)
    const { recipients } = await this.router.publish(scoped, data)
    const count = this.counters.get(scoped)
    if (count != null) {
      count.published++
    }
    return { recipients }
  }

  getSubscribers (topic: string): PeerId[] {
    return this.router.getSubscribers(this.chainTopic(topic))
  }

  getMeshPeers (topic: string): PeerId[] {
    return this.router.getMeshPeers(this.chainTopic(topic)).map(peer => peerIdFromString(peer))
  }

  getPeers (): PeerId[] {
    return this.router.getPeers()
  }

  rejections (): GossipRejections[] {
    return this.rejectionBook.list()
  }

  rejectionsOf (peer: PeerId): GossipRejections | undefined {
    return this.rejectionBook.get(peer)
  }

  peerScore (peer: PeerId): number {
    return this.router.getScore(peer.toString())
  }

  topicStats (): GossipTopicStats[] {
    return [...this.counters.entries()].map(([scoped, count]) => ({
      ...count,
      meshPeers: this.router.getMeshPeers(scoped).map(peer => peerIdFromString(peer))
    }))
  }

  /**
   * gossipsub's validator of one topic: it runs once per message (not per
   * copy), after gossipsub checked its signature, and asks the application's
   * validator of the topic, if there is one
   */
  private validatorOf (topic: string): TopicValidatorFn {
    return async (propagationSource, msg) => {
      const receivedFrom = this.sessions.get(propagationSource)
      if (receivedFrom == null || msg.type !== 'signed') {
        // its session ended while the message was on its way in
        return TopicValidatorResult.Ignore
      }
      const message: GossipMessage = {
        topic,
        data: msg.data,
        from: msg.from,
        sequenceNumber: msg.sequenceNumber,
        receivedFrom,
        publisher: this.sessions.get(msg.from)
      }
      const verdict = await this.verdictOf(message)
      if (verdict === 'reject') {
        this.reject(message)
      } else if (this.sessions.get(propagationSource) !== receivedFrom) {
        // the session ended while the application thought: nothing of it is delivered or forwarded
        return TopicValidatorResult.Ignore
      }
      if (verdict === 'accept') {
        this.validated.set(msg, message)
      }
      return RESULT_OF[verdict]
    }
  }

  private async verdictOf (message: GossipMessage): Promise<GossipVerdict> {
    const validate = this.topicValidators.get(message.topic)
    if (validate == null) {
      return 'accept'
    }
    try {
      const verdict = await validate(message)
      if (isVerdict(verdict)) {
        return verdict
      }
      this.log.error('the validator of %s answered %s, not accept, ignore or reject: message ignored', message.topic, String(verdict))
    } catch (err) {
      this.log.error('the validator of %s failed: message ignored - %e', message.topic, err)
    }
    return 'ignore'
  }

  private reject (message: GossipMessage): void {
    const { peerId, did } = message.receivedFrom
    const rejections = this.rejectionBook.record(peerId, did, message.topic, this.now())
    const count = this.counters.get(this.chainTopic(message.topic))
    if (count != null) {
      count.rejected++
    }
    this.log('rejected a %s message from %p (%d in all)', message.topic, peerId, rejections.rejected)
    this.safeDispatchEvent('message:reject', { detail: { message, rejections } })
    // a peer that sends (or forwards) a message the application rejects
    // either did not validate it or validates otherwise: an honest peer does
    // this rarely (Lodestar counts a gossip REJECT as LowToleranceError)
    this.sessions.reportPeer(peerId, PeerAction.LOW_TOLERANCE, GOSSIP_REJECT_REASON)
  }

  private onMessage (evt: CustomEvent<GossipsubMessage>): void {
    const message = this.validated.get(evt.detail.msg)
    if (message == null) {
      // a topic of another chain, or one subscribed to behind this service's back
      return
    }
    this.validated.delete(evt.detail.msg)
    this.safeDispatchEvent('message', { detail: message })
  }
}
