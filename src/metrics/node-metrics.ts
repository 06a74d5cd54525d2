import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import { buildInfo } from '../node/index.js'
import { rateLimitedProtocol } from '../ratelimit/index.js'
import { HANDSHAKE_DURATION_BUCKETS_SECONDS, MAX_RATE_LIMITED_PROTOCOLS, MAX_TRACKED_HANDSHAKES, METRIC_NAMES, OTHER_PROTOCOL, UNKNOWN_COMMIT } from './constants.js'
import type { NodeMetrics, NodeMetricsOptions } from './index.js'
import type { DialEndDetail } from '../dial/index.js'
import type { ConnectionRole, NodeView } from '../node/index.js'
import type { GossipTopicStats } from '../gossip/index.js'
import type { HandshakeInFlight, PeerReportDetail, Session, SessionCloseDetail, SessionDirection, SessionRejectDetail, StreamRefuseDetail } from '../session/index.js'

const DIRECTIONS: readonly SessionDirection[] = ['inbound', 'outbound']
const ROLES: readonly ConnectionRole[] = ['outbound-session', 'inbound-session', 'handshaking', 'auxiliary']

/** The gossip message counts, each a counter by topic: the count, its series, its help */
const GOSSIP_COUNTS: ReadonlyArray<[keyof GossipTopicStats & ('published' | 'received' | 'duplicate' | 'rejected'), string, string]> = [
  ['published', METRIC_NAMES.gossipPublished, 'Gossip messages this node published, by topic'],
  ['received', METRIC_NAMES.gossipReceived, 'Gossip messages received from session peers, by topic: every copy, before any check'],
  ['duplicate', METRIC_NAMES.gossipDuplicate, 'Gossip messages received again (copies of one seen before), by topic'],
  ['rejected', METRIC_NAMES.gossipRejected, 'Gossip messages the application\'s validator rejected, by topic (each counts against the session peer that sent it)']
]

/**
 * peergate's Prometheus series for one node, fed from its events
 * (`handshake:start`, `session:open`, `session:reject`, `session:close`,
 * `peer:report`, the dial manager's `dial:end`) and, at scrape time, from its state (sessions,
 * handshakes in flight, connections, address book), all read through its
 * view: a `PeerNode`, or `nodeView(libp2p)` of your own libp2p node. Every label value is a
 * reason code, a direction, a side, a result or a connection role: never a
 * peer id.
 */
export function createNodeMetrics (node: NodeView, options: NodeMetricsOptions = {}): NodeMetrics {
  const registry = options.registry ?? node.metricsRegistry ?? new Registry()
  const registers = [registry]
  const now = options.now ?? Date.now

  // ---- state, read at scrape time ----

  new Gauge({
    name: METRIC_NAMES.sessions,
    help: 'Open sessions, by direction (outbound: this node selected the peer)',
    labelNames: ['direction'] as const,
    registers,
    collect () {
      for (const direction of DIRECTIONS) {
        this.set({ direction }, node.sessionCount(direction))
      }
    }
  })
  new Gauge({
    name: METRIC_NAMES.handshakesInFlight,
    help: 'Handshakes under way, by direction',
    labelNames: ['direction'] as const,
    registers,
    collect () {
      const counts: Record<SessionDirection, number> = { inbound: 0, outbound: 0 }
      for (const handshake of node.handshakes()) {
        counts[handshake.direction]++
      }
      for (const direction of DIRECTIONS) {
        this.set({ direction }, counts[direction])
      }
    }
  })
  new Gauge({
    name: METRIC_NAMES.connections,
    help: 'Open libp2p connections, by role: a session (either way), handshaking, or auxiliary (DHT and other connections without a session)',
    labelNames: ['role'] as const,
    registers,
    collect () {
      const counts: Record<ConnectionRole, number> = { 'outbound-session': 0, 'inbound-session': 0, handshaking: 0, auxiliary: 0 }
      for (const info of node.connections()) {
        counts[info.role]++
      }
      for (const role of ROLES) {
        this.set({ role }, counts[role])
      }
    }
  })
  new Gauge({
    name: METRIC_NAMES.dialsInFlight,
    help: 'Dials of the dial loop under way (dial plus handshake)',
    registers,
    collect () {
      this.set(node.status().dialing)
    }
  })
  new Gauge({
    name: METRIC_NAMES.addressBookContacts,
    help: 'Contacts in the address book',
    registers,
    collect () {
      this.set(node.status().contacts)
    }
  })
  new Gauge({
    name: METRIC_NAMES.addressBookContactsInBackoff,
    help: 'Contacts of the address book that may not be dialed yet (their backoff has not expired)',
    registers,
    collect () {
      const at = now()
      let n = 0
      node.forEachContact(contact => {
        if (contact.nextAttempt > at) {
          n++
        }
      })
      this.set(n)
    }
  })

  // gossip, per subscribed topic (the application's topics: a bounded set, MAX_TOPICS)
  new Gauge({
    name: METRIC_NAMES.gossipMeshPeers,
    help: 'Session peers in this node\'s gossip mesh, by topic',
    labelNames: ['topic'] as const,
    registers,
    collect () {
      this.reset()
      for (const stats of node.gossipTopics()) {
        this.set({ topic: stats.topic }, stats.meshPeers.length)
      }
    }
  })
  for (const [field, name, help] of GOSSIP_COUNTS) {
    // the counts the last scrape saw: a scrape adds what came since
    let seen = new Map<string, number>()
    new Counter({
      name,
      help,
      labelNames: ['topic'] as const,
      registers,
      collect () {
        const now = new Map<string, number>()
        for (const stats of node.gossipTopics()) {
          const value = stats[field]
          const added = value - (seen.get(stats.topic) ?? 0)
          // inc by 0 shows a topic's count from its first scrape; less than
          // before: the topic was subscribed again between two scrapes
          if (added >= 0) {
            this.inc({ topic: stats.topic }, added)
          }
          now.set(stats.topic, value)
        }
        // a topic no longer subscribed goes (its counts start again from 0 if it comes back)
        for (const topic of seen.keys()) {
          if (!now.has(topic)) {
            this.remove({ topic })
          }
        }
        seen = now
      }
    })
  }

  // what runs: one series of value 1, as Prometheus' own build_info metrics
  const build = buildInfo()
  new Gauge({
    name: METRIC_NAMES.buildInfo,
    help: 'This peergate\'s version, the git commit it was built from, and the libp2p and Node.js it runs on, as labels; the value is always 1',
    labelNames: ['version', 'commit', 'libp2p', 'node'] as const,
    registers
  }).set({ version: build.version, commit: build.commit ?? UNKNOWN_COMMIT, libp2p: build.libp2p, node: build.node }, 1)

  // ---- events, counted as they happen ----

  const handshakes = new Counter({
    name: METRIC_NAMES.handshakes,
    help: 'Finished handshakes, by result (opened, rejected) and direction; a rejected one also by reason code and side (who rejected: local or remote)',
    labelNames: ['result', 'direction', 'reason', 'side'] as const,
    registers
  })
  const handshakeDuration = new Histogram({
    name: METRIC_NAMES.handshakeDuration,
    help: 'Time from a handshake\'s start on a connection to its session or its rejection, by result',
    labelNames: ['result'] as const,
    buckets: HANDSHAKE_DURATION_BUCKETS_SECONDS,
    registers
  })
  const sessionCloses = new Counter({
    name: METRIC_NAMES.sessionCloses,
    help: 'Sessions ended, by side and reason code: local = this node ended it (it sent a Goodbye), remote = the peer did (its Goodbye, or CONNECTION_CLOSED when its connection went without one)',
    labelNames: ['side', 'reason'] as const,
    registers
  })
  const refusals = new Counter({
    name: METRIC_NAMES.gatedStreamRefusals,
    help: 'Gated streams refused for want of a session, by direction: inbound = a peer without a session opened one, outbound = this node tried to open one',
    labelNames: ['direction'] as const,
    registers
  })
  const dials = new Counter({
    name: METRIC_NAMES.dials,
    help: 'Dials of the dial loop that ended, by result (opened, failed); a failed one also by reason (a handshake reason code, or DIAL_FAILED before any handshake)',
    labelNames: ['result', 'reason'] as const,
    registers
  })
  const rateLimited = new Counter({
    name: METRIC_NAMES.rateLimited,
    help: 'Requests, notifications and status requests refused for going over a session peer\'s rate limit, by protocol (each one a `rate-limit:<protocol>` peer report)',
    labelNames: ['protocol'] as const,
    registers
  })
  /** the protocols rateLimited names so far: at most MAX_RATE_LIMITED_PROTOCOLS */
  const limitedProtocols = new Set<string>()
  /** handshake start times by connection id, for the duration histogram */
  const started = new Map<string, number>()
  const elapsedSeconds = (connectionId: string): number | undefined => {
    const start = started.get(connectionId)
    started.delete(connectionId)
    return start == null ? undefined : (performance.now() - start) / 1000
  }

  const onStart = (evt: CustomEvent<HandshakeInFlight>): void => {
    if (started.size >= MAX_TRACKED_HANDSHAKES) {
      // the oldest entry: its end never came
      started.delete(started.keys().next().value as string)
    }
    started.set(evt.detail.connectionId, performance.now())
  }
  const onOpen = (evt: CustomEvent<Session>): void => {
    handshakes.inc({ result: 'opened', direction: evt.detail.direction })
    const seconds = elapsedSeconds(evt.detail.connection.id)
    if (seconds != null) {
      handshakeDuration.observe({ result: 'opened' }, seconds)
    }
  }
  const onReject = (evt: CustomEvent<SessionRejectDetail>): void => {
    const { direction, reason, side, connectionId } = evt.detail
    handshakes.inc({ result: 'rejected', direction, reason, side })
    const seconds = elapsedSeconds(connectionId)
    if (seconds != null) {
      handshakeDuration.observe({ result: 'rejected' }, seconds)
    }
  }
  const onClose = (evt: CustomEvent<SessionCloseDetail>): void => {
    sessionCloses.inc({ side: evt.detail.side, reason: evt.detail.reason })
  }
  const onRefuse = (evt: CustomEvent<StreamRefuseDetail>): void => {
    refusals.inc({ direction: evt.detail.direction })
  }
  const onReport = (evt: CustomEvent<PeerReportDetail>): void => {
    const protocol = rateLimitedProtocol(evt.detail.reason)
    if (protocol == null) {
      return
    }
    if (!limitedProtocols.has(protocol) && limitedProtocols.size < MAX_RATE_LIMITED_PROTOCOLS) {
      limitedProtocols.add(protocol)
    }
    rateLimited.inc({ protocol: limitedProtocols.has(protocol) ? protocol : OTHER_PROTOCOL })
  }
  const onDialEnd = (evt: CustomEvent<DialEndDetail>): void => {
    if (evt.detail.result === 'opened') {
      dials.inc({ result: 'opened' })
    } else {
      dials.inc({ result: 'failed', reason: evt.detail.reason })
    }
  }

  node.addEventListener('handshake:start', onStart)
  node.addEventListener('session:open', onOpen)
  node.addEventListener('session:reject', onReject)
  node.addEventListener('session:close', onClose)
  node.addEventListener('stream:refuse', onRefuse)
  node.addEventListener('peer:report', onReport)
  node.addEventListener('dial:end', onDialEnd)

  return {
    registry,
    contentType: registry.contentType,
    async text () {
      return registry.metrics()
    },
    stop () {
      node.removeEventListener('handshake:start', onStart)
      node.removeEventListener('session:open', onOpen)
      node.removeEventListener('session:reject', onReject)
      node.removeEventListener('session:close', onClose)
      node.removeEventListener('stream:refuse', onRefuse)
      node.removeEventListener('peer:report', onReport)
      node.removeEventListener('dial:end', onDialEnd)
      started.clear()
      limitedProtocols.clear()
      for (const name of Object.values(METRIC_NAMES)) {
        registry.removeSingleMetric(name)
      }
    }
  }
}
