import { GOSSIPSUB_COUNTERS } from './constants.js'
import type { AvgMinMax, Gauge, GaugeConfig, Histogram, MetricsRegister } from '@libp2p/gossipsub/metrics'

/** One topic's message counts, as `Gossip.topicStats()` reports them */
export interface TopicCount {
  /** the application's name of the topic */
  readonly topic: string
  published: number
  received: number
  duplicate: number
  rejected: number
}

type CountedField = keyof typeof GOSSIPSUB_COUNTERS

const FIELD_OF = new Map<string, CountedField>(
  Object.entries(GOSSIPSUB_COUNTERS).map(([field, name]) => [name, field as CountedField])
)

const noop = (): void => {}
const IGNORED_GAUGE = { inc: noop, set: noop, addCollect: noop }
const IGNORED_HISTOGRAM = { startTimer: () => noop, observe: noop, reset: noop }
const IGNORED_AVG_MIN_MAX = { set: noop }

/**
 * The message counts of the topics this node subscribes to. It is the
 * metrics register gossipsub is given (its `metricsRegister` option): of
 * gossipsub's own metrics it keeps the counts of received and duplicate
 * messages by topic (GOSSIPSUB_COUNTERS), for the subscribed topics alone, and
 * drops the rest; the gossip service counts what it publishes and what the
 * application rejects itself.
 */
export class TopicCounters implements MetricsRegister {
  /** by gossipsub topic, which is also the `topic` label gossipsub uses (its topic-to-label map is empty) */
  private readonly topics = new Map<string, TopicCount>()

  /** Starts counting gossipsub topic `scoped`, the application's `topic` */
  track (scoped: string, topic: string): void {
    if (!this.topics.has(scoped)) {
      this.topics.set(scoped, { topic, published: 0, received: 0, duplicate: 0, rejected: 0 })
    }
  }

  untrack (scoped: string): void {
    this.topics.delete(scoped)
  }

  get (scoped: string): TopicCount | undefined {
    return this.topics.get(scoped)
  }

  entries (): IterableIterator<[string, TopicCount]> {
    return this.topics.entries()
  }

  gauge<Labels extends Record<string, string | number>> (config: GaugeConfig<Labels>): Gauge<Labels> {
    const field = FIELD_OF.get(config.name)
    if (field == null) {
      return IGNORED_GAUGE as unknown as Gauge<Labels>
    }
    const counted = {
      inc: (labels: { topic?: string | number }, value = 1): void => {
        const count = this.topics.get(String(labels.topic))
        if (count != null) {
          count[field] += value
        }
      },
      set: noop,
      addCollect: noop
    }
    return counted as unknown as Gauge<Labels>
  }

  histogram<Labels extends Record<string, string | number>> (): Histogram<Labels> {
    return IGNORED_HISTOGRAM as unknown as Histogram<Labels>
  }

  avgMinMax<Labels extends Record<string, string | number>> (): AvgMinMax<Labels> {
    return IGNORED_AVG_MIN_MAX as unknown as AvgMinMax<Labels>
  }
}
