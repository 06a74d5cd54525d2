/**
 * Where `peergate start` takes its options from: flags, `PEERGATE_*`
 * environment variables and a JSON config file (`--config`), in that order of
 * precedence, then the defaults (as geth, Lodestar and Nuts do). Resolving is
 * a pure function; reading the file is the caller's.
 */
import { dirname, isAbsolute, join } from 'node:path'
import { InvalidParametersError } from '@libp2p/interface'
import type { StartFlags } from './start.js'

/**
 * How a start option is written in a config file and in the environment; a
 * `path` is a string that, in a config file, is relative to the file (as
 * systemd units, nginx includes and tsconfig's paths are), so that a config
 * works from any working directory; a flag's or a variable's stays relative
 * to the working directory
 */
type ConfigType = 'string' | 'path' | 'list' | 'number' | 'boolean'

/**
 * The config file's schema and the environment's: every key is a `start`
 * flag's long name in camelCase (`--chain-id` → `chainId`), and its variable is
 * `PEERGATE_` + the name in upper snake case (`PEERGATE_CHAIN_ID`). `api`
 * false is `--no-api`.
 */
export const START_CONFIG_KEYS = {
  dataDir: 'path',
  listen: 'list',
  bootstrap: 'list',
  reserved: 'list',
  chainId: 'string',
  genesis: 'string',
  maxPeers: 'number',
  maxOutbound: 'number',
  maxInbound: 'number',
  maxSessionsPerIp: 'number',
  ipLimitExempt: 'list',
  statusInterval: 'number',
  json: 'boolean',
  apiPort: 'number',
  apiHost: 'string',
  api: 'boolean',
  metricsPort: 'number',
  metricsHost: 'string'
} as const satisfies Record<string, ConfigType>

export type StartConfigKey = keyof typeof START_CONFIG_KEYS

/** The environment variable that points at a config file when `--config` is absent */
export const CONFIG_ENV = 'PEERGATE_CONFIG'

/** `--chain-id` → `chainId`'s flag; `--no-api` for `api` */
export function flagName (key: StartConfigKey): string {
  return key === 'api' ? '--no-api' : `--${key.replace(/[A-Z]/g, c => `-${c.toLowerCase()}`)}`
}

/** `chainId` → `PEERGATE_CHAIN_ID` */
export function envName (key: StartConfigKey): string {
  return `PEERGATE_${key.replace(/[A-Z]/g, c => `_${c}`).toUpperCase()}`
}

/** How messages name an option: where `origins` says it came from, else its flag */
export function optionName (origins: ResolvedStartConfig['origins'], key: StartConfigKey): string {
  return origins[key] ?? flagName(key)
}

/**
 * The data dir as the config file `peergate init` writes into it names it:
 * the file's own directory
 */
export const CONFIG_DATA_DIR = '.'

/** How messages name an option that came from the config file at `path` */
export function fileOrigin (key: StartConfigKey, path: string): string {
  return `${key} in ${path}`
}

/** A parsed config file: its path (for messages) and its JSON value */
export interface ConfigFile {
  path: string
  value: unknown
}

export interface StartConfigSources {
  /** the flags given on the command line, nothing else (no commander defaults) */
  flags: StartFlags
  env: Record<string, string | undefined>
  file?: ConfigFile
}

export interface ResolvedStartConfig {
  /** the options, as `startOptions` takes them */
  flags: StartFlags
  /** where each option came from, as messages name it: `--max-peers`, `PEERGATE_MAX_PEERS`, `maxPeers in peergate.json` */
  origins: Partial<Record<StartConfigKey, string>>
}

const ENV_TRUE = new Set(['1', 'true'])
const ENV_FALSE = new Set(['0', 'false'])

/**
 * The start options from flags over environment over config file; refuses an
 * unknown key or a wrong type in the file, and a malformed boolean in the
 * environment, with an InvalidParametersError naming the field and where it
 * is. Ranges are `startOptions`'s to check, under the origin's name.
 */
export function resolveStartConfig ({ flags, env, file }: StartConfigSources): ResolvedStartConfig {
  const fromFile = file == null ? {} : fileFlags(file)
  const resolved: Record<string, unknown> = {}
  const origins: ResolvedStartConfig['origins'] = {}
  for (const key of Object.keys(START_CONFIG_KEYS) as StartConfigKey[]) {
    const flag = flags[key]
    const variable = envFlag(key, env[envName(key)])
    const fromConfig = fromFile[key]
    if (flag !== undefined) {
      resolved[key] = flag
      origins[key] = flagName(key)
    } else if (variable !== undefined) {
      resolved[key] = variable
      origins[key] = envName(key)
    } else if (fromConfig !== undefined) {
      resolved[key] = fromConfig
      origins[key] = fileOrigin(key, file?.path ?? '')
    }
  }
  return { flags: resolved as StartFlags, origins }
}

/** One environment variable as a flag's value: lists comma-separated, booleans 1/0/true/false */
function envFlag (key: StartConfigKey, value: string | undefined): StartFlags[StartConfigKey] | undefined {
  if (value == null || value === '') {
    return undefined
  }
  switch (START_CONFIG_KEYS[key]) {
    case 'list':
      return value.split(',').map(item => item.trim()).filter(item => item !== '')
    case 'boolean': {
      const lower = value.toLowerCase()
      if (!ENV_TRUE.has(lower) && !ENV_FALSE.has(lower)) {
        throw new InvalidParametersError(`${envName(key)} must be true or false (or 1 or 0), got ${JSON.stringify(value)}`)
      }
      return ENV_TRUE.has(lower)
    }
    default:
      return value
  }
}

/** The config file's values as flags, after checking its keys and their types */
function fileFlags ({ path, value }: ConfigFile): Partial<Record<StartConfigKey, StartFlags[StartConfigKey]>> {
  if (value == null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidParametersError(`config file ${path} must hold a JSON object`)
  }
  const out: Partial<Record<StartConfigKey, StartFlags[StartConfigKey]>> = {}
  for (const [key, item] of Object.entries(value)) {
    if (!Object.hasOwn(START_CONFIG_KEYS, key)) {
      throw new InvalidParametersError(`config file ${path}: unknown key ${JSON.stringify(key)} (known: ${Object.keys(START_CONFIG_KEYS).join(', ')})`)
    }
    const type = START_CONFIG_KEYS[key as StartConfigKey]
    const wrong = (expected: string): InvalidParametersError =>
      new InvalidParametersError(`config file ${path}: ${JSON.stringify(key)} must be ${expected}, got ${JSON.stringify(item)}`)
    switch (type) {
      case 'string':
        if (typeof item !== 'string') {
          throw wrong('a string')
        }
        out[key as StartConfigKey] = item
        break
      case 'path':
        if (typeof item !== 'string') {
          throw wrong('a string')
        }
        out[key as StartConfigKey] = relativeToFile(item, path)
        break
      case 'list':
        if (!Array.isArray(item) || !item.every(entry => typeof entry === 'string')) {
          throw wrong('an array of strings')
        }
        out[key as StartConfigKey] = item
        break
      case 'number':
        if (typeof item !== 'number') {
          throw wrong('a number')
        }
        // startOptions checks that it is whole and in range
        out[key as StartConfigKey] = String(item)
        break
      case 'boolean':
        if (typeof item !== 'boolean') {
          throw wrong('true or false')
        }
        out[key as StartConfigKey] = item
        break
    }
  }
  return out
}

/**
 * A path written in the config file at `file`, as the working directory sees
 * it: an absolute one as it is, a relative one joined to the file's
 * directory (itself as `file` was given, so no working directory is read)
 */
export function relativeToFile (value: string, file: string): string {
  return isAbsolute(value) || value === '' ? value : join(dirname(file), value)
}

/**
 * A config file's text as JSON; lines whose first non-blank characters are
 * `//` are comments (they cannot be JSON), so that `peergate init`'s example
 * can explain itself
 */
export function parseConfigText (text: string, path: string): ConfigFile {
  const json = text.split('\n').filter(line => !line.trimStart().startsWith('//')).join('\n')
  try {
    return { path, value: JSON.parse(json) }
  } catch (err: any) {
    throw new InvalidParametersError(`config file ${path} is not JSON: ${err.message as string}`)
  }
}
