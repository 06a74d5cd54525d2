// Regenerates the protons codecs beside their users (npm run generate).
// The reason codes have their own .proto; protons copies an imported enum into
// each codec that uses it, so those codecs get an import of the one ReasonCode
// instead, and the enum-only codec gets the type it refers to.
import { execFileSync } from 'node:child_process'
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'

const protons = (...args) => execFileSync('protons', args, { stdio: 'inherit' })
protons('protobuf/reason.proto')
protons('--path', 'protobuf', 'protobuf/handshake.proto', 'protobuf/session.proto', 'protobuf/addressbook.proto')

const reason = readFileSync('protobuf/reason.ts', 'utf8')
writeFileSync('src/reason/pb/reason.ts', reason.replace(
  "import { enumeration } from 'protons-runtime'\n",
  "import { enumeration } from 'protons-runtime'\nimport type { Codec } from 'protons-runtime'\n"
))
rmSync('protobuf/reason.ts')

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
withSharedReasonCode('protobuf/handshake.ts', 'src/handshake/pb/handshake.ts')
withSharedReasonCode('protobuf/session.ts', 'src/session/pb/session.ts')

renameSync('protobuf/addressbook.ts', 'src/addressbook/pb/addressbook.ts')
