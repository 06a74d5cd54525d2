import { createApiServer, loadOrCreateApiToken } from '../../src/index.js'
import type { ApiServer, ApiServerInit, NodeView } from '../../src/index.js'

/** A node's API on 127.0.0.1, a port the OS picks, with the token of `dataDir` */
export async function startApi (node: NodeView, dataDir: string, init: Partial<ApiServerInit> = {}): Promise<{ api: ApiServer, token: string }> {
  const token = await loadOrCreateApiToken(dataDir)
  const api = createApiServer(node, { port: 0, token, ...init })
  await api.start()
  return { api, token }
}

export interface Answer {
  status: number
  body: any
  contentType: string | null
}

export async function call (url: string, method: 'GET' | 'POST' | 'DELETE', body?: unknown, token?: string): Promise<Answer> {
  const res = await fetch(url, {
    method,
    headers: {
      ...(token == null ? {} : { authorization: `Bearer ${token}` }),
      ...(body == null ? {} : { 'content-type': 'application/json' })
    },
    body: body == null ? undefined : typeof body === 'string' ? body : JSON.stringify(body)
  })
  const text = await res.text()
  let parsed: any = text
  try {
    parsed = JSON.parse(text)
  } catch {}
  return { status: res.status, body: parsed, contentType: res.headers.get('content-type') }
}

/** Polls `check` until it returns something other than undefined */
export async function until<T> (what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) {
      return value
    }
    if (Date.now() > deadline) {
      throw new Error(`no ${what} within ${timeoutMs} ms`)
    }
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}
