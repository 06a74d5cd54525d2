import { PeerAction } from '../session/index.js'

/**
 * The peer score's scale, as Lodestar's: a new peer stands at 0, the
 * application and the protocols only ever take points off (a score above 0
 * comes from gossipsub alone), and the score is kept within [MIN, MAX]
 */
export const MIN_SCORE = -100
export const MAX_SCORE = 100

/**
 * A score decays towards 0 with this half-life: a peer at -40 is at -20
 * after 10 minutes and at -10 after 20. Lodestar's value: long enough that a
 * peer which misbehaves every few minutes keeps sinking, short enough that an
 * honest peer's occasional slip is forgotten within the hour.
 */
export const SCORE_HALF_LIFE_MS = 10 * 60 * 1000

/**
 * At or below this score a peer's session ends with a Goodbye SCORE_TOO_LOW,
 * and its handshakes are refused at admission with SCORE_TOO_LOW until the
 * score has decayed above it: a peer left at score s < -20 waits
 * `SCORE_HALF_LIFE_MS × log2(s / -20)` (42 s from -21, 10 min from -40)
 */
export const DISCONNECT_SCORE_THRESHOLD = -20

/**
 * At or below this score a peer is banned (`Sessions.ban`, an open session
 * ends with BANNED) for SCORE_BAN_DURATION_MS, during which its score does
 * not decay
 */
export const BAN_SCORE_THRESHOLD = -50

/**
 * How long a ban by score lasts; the score starts decaying when it ends
 * (Lodestar's BANNED_BEFORE_DECAY_MS): a peer banned at -50 is back above the
 * disconnect threshold 30 + 13.2 min later
 */
export const SCORE_BAN_DURATION_MS = 30 * 60 * 1000

/**
 * What one report takes off a score, by action (Lodestar's weights):
 * one FATAL bans at once; two LOW_TOLERANCE reports (an invalid gossip
 * message, a malformed frame) reach the disconnect threshold; four
 * MID_TOLERANCE; twenty HIGH_TOLERANCE within a few minutes
 */
export const ACTION_SCORE: Readonly<Record<PeerAction, number>> = {
  [PeerAction.FATAL]: MIN_SCORE - MAX_SCORE,
  [PeerAction.LOW_TOLERANCE]: -10,
  [PeerAction.MID_TOLERANCE]: -5,
  [PeerAction.HIGH_TOLERANCE]: -1
}

/**
 * gossipsub's graylist threshold by default (`@libp2p/gossipsub`'s
 * `graylistThreshold`): below it gossipsub ignores everything a peer sends
 */
export const GOSSIPSUB_GRAYLIST_THRESHOLD = -80

/**
 * What one point of gossipsub's score counts in the peer score (Lodestar's
 * GOSSIPSUB_NEGATIVE_SCORE_WEIGHT): a peer gossipsub graylists
 * (GOSSIPSUB_GRAYLIST_THRESHOLD) stands one point above the disconnect
 * threshold from gossip alone, so gossipsub's own verdict plus one
 * application report ends the session
 */
export const GOSSIP_SCORE_WEIGHT = (DISCONNECT_SCORE_THRESHOLD + 1) / GOSSIPSUB_GRAYLIST_THRESHOLD

/**
 * gossipsub's contribution is capped on both sides: it never takes a peer
 * to a ban by itself (one point short of BAN_SCORE_THRESHOLD), and a good
 * gossiper earns at most 10 points, one LOW_TOLERANCE report's worth, so it
 * cannot buy its way out of the application's reports
 */
export const MAX_GOSSIP_PENALTY = BAN_SCORE_THRESHOLD + 1
export const MAX_GOSSIP_BONUS = 10

/**
 * How often scores are checked against gossipsub's, the thresholds enforced
 * on decayed scores, scores forgotten and changes written to the address
 * book. gossipsub's own heartbeat is 1 s; Lodestar's peer manager runs every
 * 30 s, and a score moves slowly (half-life 10 min).
 */
export const SCORE_HEARTBEAT_MS = 10_000

/**
 * A peer without a session whose score has decayed to within this of 0 is
 * forgotten (Lodestar resets such scores to 0): the rest of its decay would
 * change no decision
 */
export const FORGET_SCORE_BELOW = 1

/**
 * Peers whose scores are held in memory at once; past it, the record
 * changed longest ago goes first (reports about peers without a session are
 * counted too, so the set must be bounded). Session peers number 50 by
 * default, contacts up to 10,000.
 */
export const MAX_SCORED_PEERS = 10_000

/**
 * The last events kept per peer, for `GET /peers`, the live page and
 * `peergate peers`: enough to see why a peer fell, a few hundred bytes each
 */
export const MAX_SCORE_EVENTS = 8

/**
 * A peer whose score a report takes to the disconnect threshold again within
 * this time of its last disconnect by score is banned (SCORE_BAN_DURATION_MS)
 * instead: it came back and did it again (issue 21: "disconnected, then
 * banned if it comes back and does it again"). A report-driven disconnect
 * needs at least two LOW_TOLERANCE reports, so an honest peer that slips
 * twice in an hour is unlikely; the time is the span over which a score
 * decays from -20 to about -1 (four half-lives and a bit).
 */
export const REPEAT_DISCONNECT_WINDOW_MS = 60 * 60 * 1000

/** the reason of a disconnect that gossipsub's part of the score caused (a metric label) */
export const GOSSIPSUB_REASON = 'gossipsub'
