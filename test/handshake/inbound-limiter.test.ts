import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { InboundLimiter, type InboundTicket } from '../../src/handshake/inbound-limiter.js'

interface TestTicket extends InboundTicket {
  name: string
  hello: boolean
  wasShed: boolean
}

function ticket (name: string, ip: string, hello = false): TestTicket {
  const t: TestTicket = {
    name,
    ip,
    hello,
    wasShed: false,
    heard: () => t.hello,
    shed: () => { t.wasShed = true }
  }
  return t
}

/** `name@ip` for a stalled ticket, `name@ip+` for one whose hello arrived */
function parse (spec: string): TestTicket {
  const heard = spec.endsWith('+')
  const [name, ip] = spec.replace('+', '').split('@')
  return ticket(name, ip, heard)
}

const table: Array<{ name: string, limits: { maxInFlight: number, maxPerIp: number }, held: string[], newcomer: string, admit: boolean, shed?: string }> = [
  { name: 'room everywhere: admitted, nobody shed', limits: { maxInFlight: 4, maxPerIp: 2 }, held: ['a@1'], newcomer: 'n@2', admit: true },
  { name: 'its IP full of stalled handshakes: the oldest of them is shed', limits: { maxInFlight: 8, maxPerIp: 2 }, held: ['a@1', 'b@1'], newcomer: 'n@1', admit: true, shed: 'a' },
  { name: 'its IP full, the oldest has sent its hello: the oldest stalled one is shed', limits: { maxInFlight: 8, maxPerIp: 2 }, held: ['a@1+', 'b@1'], newcomer: 'n@1', admit: true, shed: 'b' },
  { name: 'its IP full of handshakes that all sent hellos: refused', limits: { maxInFlight: 8, maxPerIp: 2 }, held: ['a@1+', 'b@1+'], newcomer: 'n@1', admit: false },
  { name: 'the table full: the oldest stalled handshake of any IP is shed', limits: { maxInFlight: 3, maxPerIp: 3 }, held: ['a@1+', 'b@2', 'c@3'], newcomer: 'n@4', admit: true, shed: 'b' },
  { name: 'the table full of hellos: the greediest IP gives up its oldest', limits: { maxInFlight: 3, maxPerIp: 3 }, held: ['a@1+', 'b@2+', 'c@2+'], newcomer: 'n@4', admit: true, shed: 'b' },
  { name: 'the table full of hellos, nobody holds two more than the newcomer\'s IP: refused', limits: { maxInFlight: 3, maxPerIp: 3 }, held: ['a@1+', 'b@2+', 'c@2+'], newcomer: 'n@2', admit: false },
  { name: 'the table full of hellos spread one per IP: refused', limits: { maxInFlight: 3, maxPerIp: 3 }, held: ['a@1+', 'b@2+', 'c@3+'], newcomer: 'n@4', admit: false }
]

describe('InboundLimiter', () => {
  for (const row of table) {
    it(row.name, () => {
      const limiter = new InboundLimiter(row.limits)
      const held = row.held.map(parse)
      for (const t of held) {
        assert.equal(limiter.admit(t).admit, true)
      }
      const newcomer = parse(row.newcomer)
      const decision = limiter.admit(newcomer)
      assert.equal(decision.admit, row.admit)
      const shed = held.filter(t => t.wasShed).map(t => t.name)
      assert.deepEqual(shed, row.shed == null ? [] : [row.shed])
      assert.equal(limiter.size, held.length + (row.admit ? 1 : 0) - shed.length)
      assert.ok(limiter.size <= row.limits.maxInFlight)
    })
  }

  it('release frees the place once; a shed ticket holds none', () => {
    const limiter = new InboundLimiter({ maxInFlight: 2, maxPerIp: 1 })
    const a = ticket('a', '1')
    const b = ticket('b', '1')
    limiter.admit(a)
    limiter.admit(b)
    assert.equal(a.wasShed, true)
    assert.equal(limiter.countOf('1'), 1)
    limiter.release(a)
    assert.equal(limiter.size, 1)
    limiter.release(b)
    limiter.release(b)
    assert.equal(limiter.size, 0)
    assert.equal(limiter.countOf('1'), 0)
  })
})
