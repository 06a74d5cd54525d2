/**
 * One socket write for what one run of code sends (src/node/coalesce-writes.ts). The connection is
 * @libp2p/tcp's own, dialed by its transport to a plain `net` server on
 * 127.0.0.1 and caught at the upgrader (which here only hands it over); the
 * socket's writes are counted at `_write` and `_writev`, the two methods
 * through which a Node socket makes its system calls. Then whole sessions
 * between real peergate nodes: the writes each side makes per session.
 */
import assert from 'node:assert/strict'
import { createServer, Socket, type AddressInfo, type Server } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { defaultLogger } from '@libp2p/logger'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { coalesceWrites, corkWrites } from '../../src/node/coalesce-writes.js'
import { TestNetwork, until } from '../utils/nodes.js'
import type { Connection, MultiaddrConnection, Transport, Upgrader } from '@libp2p/interface'

/** what the far end of one connection received, and whether it was reset */
interface Received { data: string, reset: boolean, closed: Promise<void> }

let server: Server
let port = 0
const received: Received[] = []
before(async () => {
  server = createServer((socket) => {
    const entry: Received = { data: '', reset: false, closed: new Promise(resolve => { socket.once('close', () => { resolve() }) }) }
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => { entry.data += chunk })
    socket.on('error', () => { entry.reset = true })
    received.push(entry)
  })
  await new Promise<void>(resolve => { server.listen(0, '127.0.0.1', resolve) })
  port = (server.address() as AddressInfo).port
})
after(async () => {
  await new Promise(resolve => { server.close(resolve) })
})

/** the socket's system calls: `_write` for one chunk, `_writev` for what a cork held */
interface Writes { write: number, writev: number }

/**
 * Calls `count` on each system call of `target` (one socket, or
 * `Socket.prototype` for every socket): the two methods through which a Node
 * socket writes; returns what puts them back
 */
function countWrites (target: Socket, count: (socket: Socket, call: keyof Writes) => void): () => void {
  const methods = target as unknown as Record<'_write' | '_writev', (...args: unknown[]) => unknown>
  const write = methods._write
  const writev = methods._writev
  methods._write = function (this: Socket, ...args: unknown[]) { count(this, 'write'); return write.apply(this, args) }
  methods._writev = function (this: Socket, ...args: unknown[]) { count(this, 'writev'); return writev.apply(this, args) }
  return () => {
    methods._write = write
    methods._writev = writev
  }
}

/** An outbound @libp2p/tcp connection to the server, through `coalesceWrites` or not, with its socket's writes counted */
async function dialServer (coalesce: boolean): Promise<{ maConn: MultiaddrConnection, writes: Writes, far: Received }> {
  const factory = coalesce ? coalesceWrites(tcp()) : tcp()
  const transport = factory({ logger: defaultLogger() } as any) as Transport
  let maConn: MultiaddrConnection | undefined
  const upgrader = { upgradeOutbound: async (conn: MultiaddrConnection) => { maConn = conn; return {} as unknown as Connection } } as unknown as Upgrader
  const count = received.length
  await transport.dial(multiaddr(`/ip4/127.0.0.1/tcp/${port}`), { upgrader, signal: AbortSignal.timeout(5_000) } as any)
  assert.ok(maConn != null)
  const socket = (maConn as unknown as { socket: Socket }).socket
  assert.ok(socket instanceof Socket)
  const writes: Writes = { write: 0, writev: 0 }
  countWrites(socket, (_, call) => { writes[call]++ })
  await until(() => received.length > count, 5_000, 'the server to accept')
  return { maConn, writes, far: received[received.length - 1] }
}

describe('corkWrites: a TCP connection sends what one run of code writes as one write', () => {
  it('three sends in one run make one system call (three without it), and arrive whole and in order', async () => {
    for (const [coalesce, expected] of [[true, { write: 0, writev: 1 }], [false, { write: 3, writev: 0 }]] as const) {
      const { maConn, writes, far } = await dialServer(coalesce)
      maConn.send(new TextEncoder().encode('one '))
      maConn.send(new TextEncoder().encode('two '))
      maConn.send(new TextEncoder().encode('three'))
      await until(() => far.data.length === 13, 5_000, 'the bytes to arrive')
      assert.equal(far.data, 'one two three')
      assert.deepEqual(writes, expected, coalesce ? 'coalesced' : 'as @libp2p/tcp writes')
      await maConn.close()
    }
  })

  it('adds no wait: the bytes are written before the code queued after them runs', async () => {
    const { maConn, writes, far } = await dialServer(true)
    maConn.send(new TextEncoder().encode('first'))
    // this continuation is a microtask queued after the send: the write came first
    await Promise.resolve()
    assert.equal(writes.write + writes.writev, 1)
    await until(() => far.data === 'first', 5_000, 'the first bytes')
    maConn.send(new TextEncoder().encode(' second'))
    await Promise.resolve()
    assert.equal(writes.write + writes.writev, 2)
    await until(() => far.data === 'first second', 5_000, 'the second bytes')
    await maConn.close()
  })

  it('a reset in the same run sends the corked bytes first', async () => {
    const { maConn, far } = await dialServer(true)
    maConn.send(new TextEncoder().encode('last words'))
    maConn.abort(new Error('gone'))
    await far.closed
    assert.equal(far.data, 'last words')
    assert.equal(far.reset, true)
  })

  it('a close in the same run sends the corked bytes first', async () => {
    const { maConn, far } = await dialServer(true)
    maConn.send(new TextEncoder().encode('goodbye'))
    await maConn.close()
    await far.closed
    assert.equal(far.data, 'goodbye')
    assert.equal(far.reset, false)
  })

  it('leaves a connection without a net.Socket under it as it is', () => {
    for (const conn of [{}, { socket: undefined }, { socket: { cork () {}, uncork () {} } }]) {
      const sendData = (): void => {}
      const maConn = { ...conn, sendData } as unknown as MultiaddrConnection
      assert.equal(corkWrites(maConn), maConn)
      assert.equal((maConn as any).sendData, sendData)
    }
  })
})

describe('coalesceWrites on peergate nodes', () => {
  const net = new TestNetwork()
  after(async () => { await net.cleanup() })

  it('a session, from dial to Goodbye, costs each side at most 36 socket writes (65 and 73 without it; 26 with it)', async () => {
    const server = await net.node()
    const serverPort = Number(server.getMultiaddrs()[0].getComponents().find(c => c.name === 'tcp')?.value)
    const counts = { server: 0, client: 0 }
    // every socket in this process, counted by which end of the server's port it is
    const restore = countWrites(Socket.prototype, (socket) => {
      if (socket.localPort === serverPort) counts.server++
      else if (socket.remotePort === serverPort) counts.client++
    })
    const SESSIONS = 4
    try {
      for (let i = 0; i < SESSIONS; i++) {
        const client = await net.node()
        await client.connect(server.getMultiaddrs()[0])
        // the session's whole life: identify, the DHT's first query, the ping at open, Goodbye and the close
        await new Promise(resolve => setTimeout(resolve, 500))
        await client.stop()
        await new Promise(resolve => setTimeout(resolve, 100))
      }
    } finally {
      restore()
    }
    const perSession = { server: counts.server / SESSIONS, client: counts.client / SESSIONS }
    assert.ok(perSession.server > 0 && perSession.client > 0, JSON.stringify(perSession))
    assert.ok(perSession.server <= 36 && perSession.client <= 36, `socket writes per session: ${JSON.stringify(perSession)}`)
  })
})
