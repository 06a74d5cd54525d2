/**
 * @packageDocumentation
 *
 * The status exchange, `/peergate/status/1.0.0` (docs/PROTOCOL.md §15): over
 * a session's connection each side sends one Status (its head and extra) and
 * gets the other's, periodically with a revalidation of the peer's DID,
 * after `setHead` and on demand. It lives beside the sessions it serves: the
 * handshake service starts and stops it, and hands it the key that verified
 * each session's handshake (for revalidation) and the head changes to push.
 */

import type { ChainHead } from '../chain/index.js'

/** What this node says about its chain now, in a hello or a status message */
export interface LocalStatus {
  /** the current head; none when undefined */
  head?: ChainHead
  /** chain-specific bytes; empty when undefined */
  extra?: Uint8Array
}

// the StatusExchange itself is the handshake service's to run: it imports
// ./status-exchange.js, as it imports the session manager's admission port
export { revalidationVerdict, type Revalidation } from './status-exchange.js'
export { decodeStatus, encodeStatus } from './message.js'
export { MAX_STATUS_FAILURES, MAX_STATUS_STREAMS, STATUS_INTERVAL_MS, STATUS_MIN_INTERVAL_MS, STATUS_MIN_REQUEST_GAP_MS, STATUS_MIN_ROUND_GAP_MS, STATUS_PROTOCOL, STATUS_RATE_LIMIT, STATUS_RATE_PERIOD_MS, STATUS_TIMEOUT_MS } from './constants.js'
