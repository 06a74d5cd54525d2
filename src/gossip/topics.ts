import { InvalidParametersError } from '@libp2p/interface'
import { utf8Length } from '../wire/index.js'
import { GOSSIP_TOPIC_PREFIX, MAX_TOPIC_BYTES } from './constants.js'

/** Control characters and whitespace: a topic is one visible name */
const FORBIDDEN = /[\s\p{Cc}]/u

/** Why `topic` cannot be a gossip topic's name, if it cannot */
export function topicProblem (topic: unknown): string | undefined {
  if (typeof topic !== 'string' || topic === '') {
    return 'a topic is a non-empty string'
  }
  if (utf8Length(topic) > MAX_TOPIC_BYTES) {
    return `a topic is at most ${MAX_TOPIC_BYTES} bytes of UTF-8`
  }
  if (FORBIDDEN.test(topic)) {
    return 'a topic has no whitespace or control characters'
  }
  return undefined
}

/** The prefix of every gossip topic of chain `chainId` */
export function chainTopicPrefix (chainId: string): string {
  return `${GOSSIP_TOPIC_PREFIX}/${chainId}/`
}

/**
 * The gossipsub topic of the application's `topic` on chain `chainId`:
 * `/peergate/<chain id>/<topic>`
 *
 * @throws {InvalidParametersError} when `topic` is no topic name (topicProblem)
 */
export function chainTopic (chainId: string, topic: string): string {
  const problem = topicProblem(topic)
  if (problem != null) {
    throw new InvalidParametersError(`gossip topic ${JSON.stringify(topic)}: ${problem}`)
  }
  return chainTopicPrefix(chainId) + topic
}

/** The application's name of gossipsub topic `scoped`, when it is one of chain `chainId`'s */
export function appTopic (chainId: string, scoped: string): string | undefined {
  const prefix = chainTopicPrefix(chainId)
  if (!scoped.startsWith(prefix)) {
    return undefined
  }
  const topic = scoped.slice(prefix.length)
  return topicProblem(topic) == null ? topic : undefined
}
