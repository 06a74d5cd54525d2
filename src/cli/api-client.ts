import { readApiToken, apiTokenPath } from '../api/token.js'
import { apiUrlPath, readApiUrl } from '../api/url-file.js'

/** The API answered with an error, or did not answer at all */
export class ApiCallError extends Error {
  static override name = 'ApiCallError'
  override name = 'ApiCallError'
  /** the HTTP status; undefined when no node answered */
  readonly status?: number

  constructor (message: string, status?: number) {
    super(message)
    this.status = status
  }
}

/** How long a CLI call waits for the node, in ms; above POST /connect's own 10 s */
const CALL_TIMEOUT_MS = 15_000

/** Where a client finds the node: the API URL it was given, or none (the data dir's file then says) */
export interface ApiTarget {
  /** `--api URL`: wins over the data dir's file */
  api?: string
  /** the node's data dir: its API token, and its API URL unless `api` is given */
  dataDir: string
}

/** A node's API URL: given, or read from its data dir (then `fromFile`) */
interface ResolvedUrl {
  url: string
  fromFile: boolean
}

/**
 * A client of a running node's status API, as the CLI subcommands use it: it
 * finds the node from `--api`, else from the URL the node wrote into its data
 * dir at start (as `geth attach` finds geth.ipc, Kubo's client `$IPFS_PATH/api`)
 */
export class ApiClient {
  private readonly target: ApiTarget

  constructor (target: ApiTarget) {
    this.target = target
  }

  /** The API's URL: `--api`, else the data dir's file; fails naming the data dir when it has none */
  private async resolveUrl (): Promise<ResolvedUrl> {
    if (this.target.api != null) {
      return { url: this.target.api.replace(/\/+$/, ''), fromFile: false }
    }
    const url = await readApiUrl(this.target.dataDir)
    if (url == null) {
      throw new ApiCallError(`no node running with data dir ${this.target.dataDir} (no ${apiUrlPath(this.target.dataDir)}: a node writes it when its API starts, and removes it when it stops); start one with \`peergate start --data-dir ${this.target.dataDir}\`, or pass the API's URL with --api`)
    }
    return { url: url.replace(/\/+$/, ''), fromFile: true }
  }

  async get<T = unknown> (path: string): Promise<T> {
    return this.call<T>('GET', path)
  }

  /** a command that removes something: a JSON body and the token, as `post` */
  async delete<T = unknown> (path: string, body: Record<string, unknown>): Promise<T> {
    return this.post<T>(path, body, 'DELETE')
  }

  /** a command: sends the data dir's token */
  async post<T = unknown> (path: string, body: Record<string, unknown>, method: 'POST' | 'DELETE' = 'POST'): Promise<T> {
    const token = await readApiToken(this.target.dataDir)
    if (token == null) {
      throw new ApiCallError(`no API token at ${apiTokenPath(this.target.dataDir)}: pass the node's --data-dir (the node writes the token there at start)`)
    }
    return this.call<T>(method, path, body, token)
  }

  private async call<T> (method: string, path: string, body?: Record<string, unknown>, token?: string): Promise<T> {
    const { url, fromFile } = await this.resolveUrl()
    let res: Response
    try {
      res = await fetch(`${url}${path}`, {
        method,
        headers: {
          ...(body == null ? {} : { 'content-type': 'application/json' }),
          ...(token == null ? {} : { authorization: `Bearer ${token}` })
        },
        body: body == null ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(CALL_TIMEOUT_MS)
      })
    } catch (err: any) {
      const cause = String(err?.cause?.code ?? err?.cause?.message ?? err?.message)
      if (fromFile) {
        throw new ApiCallError(`no node running with data dir ${this.target.dataDir} (stale api file ${apiUrlPath(this.target.dataDir)}: nothing answers at ${url}, ${cause}; the node stopped without removing it)`)
      }
      throw new ApiCallError(`no node answers at ${url} (${cause}): is \`peergate start\` running? Its ready line prints the API address; pass it with --api, or the node's --data-dir`)
    }
    const text = await res.text()
    let value: any
    try {
      value = JSON.parse(text)
    } catch {
      throw new ApiCallError(`${method} ${path}: ${url} did not answer JSON (HTTP ${res.status}); is it a peergate API?`, res.status)
    }
    if (!res.ok) {
      const error = String(value?.error ?? `HTTP ${res.status}`)
      const reason = value?.reason == null || error.includes(String(value.reason)) ? '' : ` (${String(value.reason)})`
      throw new ApiCallError(`${error}${reason}`, res.status)
    }
    return value as T
  }
}
