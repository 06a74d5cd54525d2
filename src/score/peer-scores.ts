import { serviceCapabilities, serviceDependencies } from '@libp2p/interface'
import { PeerMap } from '@libp2p/peer-collections'
import { TypedEventEmitter } from 'main-event'
import { ReasonCode } from '../reason/index.js'
import { ownPeerId } from '../wire/index.js'
import { DISCONNECT_SCORE_THRESHOLD, FORGET_SCORE_BELOW, GOSSIPSUB_REASON, MAX_SCORE_EVENTS, MAX_SCORED_PEERS, REPEAT_DISCONNECT_WINDOW_MS, SCORE_BAN_DURATION_MS, SCORE_HALF_LIFE_MS, SCORE_HEARTBEAT_MS } from './constants.js'
import { applyAction, clampScore, combinedScore, decayedScore, freezeUntil, refusedForMs, scoreVerdict, type ScoreState } from './score.js'
import type { PeerScoreComponents, PeerScoreEvents, PeerScoreInfo, PeerScoreInit, PeerScores, ScoreEvent, ScoreStore, GossipScoreSource } from './index.js'
import type { PeerReportDetail, Session } from '../session/index.js'
import type { Logger, PeerId, Startable } from '@libp2p/interface'

/** What the service holds of one peer */
interface PeerRecord {
  state: ScoreState
  /** gossipsub's score of the peer, as of the last heartbeat */
  gossip: number
  events: ScoreEvent[]
  /** the state differs from what the address book holds */
  dirty: boolean
  /** when a report last took the peer to the disconnect threshold (ms since the epoch), and which session it ended (memory only) */
  disconnected?: { at: number, session: Session }
}

/**
 * The peer score service: counts the session manager's `peer:report`s
 * (protocols, gossip validation, the application) and gossipsub's score,
 * decays scores, ends the sessions of peers at or below the disconnect
 * threshold (Goodbye SCORE_TOO_LOW) and bans those at or below the ban
 * threshold. Scores are written to the address book, with the time they
 * decay from, so they outlive a restart and decay while the node is down.
 */
export class PeerScoreService extends TypedEventEmitter<PeerScoreEvents> implements PeerScores, Startable {
  readonly [Symbol.toStringTag] = '@peergate/score'
  readonly [serviceCapabilities]: string[] = ['@peergate/score']
  readonly [serviceDependencies]: string[] = ['@peergate/sessions']

  private readonly components: PeerScoreComponents
  private readonly now: () => number
  private readonly halfLifeMs: number
  private readonly banDurationMs: number
  private readonly heartbeatMs: number
  private readonly log: Logger
  /** least recently changed first */
  private readonly records = new PeerMap<PeerRecord>()
  private heartbeat?: ReturnType<typeof setInterval>
  private readonly writes = new Set<Promise<void>>()
  /** the optional components, looked up once started (every service exists by then) */
  private optionals?: Optionals

  constructor (components: PeerScoreComponents, init: PeerScoreInit = {}) {
    super()
    this.components = components
    this.now = init.now ?? Date.now
    this.halfLifeMs = init.halfLifeMs ?? SCORE_HALF_LIFE_MS
    this.banDurationMs = init.banDurationMs ?? SCORE_BAN_DURATION_MS
    this.heartbeatMs = init.heartbeatMs ?? SCORE_HEARTBEAT_MS
    this.log = components.logger.forComponent('peergate:score')
    this.onReport = this.onReport.bind(this)
    this.onSessionOpen = this.onSessionOpen.bind(this)
    this.onSessionClose = this.onSessionClose.bind(this)
  }

  async start (): Promise<void> {
    this.optionals = this.lookUpOptionals()
    this.components.sessions.addEventListener('peer:report', this.onReport)
    this.components.sessions.addEventListener('session:open', this.onSessionOpen)
    this.components.sessions.addEventListener('session:close', this.onSessionClose)
    this.heartbeat = setInterval(() => { this.tick() }, this.heartbeatMs)
    this.heartbeat.unref?.()
  }

  /**
   * Takes in the scores the address book kept (it loads in its `start`), so
   * that the dial manager weighs them from its first tick; at most
   * MAX_SCORED_PEERS, the rest read when asked for
   */
  async afterStart (): Promise<void> {
    const book = this.book()
    if (book == null) {
      return
    }
    const stored: Array<{ peer: PeerId, score: number, at: number }> = []
    book.forEach(contact => {
      if (contact.score != null && contact.scoreAt != null && stored.length < MAX_SCORED_PEERS && !this.records.has(contact.peerId)) {
        stored.push({ peer: contact.peerId, score: contact.score, at: contact.scoreAt })
      }
    })
    for (const { peer, score, at } of stored) {
      this.records.set(peer, { state: { score: clampScore(score), at }, gossip: 0, events: [], dirty: false })
    }
  }

  /** the scores are written out while the address book still takes writes (its own `beforeStop` flushes it) */
  async beforeStop (): Promise<void> {
    clearInterval(this.heartbeat)
    this.heartbeat = undefined
    this.saveAll()
  }

  async stop (): Promise<void> {
    this.components.sessions.removeEventListener('peer:report', this.onReport)
    this.components.sessions.removeEventListener('session:open', this.onSessionOpen)
    this.components.sessions.removeEventListener('session:close', this.onSessionClose)
    clearInterval(this.heartbeat)
    this.heartbeat = undefined
    this.saveAll()
    await Promise.allSettled([...this.writes])
  }

  scoreOf (peer: PeerId): number {
    const record = this.recordOf(peer, false)
    if (record == null) {
      return 0
    }
    return this.scoreAt(record, this.now())
  }

  /**
   * A peer at or below the disconnect threshold is refused at admission
   * (SCORE_TOO_LOW in the handshake's reject) until its score has decayed
   * above it: it learns why before a session opens, its dialer backs off,
   * and this node's application never sees a session that would end at once
   */
  admissionRefusal (peer: PeerId): { reason: ReasonCode, message: string } | undefined {
    const record = this.recordOf(peer, false)
    if (record == null) {
      return undefined
    }
    const now = this.now()
    const score = this.scoreAt(record, now)
    if (scoreVerdict(score) === 'ok') {
      return undefined
    }
    const waitS = Math.ceil(refusedForMs(record.state, now, this.halfLifeMs) / 1000)
    return { reason: ReasonCode.SCORE_TOO_LOW, message: `score ${score.toFixed(1)} is at or below ${DISCONNECT_SCORE_THRESHOLD}${waitS > 0 ? `: refused for about ${waitS} s more` : ''}` }
  }

  get (peer: PeerId): PeerScoreInfo | undefined {
    const record = this.recordOf(peer, false)
    return record == null ? undefined : this.infoOf(peer, record)
  }

  list (): PeerScoreInfo[] {
    return [...this.records.entries()].map(([peer, record]) => this.infoOf(peer, record))
  }

  /** `record`'s score at `now`: its decayed application score plus gossipsub's part */
  private scoreAt (record: PeerRecord, now: number): number {
    return combinedScore(decayedScore(record.state, now, this.halfLifeMs), record.gossip)
  }

  private infoOf (peer: PeerId, record: PeerRecord): PeerScoreInfo {
    const now = this.now()
    const appScore = decayedScore(record.state, now, this.halfLifeMs)
    return {
      peerId: peer,
      score: combinedScore(appScore, record.gossip),
      appScore,
      gossipScore: record.gossip,
      decaysFrom: record.state.at > now ? record.state.at : undefined,
      events: record.events.map(event => ({ ...event }))
    }
  }

  /**
   * The record of `peer`: held in memory, or read from the address book
   * (decaying from the time it was written); with `create`, a new one at 0
   */
  private recordOf (peer: PeerId, create: true): PeerRecord
  private recordOf (peer: PeerId, create: boolean): PeerRecord | undefined
  private recordOf (peer: PeerId, create: boolean): PeerRecord | undefined {
    const held = this.records.get(peer)
    if (held != null) {
      return held
    }
    const stored = this.book()?.get(peer)
    let record: PeerRecord | undefined
    if (stored?.score != null && stored.scoreAt != null) {
      record = { state: { score: clampScore(stored.score), at: stored.scoreAt }, gossip: 0, events: [], dirty: false }
    } else if (create) {
      record = { state: { score: 0, at: this.now() }, gossip: 0, events: [], dirty: false }
    }
    if (record != null) {
      this.keep(peer, record)
    }
    return record
  }

  /** holds `record` as the most recently changed, forgetting the oldest past MAX_SCORED_PEERS */
  private keep (peer: PeerId, record: PeerRecord): void {
    this.records.delete(peer)
    // a record outlives the connection that named it, whose peer id's multihash may be a view into a 64 KiB buffer
    this.records.set(ownPeerId(peer), record)
    if (this.records.size > MAX_SCORED_PEERS) {
      for (const [oldest, old] of this.records.entries()) {
        this.save(oldest, old)
        this.records.delete(oldest)
        break
      }
    }
  }

  private onReport (evt: CustomEvent<PeerReportDetail>): void {
    const { peerId, action, reason } = evt.detail
    const now = this.now()
    const record = this.recordOf(peerId, true)
    record.state = applyAction(record.state, action, now, this.halfLifeMs)
    record.dirty = true
    const score = this.scoreAt(record, now)
    const event: ScoreEvent = { at: now, action, reason, score }
    record.events.push(event)
    if (record.events.length > MAX_SCORE_EVENTS) {
      record.events.splice(0, record.events.length - MAX_SCORE_EVENTS)
    }
    this.keep(peerId, record)
    this.log('%p %s (%s): score %d', peerId, reason, action, Math.round(score * 100) / 100)
    this.enforce(peerId, record, event, true)
  }

  /** A session opened with a peer whose score is still at or below the disconnect threshold: it ends at once */
  private onSessionOpen (evt: CustomEvent<Session>): void {
    const record = this.recordOf(evt.detail.peerId, false)
    if (record != null) {
      this.enforce(evt.detail.peerId, record, record.events.at(-1), false)
    }
  }

  private onSessionClose (evt: CustomEvent<{ session: Session }>): void {
    const peer = evt.detail.session.peerId
    const record = this.records.get(peer)
    if (record != null) {
      this.save(peer, record)
    }
  }

  /**
   * Bans a peer that a report (`fresh`, `cause`) took to or below the ban
   * threshold, or to the disconnect threshold again within
   * REPEAT_DISCONNECT_WINDOW_MS of its last disconnect by a report (its
   * decay frozen for the ban); ends the session of one at or below the
   * disconnect threshold otherwise (a banned peer whose ban ended, back
   * before its score decayed above the threshold, is disconnected, not
   * banned again). Reserved peers are scored but neither banned nor
   * disconnected. Without a fresh report (a session opening, the heartbeat)
   * the reason given is the last report's, or `gossipsub` when the reports
   * alone would not have reached the threshold.
   */
  private enforce (peer: PeerId, record: PeerRecord, cause: ScoreEvent | undefined, fresh: boolean): void {
    const now = this.now()
    const appScore = decayedScore(record.state, now, this.halfLifeMs)
    const score = combinedScore(appScore, record.gossip)
    const verdict = scoreVerdict(score)
    if (verdict === 'ok') {
      return
    }
    const sessions = this.components.sessions
    if (sessions.isReserved(peer)) {
      this.log('%p is reserved: kept at score %d', peer, score)
      return
    }
    const reason = (fresh || scoreVerdict(appScore) !== 'ok') && cause != null ? cause.reason : GOSSIPSUB_REASON
    // a peer disconnected by a report, back and at it again: banned
    const session = sessions.get(peer)
    const again = fresh && verdict === 'disconnect' && session != null && record.disconnected != null &&
      record.disconnected.session !== session && now - record.disconnected.at < REPEAT_DISCONNECT_WINDOW_MS
    if ((verdict === 'ban' || again) && fresh) {
      const banEnds = sessions.banExpiry(peer)
      if (banEnds != null && banEnds > now) {
        return
      }
      const until = now + this.banDurationMs
      record.state = freezeUntil(record.state, now, until, this.halfLifeMs)
      record.dirty = true
      if (cause != null) {
        cause.outcome = 'ban'
      }
      this.log('%p banned for %d ms at score %d (%s)', peer, this.banDurationMs, score, reason)
      this.safeDispatchEvent('score:ban', { detail: { peerId: peer, score, reason, until } })
      this.save(peer, record)
      this.track(sessions.ban(peer, this.banDurationMs).catch(err => {
        this.log.error('could not ban %p - %e', peer, err)
      }))
      return
    }
    if (session == null) {
      return
    }
    if (fresh && record.disconnected?.session !== session) {
      record.disconnected = { at: now, session }
    }
    if (fresh && cause != null) {
      cause.outcome = 'disconnect'
    }
    this.log('%p disconnected at score %d (%s)', peer, score, reason)
    this.safeDispatchEvent('score:disconnect', { detail: { peerId: peer, score, reason } })
    this.save(peer, record)
    this.track(sessions.disconnect(peer, ReasonCode.SCORE_TOO_LOW, { detail: reason }).catch(err => {
      this.log.error('could not disconnect %p - %e', peer, err)
    }))
  }

  /**
   * The heartbeat: gossipsub's scores of session peers taken in, the
   * thresholds enforced on decayed scores, scores near 0 of peers without a
   * session forgotten, changes written to the address book
   */
  private tick (): void {
    const gossip = this.gossip()
    for (const session of this.components.sessions.list()) {
      const peer = session.peerId
      const gossipScore = gossip?.peerScore(peer) ?? 0
      let record = this.recordOf(peer, false)
      if (record == null && gossipScore === 0) {
        continue
      }
      record ??= this.recordOf(peer, true)
      record.gossip = gossipScore
      this.enforce(peer, record, record.events.at(-1), false)
    }
    const now = this.now()
    for (const [peer, record] of [...this.records.entries()]) {
      if (this.components.sessions.get(peer) != null) {
        continue
      }
      // gossipsub keeps a departed peer's score a while (its retainScore): so does this
      record.gossip = gossip?.peerScore(peer) ?? 0
      if (record.state.at <= now && Math.abs(this.scoreAt(record, now)) < FORGET_SCORE_BELOW) {
        this.save(peer, record)
        this.records.delete(peer)
      }
    }
    this.saveAll()
  }

  private saveAll (): void {
    for (const [peer, record] of this.records.entries()) {
      this.save(peer, record)
    }
  }

  /** writes a changed score to the address book, when the peer is a contact */
  private save (peer: PeerId, record: PeerRecord): void {
    const book = this.book()
    if (!record.dirty || book == null) {
      return
    }
    record.dirty = false
    this.track(book.recordScore(peer, record.state.score, record.state.at).then(() => {}, err => {
      this.log.error('could not write the score of %p - %e', peer, err)
    }))
  }

  private track (work: Promise<void>): void {
    this.writes.add(work)
    void work.finally(() => { this.writes.delete(work) })
  }

  private book (): ScoreStore | undefined {
    return (this.optionals ?? this.lookUpOptionals()).book
  }

  private gossip (): GossipScoreSource | undefined {
    return (this.optionals ?? this.lookUpOptionals()).gossip
  }

  /**
   * The address book and gossipsub, where the node runs them. libp2p's
   * components throw for a missing service, and the error's stack trace cost
   * a node without gossip one per heartbeat (125 such nodes in a process
   * showed it in a profile)
   */
  private lookUpOptionals (): Optionals {
    return { book: optional(() => this.components.addressBook), gossip: optional(() => this.components.pubsub) }
  }
}

interface Optionals {
  book?: ScoreStore
  gossip?: GossipScoreSource
}

/** A component libp2p may not have: its proxy throws for a missing service */
function optional<T> (get: () => T | undefined): T | undefined {
  try {
    return get() ?? undefined
  } catch {
    return undefined
  }
}
