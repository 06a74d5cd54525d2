// Regenerates the protons codecs beside their users (npm run generate).
// The reason codes have their own .proto; protons copies an imported enum into
// each codec that uses it, so the handshake codec gets an import of the one
// ReasonCode instead, and the enum-only codec gets the type it refers to.
import { execFileSync } from 'node:child_process'
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'

const protons = (...args) => execFileSync('protons', args, { stdio: 'inherit' })
protons('protobuf/reason.proto')
protons('--path', 'protobuf', 'protobuf/handshake.proto', 'protobuf/addressbook.proto')

const reason = readFileSync('protobuf/reason.ts', 'utf8')
writeFileSync('src/reason/pb/reason.ts', reason.replace(
  "import { enumeration } from 'protons-runtime'\n",
  "import { enumeration } from 'protons-runtime'\nimport type { Codec } from 'protons-runtime'\n"
))

const handshake = readFileSync('protobuf/handshake.ts', 'utf8')
const start = handshake.indexOf('export enum ReasonCode {')
const end = handshake.indexOf('\n}\n', handshake.indexOf('export namespace ReasonCode {')) + 3
if (start < 0 || end < 3) {
  throw new Error('protobuf/handshake.ts has no copy of ReasonCode to replace')
}
// the enum's codec helper goes with the enum
const head = handshake.slice(0, start).replace('import { decodeMessage, encodeMessage, enumeration, message,', 'import { decodeMessage, encodeMessage, message,')
writeFileSync('src/handshake/pb/handshake.ts',
  "import { ReasonCode } from '../../reason/pb/reason.js'\n" +
  head.trimEnd() + '\n' + handshake.slice(end).replace(/^\n+/, '\n'))

renameSync('protobuf/addressbook.ts', 'src/addressbook/pb/addressbook.ts')
rmSync('protobuf/reason.ts')
rmSync('protobuf/handshake.ts')
