/*
 * protobuf/ compiles as one set, as protoc (or any other implementation's
 * compiler) takes it: every file declares its package, every name a file
 * uses resolves, and no two definitions share a name in one scope. Protobuf
 * scopes enum values as siblings of their enum (C++ rules), so two enums of
 * one package may not both define `UNSPECIFIED`: protoc refuses that, while
 * protobuf.js (pbjs, which protons runs) and protons accept it, so the test
 * checks that rule itself on pbjs's view of the folder.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { REASON_CODES } from '../../src/reason/index.js'
import { Goodbye } from '../../src/session/pb/session.js'
import { ContactRecord } from '../../src/addressbook/pb/addressbook.js'
import { readRepoFile } from '../utils/files.js'

const run = promisify(execFile)

/** The repository's root, whether the test runs from test/ or dist/test/ */
function repoRoot (): string {
  let dir = fileURLToPath(new URL('./', import.meta.url))
  while (!existsSync(join(dir, 'protobuf', 'reason.proto'))) {
    const parent = join(dir, '..')
    assert.notEqual(parent, dir, 'protobuf/ not found above the test')
    dir = parent
  }
  return dir
}

interface Namespace {
  nested?: Record<string, Definition>
}
interface Definition extends Namespace {
  values?: Record<string, number>
  fields?: Record<string, unknown>
}

/** pbjs's JSON view of a set of .proto files, parsed and resolved at once (it fails on a name that does not resolve) */
async function compile (dir: string, files: string[]): Promise<Namespace> {
  const pbjs = join(repoRoot(), 'node_modules', '.bin', 'pbjs')
  const { stdout } = await run(process.execPath, [pbjs, '-t', 'json', '--path', dir, ...files.map(file => join(dir, file))], { maxBuffer: 4 << 20 })
  return JSON.parse(stdout)
}

/**
 * Names defined twice in one scope, as protoc sees scopes: a package or a
 * message holds its nested definitions and the values of the enums directly
 * in it
 */
function clashes (scope: Namespace, path = ''): string[] {
  const seen = new Map<string, string>()
  const found: string[] = []
  const define = (name: string, what: string): void => {
    const earlier = seen.get(name)
    if (earlier != null) {
      found.push(`"${path}${name}" is both ${earlier} and ${what}`)
    }
    seen.set(name, what)
  }
  for (const [name, definition] of Object.entries(scope.nested ?? {})) {
    define(name, `the definition ${path}${name}`)
    for (const value of Object.keys(definition.values ?? {})) {
      define(value, `a value of enum ${path}${name}`)
    }
    found.push(...clashes(definition, `${path}${name}.`))
  }
  return found
}

function at (root: Namespace, path: string): Definition {
  let node: Definition = root
  for (const name of path.split('.')) {
    const next = node.nested?.[name]
    assert.ok(next != null, `${path} is defined`)
    node = next
  }
  return node
}

test('protobuf/: every file declares its package peergate.<file name>', async () => {
  const files = (await readdir(join(repoRoot(), 'protobuf'))).filter(name => name.endsWith('.proto'))
  assert.deepEqual(files.sort(), ['addressbook.proto', 'chain.proto', 'handshake.proto', 'reason.proto', 'session.proto', 'status.proto'])
  for (const file of files) {
    const packages = [...(await readRepoFile(`protobuf/${file}`)).matchAll(/^package\s+([\w.]+)\s*;/gm)].map(m => m[1])
    assert.deepEqual(packages, [`peergate.${file.replace(/\.proto$/, '')}`], file)
  }
})

test('protobuf/ compiles as one set: every name resolves and none is defined twice in a scope', async () => {
  const dir = join(repoRoot(), 'protobuf')
  const files = (await readdir(dir)).filter(name => name.endsWith('.proto'))
  const root = await compile(dir, files)
  assert.deepEqual(clashes(root), [])
  assert.deepEqual(Object.keys(at(root, 'peergate').nested ?? {}).sort(), ['addressbook', 'chain', 'handshake', 'reason', 'session', 'status'])
  // the names moved into packages; the wire numbers did not
  const reasons = at(root, 'peergate.reason.ReasonCode').values ?? {}
  assert.deepEqual(Object.keys(reasons), ['UNSPECIFIED', ...REASON_CODES.filter(code => code !== 'UNSPECIFIED')])
  for (const code of REASON_CODES) {
    assert.deepEqual([...Goodbye.encode({ reason: code })], [0x08, reasons[code]], `${code} travels as ${reasons[code]}`)
  }
  assert.deepEqual(at(root, 'peergate.addressbook.ContactSource').values, {
    CONTACT_SOURCE_UNSPECIFIED: 0, CONTACT_SOURCE_BOOTSTRAP: 1, CONTACT_SOURCE_DHT: 2, CONTACT_SOURCE_MANUAL: 3, CONTACT_SOURCE_INBOUND: 4
  })
  assert.equal(ContactRecord.decode(Uint8Array.of(0x20, 0x02)).source, 'CONTACT_SOURCE_DHT')
})

test('the scope check finds what protoc refuses: two enums of one package that both define UNSPECIFIED', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'peergate-proto-'))
  try {
    await writeFile(join(dir, 'a.proto'), 'syntax = "proto3";\npackage p;\nenum A { UNSPECIFIED = 0; }\n')
    await writeFile(join(dir, 'b.proto'), 'syntax = "proto3";\npackage p;\nenum B { UNSPECIFIED = 0; X = 1; }\nmessage M { enum E { X = 0; } }\n')
    assert.deepEqual(clashes(await compile(dir, ['a.proto', 'b.proto'])), ['"p.UNSPECIFIED" is both a value of enum p.A and a value of enum p.B'])
    // in two packages the names do not meet; a nested enum's values live in its message
    await writeFile(join(dir, 'b.proto'), 'syntax = "proto3";\npackage q;\nenum B { UNSPECIFIED = 0; }\nmessage M { enum E { UNSPECIFIED = 0; } }\n')
    assert.deepEqual(clashes(await compile(dir, ['a.proto', 'b.proto'])), [])
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
