/*
 * The fuzz properties of the config file and the environment as `peergate
 * start` reads them (src/cli/config.ts, then startOptions and
 * startListeners of src/cli/start.ts): any file text and any PEERGATE_*
 * values give options or an InvalidParametersError that names the field,
 * nothing else. Run by config.fuzz.test.ts.
 */
import assert from 'node:assert/strict'
import { InvalidParametersError } from '@libp2p/interface'
import { START_CONFIG_KEYS, envName, parseConfigText, relativeToFile, resolveStartConfig, type StartConfigKey } from '../../src/cli/config.js'
import { startListeners, startOptions, type StartFlags } from '../../src/cli/start.js'
import { decoderInput, fc, onlyThrows, pool, property } from '../utils/fuzz.js'

const KEYS = Object.keys(START_CONFIG_KEYS) as StartConfigKey[]
const PATH = 'conf/peergate.json'

/** A value of the type each key takes, often a valid one */
function valueOf (key: StartConfigKey): fc.Arbitrary<unknown> {
  switch (START_CONFIG_KEYS[key]) {
    case 'list':
      return fc.array(fc.constantFrom('/ip4/127.0.0.1/tcp/4001', '/ip4/0.0.0.0/tcp/0', '/ip4/1.2.3.4/tcp/5/p2p/12D3KooWAHoEkEqnKzM5PXFygh2movVBCSX3k8tDsT2cneU68Gyt', 'x'), { maxLength: 3 })
    case 'number':
      return fc.oneof(fc.nat(70000), fc.constantFrom(-1, 0.5, 1e21, 65535, 65536))
    case 'boolean':
      return fc.boolean()
    default:
      return fc.oneof(fc.constantFrom('devnet-1', '127.0.0.1', '::1', 'localhost', './data', '/abs/data', '0x' + 'ab'.repeat(32), ''), fc.string({ maxLength: 12 }))
  }
}

/** A config object of known keys with values of their types */
const validConfig: fc.Arbitrary<Record<string, unknown>> = fc.uniqueArray(fc.constantFrom(...KEYS), { maxLength: 6 })
  .chain(keys => fc.tuple(...keys.map(valueOf)).map(values => Object.fromEntries(keys.map((key, i) => [key, values[i]]))))

/** Its text as a file holds it: JSON, with `//` comment lines as `peergate init` writes them */
const configTexts = pool('config texts', fc.tuple(validConfig, fc.boolean()).map(([config, comments]) => {
  const json = JSON.stringify(config, null, 2)
  return new TextEncoder().encode(comments ? `// peergate start's options\n${json.replace(/\n/g, '\n  // a note\n')}` : json)
}))

/** Any JSON value's text: a file that is JSON but not an object (null, a list, a number) */
const anyJsonText = fc.jsonValue({ maxDepth: 2 }).map(value => new TextEncoder().encode(JSON.stringify(value) ?? 'null'))

/** PEERGATE_* variables: valid values, edge values, arbitrary text */
const env = fc.dictionary(fc.constantFrom(...KEYS.map(envName), 'PEERGATE_OTHER'), fc.oneof(fc.constantFrom('', '1', '0', 'true', 'FALSE', 'yes', '4001', '/ip4/1.2.3.4/tcp/5,,x', '127.0.0.1'), fc.string({ maxLength: 8 })), { maxKeys: 4 })

/** The options from `flags`, as `peergate start` takes them; InvalidParametersError names what is wrong */
function startWith (text: string, environment: Record<string, string>): void {
  const file = parseConfigText(text, PATH)
  const { flags, origins } = resolveStartConfig({ flags: {}, env: environment, file })
  startOptions(flags, origins)
  startListeners(flags, origins)
}

/**
 * Any config file bytes (read as UTF-8) and any environment: the options,
 * or an InvalidParametersError; nothing else
 */
export const config = property(import.meta.url, 'config file and environment', fc.tuple(fc.oneof({ weight: 9, arbitrary: decoderInput(configTexts) }, { weight: 1, arbitrary: anyJsonText }), env), ([bytes, environment]) => {
  onlyThrows([InvalidParametersError.name], () => { startWith(Buffer.from(bytes).toString('utf8'), environment) })
})

/**
 * Every config object of known keys and well-typed values resolves to
 * those values: lists and booleans as they are, numbers as their text,
 * paths relative to the file
 */
export const roundTrip = property(import.meta.url, 'config file round trip', validConfig, written => {
  const { flags } = resolveStartConfig({ flags: {}, env: {}, file: parseConfigText(JSON.stringify(written), PATH) })
  const want: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(written)) {
    const type = START_CONFIG_KEYS[key as StartConfigKey]
    want[key] = type === 'number' ? String(value) : type === 'path' ? relativeToFile(value as string, PATH) : value
  }
  assert.deepEqual(flags, want as StartFlags)
}, { share: 0.05 })
