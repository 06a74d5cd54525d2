/*
 * A libp2p connection writes each yamux frame through Noise as a message of
 * its own, and Noise hands the TCP connection each message as two chunks
 * (its length, then the ciphertext), which @libp2p/tcp writes to the socket
 * one by one: with Nagle off, two system calls and two packets per frame,
 * and a window update sent in answer to every data frame is another frame.
 * Counted on loopback, a peergate server made 64 socket writes per session
 * and its client 70 (a bare libp2p connection: 34 and 36).
 *
 * Here a TCP connection corks its socket at its first write and uncorks it
 * in a microtask: what one synchronous run of code sends (a message's two
 * chunks, the frames of one `send`, the window update and the answer of one
 * read) leaves as one `writev`, 26 and 25 per session. The microtask runs
 * before anything queued after the write, so no byte waits for the code that
 * follows it. Uncorking at the end of the tick instead (`process.nextTick`,
 * 16 writes per session) held a handshake message back while the rest of its
 * promise chain ran, and cost about 1.5 ms of time to session
 * (docs/BENCHMARKS.md, "Socket writes"). Backpressure is the socket's as
 * before (`write` returns false past its high-water mark), and a close or a
 * reset first sends what is corked. A connection of another transport (no
 * `net.Socket` under it) is left as it is.
 */
import { Socket } from 'node:net'
import { withOverrides } from '../proxy/index.js'
import type { AbortOptions, MultiaddrConnection, Upgrader } from '@libp2p/interface'
import type { Libp2pOptions } from 'libp2p'

type TransportFactory = NonNullable<Libp2pOptions['transports']>[number]

/** what @libp2p/tcp's connections are beside a MultiaddrConnection (an AbstractMultiaddrConnection's own methods) */
interface SocketConnection {
  socket: unknown
  sendData(data: unknown): { sentBytes: number, canSendMore: boolean }
  sendClose(options?: AbortOptions): Promise<void>
  sendReset(err: Error): void
}

/** `factory`'s transport, whose TCP connections send what one run of code writes as one write */
export function coalesceWrites (factory: TransportFactory): TransportFactory {
  return (components) => {
    const transport = factory(components)
    return withOverrides(transport, {
      dial: async (ma, options) => transport.dial(ma, { ...options, upgrader: coalescingUpgrader(options.upgrader) }),
      createListener: (options) => transport.createListener({ ...options, upgrader: coalescingUpgrader(options.upgrader) })
    })
  }
}

/** the upgrader a transport is given, which corks each connection before upgrading it */
function coalescingUpgrader (upgrader: Upgrader): Upgrader {
  return withOverrides(upgrader, {
    upgradeInbound: async (maConn: MultiaddrConnection, options: Parameters<Upgrader['upgradeInbound']>[1]) => { await upgrader.upgradeInbound(corkWrites(maConn), options) },
    upgradeOutbound: async (maConn: MultiaddrConnection, options: Parameters<Upgrader['upgradeOutbound']>[1]) => upgrader.upgradeOutbound(corkWrites(maConn), options)
  })
}

/**
 * `maConn`, its socket corked from a write to the next microtask; unchanged
 * without a `net.Socket` under it
 */
export function corkWrites (maConn: MultiaddrConnection): MultiaddrConnection {
  const conn = maConn as MultiaddrConnection & Partial<SocketConnection>
  const socket = conn.socket
  if (!(socket instanceof Socket) || conn.sendData == null || conn.sendClose == null || conn.sendReset == null) {
    return maConn
  }
  let corked = false
  const flush = (): void => {
    if (corked) {
      corked = false
      socket.uncork()
    }
  }
  const sendData = conn.sendData.bind(conn)
  const sendClose = conn.sendClose.bind(conn)
  const sendReset = conn.sendReset.bind(conn)
  conn.sendData = (data) => {
    if (!corked && !socket.destroyed) {
      corked = true
      socket.cork()
      queueMicrotask(flush)
    }
    return sendData(data)
  }
  conn.sendClose = async (options) => {
    flush()
    await sendClose(options)
  }
  conn.sendReset = (err) => {
    flush()
    sendReset(err)
  }
  return maConn
}
