import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { test } from 'node:test'
import { LogOutput, namespaceLine, stderrLine, stdoutLine } from '../../src/cli/log-output.js'
import { eventText } from '../../src/cli/output.js'

const TIME = new Date('2026-12-03T10:00:00.000Z')
const ISO = TIME.toISOString()

test('namespaceLine: :error and :trace are levels; peergate\'s other lines info, libp2p\'s debug; the component is the rest', () => {
  const table: Array<[string, object]> = [
    ['peergate:dial', { level: 'info', component: 'peergate:dial' }],
    ['peergate:handshake:status', { level: 'info', component: 'peergate:handshake:status' }],
    ['peergate:dial:error', { level: 'error', component: 'peergate:dial' }],
    ['peergate:session:trace', { level: 'trace', component: 'peergate:session' }],
    ['libp2p:tcp', { level: 'debug', component: 'libp2p:tcp' }],
    ['libp2p:tcp:error', { level: 'error', component: 'libp2p:tcp' }]
  ]
  for (const [namespace, expected] of table) {
    assert.deepEqual(namespaceLine(namespace, 'a message', TIME), { time: ISO, message: 'a message', ...expected }, namespace)
  }
})

test('stderrLine: a warning is warn, any other line of the CLI error, without the peergate: prefix', () => {
  assert.deepEqual(stderrLine('peergate: warning: bootstrap peer x cannot be reached', TIME), { time: ISO, level: 'warn', component: 'peergate:cli', message: 'bootstrap peer x cannot be reached' })
  assert.deepEqual(stderrLine('peergate: could not stop the node cleanly: boom', TIME), { time: ISO, level: 'error', component: 'peergate:cli', message: 'could not stop the node cleanly: boom' })
  assert.deepEqual(stderrLine('something else', TIME), { time: ISO, level: 'error', component: 'peergate:cli', message: 'something else' })
})

test('stdoutLine: a JSON event keeps its fields and gets its human text; a human line keeps its time', () => {
  const reject = { event: 'session:reject', peerId: 'p', reason: 'WRONG_CHAIN', side: 'local', direction: 'inbound', message: 'chain other' } as const
  assert.deepEqual(stdoutLine(JSON.stringify(reject), TIME, eventText), {
    ...reject, time: ISO, level: 'info', component: 'peergate:cli', message: 'handshake rejected by this node: p (inbound) WRONG_CHAIN: chain other'
  })
  assert.deepEqual(stdoutLine('2026-01-02T03:04:05.006Z session open: p did:key:z (outbound)', TIME, eventText),
    { time: '2026-01-02T03:04:05.006Z', level: 'info', component: 'peergate:cli', message: 'session open: p did:key:z (outbound)' })
  assert.deepEqual(stdoutLine('{"not":"an event"}', TIME, eventText), { time: ISO, level: 'info', component: 'peergate:cli', message: '{"not":"an event"}' })
})

test('stdoutLine: a storage event is a warning while the datastore refuses writes, news once it takes them again', () => {
  const failing = { event: 'storage', state: 'failing', since: 1_000, error: 'IO error: 000003.log: No space left on device', failedWrites: 1 } as const
  assert.deepEqual(stdoutLine(JSON.stringify(failing), TIME, eventText), {
    ...failing, time: ISO, level: 'warn', component: 'peergate:cli', message: 'storage failing: the datastore refuses writes (IO error: 000003.log: No space left on device); the node carries on with what it holds in memory'
  })
  const ok = { event: 'storage', state: 'ok', since: 1_000, until: 61_000, failedWrites: 42 } as const
  assert.deepEqual(stdoutLine(JSON.stringify(ok), TIME, eventText), {
    ...ok, time: ISO, level: 'info', component: 'peergate:cli', message: 'storage ok: the datastore takes writes again, after 42 failed in 60 s; what it could not write is written now'
  })
})

test('LogOutput: a log file that refuses writes (a full disk: /dev/full) drops its lines, says so once on stderr, and never throws', { skip: existsSync('/dev/full') ? false : 'needs /dev/full' }, () => {
  const notices: string[] = []
  const output = new LogOutput({ format: 'json', file: '/dev/full', describe: eventText, now: () => TIME, notice: (text) => { notices.push(text) } })
  const printed: string[] = []
  const stdout = output.wrap({ write: (text: string) => { printed.push(text); return true } }, 'stdout')
  for (let i = 0; i < 3; i++) {
    stdout.write(`${JSON.stringify({ event: 'stopped' })}\n`)
  }
  assert.equal(printed.length, 3, 'stdout still gets every line')
  assert.equal(notices.length, 1)
  assert.match(notices[0], /^peergate: warning: cannot write the log file \/dev\/full: ENOSPC: no space left on device/)
})
