/*
 * The one frame reader and writer (src/wire/frames.ts) by tables: every
 * outcome the same wherever the bytes are split into chunks, the limit
 * checked on the prefix before the body is pulled, one frame with a signal,
 * a write refused over the limit and waiting for a drain.
 */
import assert from 'node:assert/strict'
import { readFile, readdir } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { describe, it } from 'node:test'
import { Uint8ArrayList } from 'uint8arraylist'
import { fromString as uint8ArrayFromString } from 'uint8arrays/from-string'
import { FrameReader, InvalidLengthPrefixError, MessageTooLargeError, StreamEndedError, encodeFrame, readFrame, readFrames, writeFrame } from '../../src/wire/index.js'
import { repoRoot } from '../utils/files.js'

const unhex = (value: string): Uint8Array => uint8ArrayFromString(value.replace(/\s+/g, ''), 'base16')
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')

async function * chunks (...parts: Array<Uint8Array | Uint8ArrayList>): AsyncGenerator<Uint8Array | Uint8ArrayList> {
  yield * parts
}

/** Every way the table cuts `bytes` into chunks: whole, at each split point, byte by byte, with empty chunks between */
function splits (bytes: Uint8Array): Array<{ name: string, parts: Uint8Array[] }> {
  const out = [{ name: 'one chunk', parts: [bytes] }]
  for (let at = 1; at < bytes.byteLength; at++) {
    out.push({ name: `split at ${at}`, parts: [bytes.subarray(0, at), bytes.subarray(at)] })
  }
  out.push({ name: 'byte by byte, empty chunks between', parts: [...bytes].flatMap(byte => [new Uint8Array(0), Uint8Array.of(byte)]) })
  return out
}

/** What reading every frame of `parts` gives: the bodies in hex, then the error's name (and the limit a frame broke) */
async function outcome (parts: Array<Uint8Array | Uint8ArrayList>, max: number): Promise<string[]> {
  const out: string[] = []
  try {
    for await (const body of readFrames(chunks(...parts), max)) {
      out.push(hex(body))
    }
  } catch (err: any) {
    out.push(err instanceof MessageTooLargeError ? `${err.name} over ${err.limit}` : err.name)
  }
  return out
}

describe('readFrames', () => {
  const TOO_LARGE = MessageTooLargeError.name
  const ENDED = StreamEndedError.name
  const MALFORMED = InvalidLengthPrefixError.name
  const cases: Array<{ name: string, bytes: string, max: number, outcome: string[] }> = [
    { name: 'one frame', bytes: '02 2001', max: 10, outcome: ['2001'] },
    { name: 'frames back to back', bytes: '02 2001 01 ff 03 616263', max: 10, outcome: ['2001', 'ff', '616263'] },
    { name: 'a zero-length frame is an empty body', bytes: '00', max: 10, outcome: [''] },
    { name: 'zero-length frames between others', bytes: '00 01 07 00', max: 10, outcome: ['', '07', ''] },
    { name: 'a body exactly at the limit', bytes: '03 010203', max: 3, outcome: ['010203'] },
    { name: 'a two-byte prefix (200)', bytes: `c801 ${'ab'.repeat(200)}`, max: 200, outcome: ['ab'.repeat(200)] },
    { name: 'no bytes at all: no frames', bytes: '', max: 10, outcome: [] },
    { name: 'a prefix one over the limit', bytes: '04 01020304', max: 3, outcome: [`${TOO_LARGE} over 3`] },
    { name: 'a two-byte prefix one over the limit (201)', bytes: 'c901', max: 200, outcome: [`${TOO_LARGE} over 200`] },
    { name: 'a prefix over the limit after a good frame', bytes: '01 07 0b', max: 10, outcome: ['07', `${TOO_LARGE} over 10`] },
    { name: 'a prefix longer than the limit\'s own varint (128 under 100)', bytes: '8001', max: 100, outcome: [`${TOO_LARGE} over 100`] },
    { name: 'a lying prefix of 1 GiB', bytes: '80808080 04 010203', max: 4096, outcome: [`${TOO_LARGE} over 4096`] },
    { name: 'a non-minimal prefix (81 00 for 1)', bytes: '8100 07', max: 1000, outcome: [MALFORMED] },
    { name: 'a non-minimal prefix (80 00 for 0)', bytes: '8000', max: 1000, outcome: [MALFORMED] },
    { name: 'a non-minimal prefix after a good frame', bytes: '01 07 8200 0102', max: 1000, outcome: ['07', MALFORMED] },
    { name: 'a prefix of 9 bytes under the largest limit', bytes: '8080808080808080 01', max: Number.MAX_SAFE_INTEGER, outcome: [MALFORMED] },
    { name: 'the end inside a one-byte prefix\'s body', bytes: '05 2001', max: 10, outcome: [ENDED] },
    { name: 'the end inside a prefix', bytes: '81', max: 1000, outcome: [ENDED] },
    { name: 'the end inside a prefix after a good frame', bytes: '01 07 c8', max: 1000, outcome: ['07', ENDED] },
    { name: 'the end right after a prefix', bytes: '01 07 02', max: 10, outcome: ['07', ENDED] }
  ]
  for (const c of cases) {
    it(`${c.name}: the same wherever the chunks split`, async () => {
      for (const { name, parts } of splits(unhex(c.bytes))) {
        assert.deepEqual(await outcome(parts, c.max), c.outcome, `${c.name}, ${name}`)
      }
    })
  }

  it('a non-minimal prefix longer than the limit\'s varint is refused either way, by what arrives first', async () => {
    // 81 00 under a limit of 100: after 81 the prefix is already as long as 100's varint
    assert.deepEqual(await outcome([unhex('8100')], 100), [MALFORMED])
    assert.deepEqual(await outcome([unhex('81'), unhex('00')], 100), [`${TOO_LARGE} over 100`])
  })

  it('the length a refused prefix claims: its value, or at least what its bytes so far must reach', async () => {
    const refused = async (parts: Uint8Array[], max: number): Promise<number> => {
      try {
        await readFrames(chunks(...parts), max).next()
      } catch (err: any) {
        assert.ok(err instanceof MessageTooLargeError, err.name)
        return err.length
      }
      assert.fail('not refused')
    }
    assert.equal(await refused([unhex('c901')], 200), 201)
    assert.equal(await refused([unhex('80808080 04')], 4096), 2 ** 30)
    // after 80 80 the prefix is as long as 4096's varint and unfinished: 2^14 or more
    assert.equal(await refused([unhex('8080'), unhex('8080 04')], 4096), 2 ** 14)
  })

  it('the limit is checked on the prefix: the body is never pulled', async () => {
    let pulledBody = false
    const source = (async function * () {
      yield unhex('80 80 04')
      pulledBody = true
      yield new Uint8Array(65536)
    })()
    await assert.rejects(readFrames(source, 4096).next(), { name: TOO_LARGE })
    assert.equal(pulledBody, false)
  })

  it('a body split over chunks comes whole; one inside a chunk is not copied', async () => {
    const chunk = unhex('03 010203 02 0405')
    const bodies: Uint8Array[] = []
    for await (const body of readFrames(chunks(chunk.subarray(0, 5), chunk.subarray(5, 7), new Uint8ArrayList(chunk.subarray(7))), 10)) {
      bodies.push(body)
    }
    assert.deepEqual(bodies.map(hex), ['010203', '0405'])
    assert.equal(bodies[0].buffer, chunk.buffer, 'a body inside one chunk is a view of it')
  })
})

describe('FrameReader and readFrame', () => {
  it('reads one frame at a time and counts them; undefined once the source ends between frames', async () => {
    const reader = new FrameReader(chunks(unhex('01 07 00')), 10)
    assert.equal(hex(await reader.read() ?? unhex('ee')), '07')
    assert.equal(hex(await reader.read() ?? unhex('ee')), '')
    assert.equal(reader.framesRead, 2)
    assert.equal(await reader.read(), undefined)
    assert.equal(reader.framesRead, 2)
  })

  it('readFrame reads the first frame only, and undefined from an empty source', async () => {
    assert.deepEqual(await readFrame(chunks(unhex('01 09 01 08')), { maxFrameBytes: 10 }), unhex('09'))
    assert.equal(await readFrame(chunks(), { maxFrameBytes: 10 }), undefined)
    await assert.rejects(readFrame(chunks(unhex('02 09')), { maxFrameBytes: 10 }), { name: StreamEndedError.name })
  })

  it('gives up with the signal\'s reason when it aborts first', async () => {
    const never = { async * [Symbol.asyncIterator] () { await new Promise(() => {}) } }
    await assert.rejects(readFrame(never, { maxFrameBytes: 10, signal: AbortSignal.timeout(20) }), { name: 'TimeoutError' })
    const controller = new AbortController()
    const reading = new FrameReader(never, 10).read({ signal: controller.signal })
    controller.abort(new Error('stop'))
    await assert.rejects(reading, { message: 'stop' })
  })
})

describe('encodeFrame and writeFrame', () => {
  const prefixes: Array<[number, string]> = [[0, '00'], [1, '01'], [127, '7f'], [128, '8001'], [200, 'c801'], [16383, 'ff7f'], [16384, '808001']]
  for (const [length, prefix] of prefixes) {
    it(`a body of ${length} bytes gets the minimal prefix ${prefix} and reads back`, async () => {
      const body = new Uint8Array(length).fill(5)
      const frame = encodeFrame(body).subarray()
      assert.equal(hex(frame.subarray(0, prefix.length / 2)), prefix)
      assert.equal(frame.byteLength, prefix.length / 2 + length)
      assert.deepEqual(await readFrame(chunks(frame), { maxFrameBytes: length }), body)
    })
  }

  /** a stand-in stream that keeps what is sent and asks to drain after each send when `full` */
  function sink (full = false): { stream: { send: (data: Uint8Array | Uint8ArrayList) => boolean, onDrain: () => Promise<void> }, sent: Uint8Array[], drains: number[] } {
    const sent: Uint8Array[] = []
    const drains: number[] = []
    return {
      sent,
      drains,
      stream: {
        send: (data) => { sent.push(data.subarray()); return !full },
        onDrain: async () => { drains.push(sent.length) }
      }
    }
  }

  it('writeFrame sends one frame, and refuses a body over the limit before sending anything', async () => {
    const { stream, sent, drains } = sink()
    await writeFrame(stream, new Uint8Array(200), { maxFrameBytes: 200 })
    assert.equal(hex(sent[0].subarray(0, 2)), 'c801')
    assert.equal(sent[0].byteLength, 202)
    await assert.rejects(writeFrame(stream, new Uint8Array(201), { maxFrameBytes: 200 }), (err: MessageTooLargeError) => err instanceof MessageTooLargeError && err.length === 201 && err.limit === 200)
    assert.equal(sent.length, 1)
    assert.deepEqual(drains, [], 'a stream that took the frame is not waited on')
  })

  it('writeFrame waits for the drain when the stream asks for it', async () => {
    const { stream, sent, drains } = sink(true)
    await writeFrame(stream, unhex('0102'))
    assert.deepEqual(sent.map(hex), ['020102'])
    assert.deepEqual(drains, [1])
  })
})

describe('one frame reader', () => {

  /** the TypeScript files of src/, test/, scripts/ and examples/, relative to the root */
  async function sourceFiles (root: string): Promise<string[]> {
    const files: string[] = []
    for (const top of ['src', 'test', 'scripts', 'examples']) {
      const entries = await readdir(join(root, top), { recursive: true, withFileTypes: true }).catch(() => [])
      for (const entry of entries) {
        if (entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
          files.push(relative(root, join(entry.parentPath, entry.name)))
        }
      }
    }
    return files
  }

  it('no file outside src/wire/ imports it-length-prefixed or matches its error names', async () => {
    const root = repoRoot()
    const files = await sourceFiles(root)
    assert.ok(files.includes(join('src', 'wire', 'frames.ts')), 'the sources are found')
    const offenders: string[] = []
    const pattern = /from 'it-length-prefixed'|InvalidDataLength|UnexpectedEOFError|InvalidMessageLengthError/
    for (const file of files) {
      if (file.startsWith(join('src', 'wire')) || file === join('test', 'wire', 'frames.test.ts')) {
        continue
      }
      if (pattern.test(await readFile(join(root, file), 'utf8'))) {
        offenders.push(file)
      }
    }
    assert.deepEqual(offenders, [])
  })
})
