/**
 * The API's port unless told otherwise: 0, one the OS picks, so that any
 * number of nodes run on one machine without port flags; `peergate start`
 * writes the address into the data dir (API_URL_FILE), where `peergate
 * status` and friends find it
 */
export const DEFAULT_API_PORT = 0

/** Loopback only: the read endpoints need no token, so they stay on this machine unless asked */
export const DEFAULT_API_HOST = '127.0.0.1'

/**
 * The metrics listener's host unless told otherwise: loopback too; a remote
 * Prometheus is a deliberate `--metrics-host`
 */
export const DEFAULT_METRICS_HOST = DEFAULT_API_HOST

/** Rejected or disconnected peers `GET /rejects` keeps: enough for an operator's last minutes, bounded memory */
export const REJECT_HISTORY_SIZE = 100

/** File of the data dir holding the API token (hex, mode 0600) */
export const API_TOKEN_FILE = 'api-token'

/** File of the data dir holding the running node's API URL (`http://127.0.0.1:<port>`), removed at a clean stop */
export const API_URL_FILE = 'api-url'

/** Random bytes of a fresh API token: 256 bits, beyond guessing */
export const API_TOKEN_BYTES = 32

/** Largest request body read, in bytes: the commands are a few short fields */
export const MAX_BODY_BYTES = 4096

/** How long `POST /connect` waits for the dial and handshake, in ms; above the handshake's own 5 s deadline */
export const CONNECT_TIMEOUT_MS = 10_000

/** How often the live page refreshes from the JSON endpoints, in ms */
export const PAGE_REFRESH_MS = 1000
