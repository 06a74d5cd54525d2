import assert from 'node:assert/strict'
import { until } from './nodes.js'
import type { TestNetwork } from './nodes.js'
import type { NotificationChannel, NotificationsOptions, PeerNode, Session } from '../../src/index.js'
import type { Connection, Stream } from '@libp2p/interface'
import type { Uint8ArrayList } from 'uint8arraylist'

/** Two nodes with a session: `a` selected `b` */
export async function sessionPair (net: TestNetwork): Promise<{ a: PeerNode, b: PeerNode }> {
  const a = await net.node()
  const b = await net.node()
  await a.connect(b.getMultiaddrs()[0])
  await until(() => b.session(a.peerId) != null, 5_000, 'session at b')
  return { a, b }
}

/** The session connection of `node` towards `peer` */
export function sessionConnection (node: PeerNode, peer: PeerNode): Connection {
  const session = node.session(peer.peerId)
  if (session == null) {
    throw new Error('no session')
  }
  return session.connection
}

/** The open streams of `protocol` on `node`'s session connection to `peer` */
export function streamsOf (node: PeerNode, peer: PeerNode, protocol: string, direction?: 'inbound' | 'outbound'): Stream[] {
  return sessionConnection(node, peer).streams.filter(s => s.protocol === protocol && (direction == null || s.direction === direction))
}

/** Every byte a stream yields until it ends, or the error it ends with */
export async function drain (stream: AsyncIterable<Uint8Array | { subarray(): Uint8Array }>): Promise<{ bytes: number[], error?: Error }> {
  const bytes: number[] = []
  try {
    for await (const chunk of stream) {
      bytes.push(...chunk.subarray())
    }
    return { bytes }
  } catch (err: any) {
    return { bytes, error: err }
  }
}

export async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

export const text = (s: string): Uint8Array => new TextEncoder().encode(s)
export const str = (b: Uint8Array): string => new TextDecoder().decode(b)

/** What `promise` rejects with; fails the test when it resolves */
export async function rejection (promise: Promise<unknown>): Promise<any> {
  return promise.then(() => assert.fail('expected a rejection'), (err: unknown) => err)
}

/** A node, real or in memory, that opens notification channels */
interface NotifyingNode {
  notifications(protocol: string, options: NotificationsOptions): Promise<NotificationChannel>
}

/** A channel on `node` that records what it receives: the texts, and the session each came on */
export async function recorder (node: NotifyingNode, P: string, options: Partial<NotificationsOptions> = {}): Promise<{ channel: NotificationChannel, got: string[], sessions: Session[] }> {
  const got: string[] = []
  const sessions: Session[] = []
  const channel = await node.notifications(P, {
    ...options,
    onMessage: (message, session) => {
      got.push(str(message))
      sessions.push(session)
    }
  })
  return { channel, got, sessions }
}

/**
 * Writes `data` on a stream that a peer without a session opened to a gated
 * protocol, unless the node refused the stream already: it may reset it as
 * soon as it is negotiated, before this write, and a closed stream refuses
 * writes (StreamStateError, the only error let through). Returns whether it wrote.
 */
export function sendUnlessRefused (stream: Stream, data: Uint8Array | Uint8ArrayList): boolean {
  if (stream.status !== 'open') {
    return false
  }
  try {
    stream.send(data)
    return true
  } catch (err: any) {
    assert.equal(err.name, 'StreamStateError', `a refused stream refuses the write, got ${String(err)}`)
    return false
  }
}
