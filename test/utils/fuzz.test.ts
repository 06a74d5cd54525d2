/*
 * The fuzz harness itself (test/utils/fuzz.ts): a failure names the seed to
 * replay it with, a check that never settles fails as a hang, and the
 * mutation program edits as it says.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { fromString as uint8ArrayFromString } from 'uint8arrays/from-string'
import { FUZZ_SEED, asyncProperty, checkProperty, fc, mutate, property } from './fuzz.js'

const unhex = (value: string): Uint8Array => uint8ArrayFromString(value.replace(/\s+/g, ''), 'base16')
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')

describe('fuzz harness', () => {
  it('a failing property reports its shrunk counterexample and the seed to replay it', async () => {
    const prop = property(import.meta.url, 'harness: fails above 10', fc.nat(1000), value => { assert.ok(value <= 10, 'over 10') }, { share: 0.01 })
    await assert.rejects(checkProperty(prop), (err: Error) => {
      assert.match(err.message, new RegExp(`FUZZ_SEED=${FUZZ_SEED} `))
      assert.match(err.message, /Counterexample: \[11\]/)
      assert.match(err.message, /caused by AssertionError: over 10/)
      return true
    })
  })

  it('an async check that does not settle while its bytes are in memory fails as a hang', async () => {
    const prop = asyncProperty(import.meta.url, 'harness: never settles', fc.constant(0), async () => { await new Promise(() => {}) }, { share: 0 })
    await assert.rejects(checkProperty(prop), /hang: the check did not settle/)
  })

  it('a mutation program edits as it says, four bytes an edit', () => {
    const bytes = unhex('0a 0b 0c 0d')
    const payload = unhex('ee ff')
    const cases: Array<[string, string, string]> = [
      ['no edit: a program shorter than one', '00 01 00', '0a0b0c0d'],
      ['flip bit 0 of byte 1', '00 01 00 00', '0a0a0c0d'],
      ['set byte 2 to an edge byte (argument 192 and up: itself)', '01 02 00 c5', '0a0bc50d'],
      ['truncate at 3', '02 03 00 00', '0a0b0c'],
      ['insert the payload from its byte 1 at 0', '03 00 00 01', 'ff0a0b0c0d'],
      ['delete 2 bytes at 1', '04 01 00 01', '0a0d'],
      ['duplicate byte 0 after byte 1', '05 00 00 01', '0a0b0a0c0d'],
      ['write the varint of 128 (edge value 4) over byte 3', '06 03 00 49', '0a0b0c8001'],
      ['append 2 bytes of the payload', '07 00 00 01', '0a0b0c0deeff'],
      ['two edits, in order', '02 02 00 00 00 00 00 07', '8a0b']
    ]
    for (const [name, program, want] of cases) {
      assert.equal(hex(mutate(bytes, unhex(program), payload)), want, name)
    }
  })
})
