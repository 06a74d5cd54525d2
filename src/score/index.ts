/**
 * @packageDocumentation
 *
 * The peer score: one number per peer in [-100, 100], as Lodestar's peer
 * manager keeps it. Protocols, gossip validation and the application report
 * misbehaviour through the session manager (`Sessions.reportPeer`, which
 * announces `peer:report`); each report takes off its action's weight
 * (ACTION_SCORE); gossipsub's own score adds a weighted, capped part
 * (`gossipContribution`); the score decays towards 0 with a 10-minute
 * half-life. At or below -20 the peer's session ends with a Goodbye
 * SCORE_TOO_LOW (and its handshakes are refused at admission with
 * SCORE_TOO_LOW until the score has decayed above -20); at or below -50 the peer is banned for 30 minutes, during which
 * its score does not decay, and so is a peer that reports take to -20 again,
 * in a new session, within an hour of its last disconnect by score. Scores are written to the address book with the
 * time they decay from, so they outlive a restart and decay while the node
 * is down. The dial manager reads them: better peers are dialed first, the
 * worst sessions are shed first.
 *
 * @example
 *
 * ```TypeScript
 * import { createLibp2p } from 'libp2p'
 * import { addressBook, peerScore, sessions, handshake, PeerAction } from 'peergate'
 *
 * const node = await createLibp2p({
 *   services: {
 *     sessions: sessions(),
 *     handshake: handshake({ chain, signer }),
 *     addressBook: addressBook(),
 *     score: peerScore()
 *   }
 * })
 *
 * node.services.sessions.reportPeer(peer, PeerAction.LOW_TOLERANCE, 'bad-block')
 * node.services.score.scoreOf(peer) // -10
 * ```
 */

import { PeerScoreService } from './peer-scores.js'
import type { Contact } from '../addressbook/index.js'
import type { AdmissionScore, PeerAction, Sessions } from '../session/index.js'
import type { AbortOptions, ComponentLogger, PeerId, TypedEventTarget } from '@libp2p/interface'

/** One report that moved a peer's score, as the score service keeps the last few (MAX_SCORE_EVENTS) */
export interface ScoreEvent {
  /** ms since the epoch */
  at: number
  action: PeerAction
  /** what the peer did, as the report said it (`gossip:reject`, `protocol:malformed-request`, …) */
  reason: string
  /** the peer's score right after the report */
  score: number
  /** what the report led to, if anything */
  outcome?: 'disconnect' | 'ban'
}

/** A peer's score, as of now */
export interface PeerScoreInfo {
  peerId: PeerId
  /** the peer score: the application's part plus gossipsub's weighted part, in [-100, 100] */
  score: number
  /** the part the reports made, decayed to now */
  appScore: number
  /** gossipsub's own score of the peer, unweighted, as of the last heartbeat */
  gossipScore: number
  /** while a ban by score holds: when the score starts decaying again, ms since the epoch */
  decaysFrom?: number
  /** the last reports, oldest first */
  events: ScoreEvent[]
}

export interface ScoreDisconnectDetail {
  peerId: PeerId
  score: number
  /** the reason of the report that took the score down (`gossipsub` when gossipsub's score did) */
  reason: string
}

export interface ScoreBanDetail extends ScoreDisconnectDetail {
  /** when the ban ends, ms since the epoch */
  until: number
}

export interface PeerScoreEvents {
  /** a session ended with SCORE_TOO_LOW because of the peer's score */
  'score:disconnect': CustomEvent<ScoreDisconnectDetail>
  /** a peer was banned because of its score */
  'score:ban': CustomEvent<ScoreBanDetail>
}

/** The public face of the peer score service */
export interface PeerScores extends TypedEventTarget<PeerScoreEvents>, AdmissionScore {
  /** `peer`'s score now, in [-100, 100]; 0 for a peer never reported */
  scoreOf(peer: PeerId): number
  /** `peer`'s score and its recent events, when it has a score */
  get(peer: PeerId): PeerScoreInfo | undefined
  /** every peer with a score held in memory */
  list(): PeerScoreInfo[]
}

export interface PeerScoreInit {
  /**
   * A score halves in this time
   *
   * @default SCORE_HALF_LIFE_MS (10 min)
   */
  halfLifeMs?: number
  /**
   * A ban by score lasts this long, the score frozen meanwhile
   *
   * @default SCORE_BAN_DURATION_MS (30 min)
   */
  banDurationMs?: number
  /**
   * How often gossipsub's scores are taken in and decayed scores checked
   *
   * @default SCORE_HEARTBEAT_MS (10 s)
   */
  heartbeatMs?: number
  /** clock, ms since the epoch; injectable for tests */
  now?(): number
}

/** Where scores are kept across restarts: the address book, registered as `addressBook` */
export interface ScoreStore {
  get(peer: PeerId): Pick<Contact, 'score' | 'scoreAt'> | undefined
  /** every contact, uncopied: the scored ones are taken in at start */
  forEach(fn: (contact: Pick<Contact, 'peerId' | 'score' | 'scoreAt'>) => void): void
  recordScore(peer: PeerId, score: number, at: number, options?: AbortOptions): Promise<unknown>
}

/** gossipsub's score of a peer: peergate's gossip service, registered as `pubsub` */
export interface GossipScoreSource {
  peerScore(peer: PeerId): number
}

export interface PeerScoreComponents {
  /** the session manager, registered as `sessions`: its reports, sessions, bans */
  sessions: Pick<Sessions, 'get' | 'list' | 'disconnect' | 'ban' | 'banExpiry' | 'isReserved' | 'addEventListener' | 'removeEventListener'>
  /** optional: without it scores last until the node stops */
  addressBook?: ScoreStore
  /** optional: without it the score is the application's alone */
  pubsub?: GossipScoreSource
  logger: ComponentLogger
}

/**
 * The peer score service factory, registered as `score` (the dial manager
 * and the node view find it under that name). Needs the session manager as
 * `sessions`; reads the address book (`addressBook`) and gossip (`pubsub`)
 * when the node has them.
 */
export function peerScore (init: PeerScoreInit = {}): (components: PeerScoreComponents) => PeerScores {
  return (components) => new PeerScoreService(components, init)
}

export { applyAction, combinedScore, decayedScore, gossipContribution, refusedForMs, scoreVerdict, type ScoreState, type ScoreVerdict } from './score.js'
export { ACTION_SCORE, BAN_SCORE_THRESHOLD, DISCONNECT_SCORE_THRESHOLD, GOSSIP_SCORE_WEIGHT, MAX_GOSSIP_BONUS, MAX_GOSSIP_PENALTY, MAX_SCORE, MAX_SCORE_EVENTS, MIN_SCORE, REPEAT_DISCONNECT_WINDOW_MS, SCORE_BAN_DURATION_MS, SCORE_HALF_LIFE_MS } from './constants.js'
