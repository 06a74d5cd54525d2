import type { SessionCloseDetail, SessionEvents, SessionRejectDetail } from '../session/index.js'
import type { TypedEventTarget } from '@libp2p/interface'

/** One rejected handshake or ended session, as `GET /rejects` lists it */
export interface RejectRecord {
  /** `reject`: a handshake failed; `close`: a session ended */
  kind: 'reject' | 'close'
  peerId: string
  /** the peer's DID: its session's, or the one its hello claimed (unproven) */
  did?: string
  reason: string
  /** who decided: this node (`local`) or the peer (`remote`) */
  side: string
  direction: string
  appCode?: number
  message?: string
  /** ms since the epoch */
  time: number
}

/** Records made from the node's events; pure, so that tests can feed it details */
export function rejectRecord (detail: SessionRejectDetail, time: number): RejectRecord {
  return {
    kind: 'reject',
    peerId: detail.peerId.toString(),
    did: detail.remote?.did,
    reason: detail.reason,
    side: detail.side,
    direction: detail.direction,
    appCode: detail.appCode,
    message: detail.message,
    time
  }
}

export function closeRecord (detail: SessionCloseDetail, time: number): RejectRecord {
  return {
    kind: 'close',
    peerId: detail.session.peerId.toString(),
    did: detail.session.did,
    reason: detail.reason,
    side: detail.side,
    direction: detail.session.direction,
    appCode: detail.appCode,
    message: detail.message,
    time
  }
}

/**
 * The last `size` rejected handshakes and ended sessions, newest first; they
 * stay after the peer is gone. Listens from `start()` to `stop()`.
 */
export class RejectLog {
  private readonly events: TypedEventTarget<SessionEvents>
  private readonly size: number
  private readonly now: () => number
  private readonly records: RejectRecord[] = []

  constructor (events: TypedEventTarget<SessionEvents>, size: number, now: () => number = Date.now) {
    this.events = events
    this.size = size
    this.now = now
  }

  start (): void {
    this.events.addEventListener('session:reject', this.onReject)
    this.events.addEventListener('session:close', this.onClose)
  }

  stop (): void {
    this.events.removeEventListener('session:reject', this.onReject)
    this.events.removeEventListener('session:close', this.onClose)
  }

  /** newest first */
  list (): RejectRecord[] {
    return [...this.records]
  }

  private add (record: RejectRecord): void {
    this.records.unshift(record)
    if (this.records.length > this.size) {
      this.records.length = this.size
    }
  }

  private readonly onReject = (evt: CustomEvent<SessionRejectDetail>): void => {
    this.add(rejectRecord(evt.detail, this.now()))
  }

  private readonly onClose = (evt: CustomEvent<SessionCloseDetail>): void => {
    this.add(closeRecord(evt.detail, this.now()))
  }
}
