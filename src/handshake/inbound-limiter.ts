/**
 * One inbound handshake holding a place in the {@link InboundLimiter}
 */
export interface InboundTicket {
  /** the remote IP address the connection comes from */
  readonly ip: string
  /** true once the remote's first message (its hello) arrived */
  heard(): boolean
  /** called when the limiter takes this handshake's place for a newcomer */
  shed(): void
}

export interface InboundLimits {
  /** inbound handshakes in flight, in all */
  maxInFlight: number
  /** inbound handshakes in flight from one remote IP address */
  maxPerIp: number
}

/**
 * What the limiter decided for a newcomer: admitted (having shed the ticket
 * whose place it took, if any), or refused and why
 */
export type InboundDecision =
  | { admit: true }
  | { admit: false, why: string }

/**
 * Bounds the inbound handshakes in flight, in all and per remote IP, so that
 * handshakes that have proven nothing never crowd out a well-behaved peer.
 * When a newcomer finds its IP's share or the whole table full, it takes the
 * place of the oldest handshake that has not sent its hello yet (a stalled
 * one); with none stalled, a newcomer takes the place of the oldest handshake
 * of the IP that holds the most places, when that IP holds at least two more
 * than the newcomer's; otherwise it is refused. A refusal and a shed cost no
 * signature work: they happen before the handshake reads anything.
 *
 * Pure bookkeeping: no timers, no I/O.
 */
export class InboundLimiter {
  private readonly limits: InboundLimits
  /** every ticket, oldest first */
  private readonly all = new Set<InboundTicket>()
  /** tickets per IP, oldest first */
  private readonly byIp = new Map<string, Set<InboundTicket>>()

  constructor (limits: InboundLimits) {
    this.limits = limits
  }

  get size (): number {
    return this.all.size
  }

  countOf (ip: string): number {
    return this.byIp.get(ip)?.size ?? 0
  }

  /**
   * Decides on a newcomer; when it is admitted, the ticket it displaces (if
   * any) is released and its `shed()` called, and `ticket` holds a place until
   * {@link release}
   */
  admit (ticket: InboundTicket): InboundDecision {
    let victim: InboundTicket | undefined
    if (this.countOf(ticket.ip) >= this.limits.maxPerIp) {
      victim = oldestStalled(this.byIp.get(ticket.ip) ?? [])
      if (victim == null) {
        return { admit: false, why: `${this.limits.maxPerIp} handshakes from ${ticket.ip} in flight` }
      }
    } else if (this.all.size >= this.limits.maxInFlight) {
      victim = oldestStalled(this.all) ?? this.oldestOfGreediest(ticket.ip)
      if (victim == null) {
        return { admit: false, why: `${this.limits.maxInFlight} handshakes in flight` }
      }
    }
    // a place freed on the newcomer's IP is also a place in the whole table
    if (victim != null) {
      this.release(victim)
    }
    this.add(ticket)
    victim?.shed()
    return { admit: true }
  }

  /** Frees the ticket's place; a no-op for a ticket that holds none */
  release (ticket: InboundTicket): void {
    if (!this.all.delete(ticket)) {
      return
    }
    const set = this.byIp.get(ticket.ip)
    set?.delete(ticket)
    if (set?.size === 0) {
      this.byIp.delete(ticket.ip)
    }
  }

  private add (ticket: InboundTicket): void {
    this.all.add(ticket)
    const set = this.byIp.get(ticket.ip) ?? new Set()
    set.add(ticket)
    this.byIp.set(ticket.ip, set)
  }

  /** the oldest ticket of the IP holding the most places, if it holds two more than `ip` */
  private oldestOfGreediest (ip: string): InboundTicket | undefined {
    let greediest: Set<InboundTicket> | undefined
    for (const set of this.byIp.values()) {
      if (greediest == null || set.size > greediest.size) {
        greediest = set
      }
    }
    if (greediest == null || greediest.size < this.countOf(ip) + 2) {
      return undefined
    }
    return greediest.values().next().value
  }
}

function oldestStalled (tickets: Iterable<InboundTicket>): InboundTicket | undefined {
  for (const ticket of tickets) {
    if (!ticket.heard()) {
      return ticket
    }
  }
  return undefined
}
