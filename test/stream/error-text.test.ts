import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { errorText } from '../../src/stream/index.js'

describe('errorText: what went wrong, in words, whatever it was thrown as', () => {
  const errorEvent = new Event('error') as Event & { error?: unknown }
  errorEvent.error = new Error('socket hang up')
  const circular: Record<string, unknown> = {}
  circular.self = circular
  const table: Array<[string, unknown, string]> = [
    ['an Error', new Error('boom'), 'boom'],
    ['an Error without a message', new TypeError(), 'TypeError'],
    ['a close Event', new Event('close'), 'close event'],
    ['an error Event with its error', errorEvent, 'error event: socket hang up'],
    ['an error-like object', { name: 'AbortError', message: 'aborted' }, 'aborted'],
    ['an object with only a name', { name: 'TimeoutError' }, 'TimeoutError'],
    ['a plain object', { code: 1 }, '{"code":1}'],
    ['a circular object', circular, 'a Object that cannot be printed'],
    ['a string', 'gone', 'gone'],
    ['undefined', undefined, 'undefined']
  ]
  for (const [what, err, text] of table) {
    it(what, () => {
      assert.equal(errorText(err), text)
    })
  }
  it('never says [object Event]', () => {
    assert.doesNotMatch(errorText(new Event('abort')), /\[object/)
  })
})
