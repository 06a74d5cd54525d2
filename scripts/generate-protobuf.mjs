// Regenerates the protons codecs beside their users (npm run generate).
// The reason codes have their own .proto; protons copies an imported enum into
// each codec that uses it, so those codecs get an import of the one ReasonCode
// instead, and the enum-only codec gets the type it refers to. It copies an
// imported message too: chain.proto's Head has no codec of its own, the
// handshake's and the status exchange's each hold a copy (the same code), so
// neither imports the other.
//
// Each .proto declares its package (peergate.handshake, …), so that protoc
// and every other compiler can take the whole folder at once. protons (9)
// does not understand packages: it gets copies without the package line and
// with the names that cross packages (peergate.reason.ReasonCode) unqualified.
// A package is not on the wire, and the generated TS has no namespaces either.
//
// A bigint uint64 is written by src/wire/uint64.ts: protons-runtime's own
// writer mangles the values from 2^31 to 2^32 - 1.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const staged = mkdtempSync(join(tmpdir(), 'peergate-protobuf-'))
for (const file of readdirSync('protobuf').filter(name => name.endsWith('.proto'))) {
  const source = readFileSync(join('protobuf', file), 'utf8')
  const withoutPackage = source.replace(/^package peergate\.\w+;\n\n?/m, '')
  if (withoutPackage === source) {
    throw new Error(`protobuf/${file} declares no package peergate.<name>`)
  }
  writeFileSync(join(staged, file), withoutPackage.replace(/\bpeergate\.\w+\./g, ''))
}
const at = file => join(staged, file)

const protons = (...args) => execFileSync('protons', args, { stdio: 'inherit' })
protons(at('reason.proto'))
protons('--path', staged, at('handshake.proto'), at('session.proto'), at('addressbook.proto'), at('status.proto'))

const reason = readFileSync(at('reason.ts'), 'utf8')
writeFileSync('src/reason/pb/reason.ts', reason.replace(
  "import { enumeration } from 'protons-runtime'\n",
  "import { enumeration } from 'protons-runtime'\nimport type { Codec } from 'protons-runtime'\n"
))

/** moves a generated codec that uses ReasonCode to `target`, importing the one enum instead of its copy */
function withSharedReasonCode (generated, target) {
  const source = readFileSync(generated, 'utf8')
  const start = source.indexOf('export enum ReasonCode {')
  const end = source.indexOf('\n}\n', source.indexOf('export namespace ReasonCode {')) + 3
  if (start < 0 || end < 3) {
    throw new Error(`${generated} has no copy of ReasonCode to replace`)
  }
  // the enum's codec helper goes with the enum
  const head = source.slice(0, start).replace(/import \{ (.*)enumeration, (.*)\} from 'protons-runtime'/, "import { $1$2} from 'protons-runtime'")
  writeFileSync(target,
    "import { ReasonCode } from '../../reason/pb/reason.js'\n" +
    head.trimEnd() + '\n' + source.slice(end).replace(/^\n+/, '\n'))
  rmSync(generated)
}
withSharedReasonCode(at('handshake.ts'), 'src/handshake/pb/handshake.ts')
withSharedReasonCode(at('session.ts'), 'src/session/pb/session.ts')

/**
 * Writes a bigint uint64 with src/wire/uint64.ts's writeUint64 rather than
 * protons-runtime's `w.uint64`, which mangles the values from 2^31 to
 * 2^32 - 1 (see there)
 */
function withSafeUint64 (file) {
  const source = readFileSync(file, 'utf8')
  const fixed = source.replace(/w\.uint64\((obj\.\w+)\)/g, 'writeUint64(w, $1)')
  if (fixed === source) {
    return
  }
  const firstImport = fixed.indexOf("import { decodeMessage")
  writeFileSync(file, fixed.slice(0, firstImport) + "import { writeUint64 } from '../../wire/uint64.js'\n" + fixed.slice(firstImport))
}
withSafeUint64('src/handshake/pb/handshake.ts')

writeFileSync('src/addressbook/pb/addressbook.ts', readFileSync(at('addressbook.ts')))
writeFileSync('src/status/pb/status.ts', readFileSync(at('status.ts')))
withSafeUint64('src/status/pb/status.ts')
rmSync(staged, { recursive: true, force: true })
