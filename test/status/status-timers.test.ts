/**
 * The status exchange's timers belong to the handshake service's start and
 * stop: after stop none is left, neither a session's periodic round nor a
 * pending push. (Its own file: other nodes running would blur the count.)
 */
import assert from 'node:assert/strict'
import { after, it } from 'node:test'
import { TestNetwork, nextEvent, until } from '../utils/nodes.js'

const net = new TestNetwork()
after(async () => { await net.cleanup() })

function timers (): number {
  return process.getActiveResourcesInfo().filter(r => r === 'Timeout').length
}

it('stopping the nodes leaves no status timer: periodic rounds and a pending push are cleared', async () => {
  const baseline = timers()
  const a = await net.node({ handshake: { statusInterval: 60_000 } })
  const b = await net.node({ handshake: { statusInterval: 60_000 } })
  await a.connect(b.getMultiaddrs()[0])
  await until(() => b.session(a.peerId) != null, 5_000, 'session at b')
  a.setHead({ height: 1n, hash: Uint8Array.of(1) })
  await nextEvent(b, 'session:status')
  // within the rate limit: this push waits for its timer
  a.setHead({ height: 2n, hash: Uint8Array.of(2) })
  const running = timers()
  assert.ok(running >= baseline + 3, `two periodic timers and a push timer at least, ${running} vs ${baseline}`)

  await a.stop()
  await b.stop()
  await until(() => timers() <= baseline, 5_000, 'the timers to go').catch(err => {
    throw new Error(`${err.message}: ${timers()} timers, ${baseline} before the nodes`)
  })
})
