import assert from 'node:assert/strict'
import { test } from 'node:test'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { tcp } from '@libp2p/tcp'
import { createLibp2p, type Libp2p } from 'libp2p'
import { exchange, floorOptions, FLOOR_HANDSHAKE, HANDSHAKE_FRAMES } from '../../scripts/bench-sessions-floor.js'
import type { Stream } from '@libp2p/interface'

const RAW = '/test/raw/1.0.0'

async function floorNode (role: 'server' | 'client'): Promise<Libp2p<{ dht: { getMode: () => 'client' | 'server' } }>> {
  return createLibp2p(floorOptions(role, {
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() }
  }))
}

/** reads from `stream` until it has `n` bytes; returns them counted */
async function readBytes (reader: AsyncIterator<{ byteLength: number }>, n: number): Promise<number> {
  let read = 0
  while (read < n) {
    const next = await reader.next()
    if (next.done === true) {
      break
    }
    read += next.value.byteLength
  }
  return read
}

test('the floor\'s handshake stand-in: the handshake\'s four message sizes in turn, each side waiting for the other\'s; the listener\'s event once the third is read', async (t) => {
  const server = await floorNode('server')
  const client = await floorNode('client')
  t.after(async () => { await Promise.all([client.stop(), server.stop()]) })
  assert.equal(server.services.dht.getMode(), 'server')
  assert.equal(client.services.dht.getMode(), 'client')

  // a hand-written listener checks what the floor's dialer sends, and when
  const seen: number[] = []
  await server.handle(RAW, async (stream: Stream) => {
    const reader = stream[Symbol.asyncIterator]()
    seen.push(await readBytes(reader, HANDSHAKE_FRAMES[0]))
    // the dialer sends nothing more before it has the answer
    await new Promise(resolve => setTimeout(resolve, 50))
    stream.send(new Uint8Array(HANDSHAKE_FRAMES[1]))
    seen.push(await readBytes(reader, HANDSHAKE_FRAMES[2]))
    stream.send(new Uint8Array(HANDSHAKE_FRAMES[3]))
    await stream.close()
  })
  const connection = await client.dial(server.getMultiaddrs()[0])
  await exchange(await connection.newStream(RAW), HANDSHAKE_FRAMES, 'dialer')
  assert.deepEqual(seen, [199, 67], 'message 1 alone, then message 3, each whole')

  // the floor's listener against a hand-written dialer: its event comes after message 3, before message 4 is sent
  const events: string[] = []
  await server.handle(FLOOR_HANDSHAKE, async (stream: Stream) => {
    await exchange(stream, HANDSHAKE_FRAMES, 'listener', () => { events.push('announced') })
  })
  const stream = await connection.newStream(FLOOR_HANDSHAKE)
  const reader = stream[Symbol.asyncIterator]()
  stream.send(new Uint8Array(HANDSHAKE_FRAMES[0]))
  assert.equal(await readBytes(reader, HANDSHAKE_FRAMES[1]), 265)
  assert.deepEqual(events, [], 'no event before message 3')
  stream.send(new Uint8Array(HANDSHAKE_FRAMES[2]))
  assert.equal(await readBytes(reader, HANDSHAKE_FRAMES[3]), 3)
  assert.deepEqual(events, ['announced'])
  await stream.close()
})

test('the floor\'s stand-in rejects a stream that ends mid-message, naming the message and the bytes it had, even when the end came before it began to read', { timeout: 10_000 }, async (t) => {
  const server = await floorNode('server')
  const client = await floorNode('client')
  t.after(async () => { await Promise.all([client.stop(), server.stop()]) })
  let ended: (outcome: unknown) => void = () => {}
  const outcome = new Promise<unknown>((resolve) => { ended = resolve })
  await server.handle(FLOOR_HANDSHAKE, async (stream: Stream) => {
    // a busy listener: the dialer's bytes and close are in before it reads
    // (libp2p 3.3.11's own iterator would then wait forever)
    await new Promise(resolve => setTimeout(resolve, 50))
    await exchange(stream, HANDSHAKE_FRAMES, 'listener').then(() => { ended('no error') }, ended)
  })
  const connection = await client.dial(server.getMultiaddrs()[0])
  const stream = await connection.newStream(FLOOR_HANDSHAKE)
  // sent and closed at once
  stream.send(new Uint8Array(100))
  void stream.close().catch(() => {})
  const err = await outcome
  assert.ok(err instanceof Error, 'the exchange failed')
  assert.match(err.message, /the stream ended after 100 of message 1's 199 bytes/)
})
