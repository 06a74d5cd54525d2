import { readApiToken, apiTokenPath } from '../api/index.js'

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

/** A client of a running node's status API, as the CLI subcommands use it */
export class ApiClient {
  private readonly url: string
  private readonly dataDir: string

  constructor (url: string, dataDir: string) {
    this.url = url.replace(/\/+$/, '')
    this.dataDir = dataDir
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
    const token = await readApiToken(this.dataDir)
    if (token == null) {
      throw new ApiCallError(`no API token at ${apiTokenPath(this.dataDir)}: pass the node's --data-dir (the node writes the token there at start)`)
    }
    return this.call<T>(method, path, body, token)
  }

  private async call<T> (method: string, path: string, body?: Record<string, unknown>, token?: string): Promise<T> {
    let res: Response
    try {
      res = await fetch(`${this.url}${path}`, {
        method,
        headers: {
          ...(body == null ? {} : { 'content-type': 'application/json' }),
          ...(token == null ? {} : { authorization: `Bearer ${token}` })
        },
        body: body == null ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(CALL_TIMEOUT_MS)
      })
    } catch (err: any) {
      const cause = err?.cause?.code ?? err?.cause?.message ?? err?.message
      throw new ApiCallError(`no node answers at ${this.url} (${String(cause)}): is \`peergate start\` running? Its ready line prints the API address; pass it with --api`)
    }
    const text = await res.text()
    let value: any
    try {
      value = JSON.parse(text)
    } catch {
      throw new ApiCallError(`${method} ${path}: ${this.url} did not answer JSON (HTTP ${res.status}); is it a peergate API?`, res.status)
    }
    if (!res.ok) {
      const error = String(value?.error ?? `HTTP ${res.status}`)
      const reason = value?.reason == null || error.includes(String(value.reason)) ? '' : ` (${String(value.reason)})`
      throw new ApiCallError(`${error}${reason}`, res.status)
    }
    return value as T
  }
}
