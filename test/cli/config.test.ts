import assert from 'node:assert/strict'
import { test } from 'node:test'
import { envName, flagName, parseConfigText, resolveStartConfig } from '../../src/cli/config.js'
import { startOptions } from '../../src/cli/start.js'
import type { ConfigFile, StartConfigSources } from '../../src/cli/config.js'

const FILE = 'peergate.json'

function file (value: unknown): ConfigFile {
  return { path: FILE, value }
}

test('flags win over the environment, which wins over the config file', () => {
  const cases: Array<{ name: string, sources: StartConfigSources, flags: object, origins: object }> = [
    { name: 'nothing given', sources: { flags: {}, env: {} }, flags: {}, origins: {} },
    {
      name: 'the file alone',
      sources: { flags: {}, env: {}, file: file({ chainId: 'devnet-1', listen: ['/ip4/127.0.0.1/tcp/4001'], maxPeers: 50, apiPort: 5080, api: false, json: true }) },
      flags: { chainId: 'devnet-1', listen: ['/ip4/127.0.0.1/tcp/4001'], maxPeers: '50', apiPort: '5080', api: false, json: true },
      origins: { chainId: `chainId in ${FILE}`, listen: `listen in ${FILE}`, maxPeers: `maxPeers in ${FILE}`, apiPort: `apiPort in ${FILE}`, api: `api in ${FILE}`, json: `json in ${FILE}` }
    },
    {
      name: 'the environment over the file',
      sources: { flags: {}, env: { PEERGATE_CHAIN_ID: 'env-chain', PEERGATE_MAX_PEERS: '9' }, file: file({ chainId: 'devnet-1', maxPeers: 50, dataDir: './node1' }) },
      flags: { chainId: 'env-chain', maxPeers: '9', dataDir: './node1' },
      origins: { chainId: 'PEERGATE_CHAIN_ID', maxPeers: 'PEERGATE_MAX_PEERS', dataDir: `dataDir in ${FILE}` }
    },
    {
      name: 'a flag over both',
      sources: { flags: { chainId: 'flag-chain' }, env: { PEERGATE_CHAIN_ID: 'env-chain' }, file: file({ chainId: 'devnet-1' }) },
      flags: { chainId: 'flag-chain' },
      origins: { chainId: '--chain-id' }
    },
    {
      name: 'lists replace, they do not add up; the environment\'s are comma-separated',
      sources: { flags: { listen: ['/ip4/0.0.0.0/tcp/1'] }, env: { PEERGATE_LISTEN: '/ip4/0.0.0.0/tcp/2', PEERGATE_BOOTSTRAP: ' /a/p2p/x , /b/p2p/y ,' }, file: file({ listen: ['/ip4/0.0.0.0/tcp/3'], bootstrap: ['/c'] }) },
      flags: { listen: ['/ip4/0.0.0.0/tcp/1'], bootstrap: ['/a/p2p/x', '/b/p2p/y'] },
      origins: { listen: '--listen', bootstrap: 'PEERGATE_BOOTSTRAP' }
    },
    {
      name: 'booleans from the environment; an empty variable is absent',
      sources: { flags: {}, env: { PEERGATE_API: 'false', PEERGATE_JSON: '1', PEERGATE_GENESIS: '' }, file: file({ api: true, genesis: '0x' + '00'.repeat(32) }) },
      flags: { api: false, json: true, genesis: '0x' + '00'.repeat(32) },
      origins: { api: 'PEERGATE_API', json: 'PEERGATE_JSON', genesis: `genesis in ${FILE}` }
    },
    {
      name: '--no-api over the file',
      sources: { flags: { api: false }, env: {}, file: file({ api: true }) },
      flags: { api: false },
      origins: { api: '--no-api' }
    },
    {
      name: 'other variables are not peergate\'s options',
      sources: { flags: {}, env: { PEERGATE_CHROMIUM: '/usr/bin/chromium', PATH: '/bin' } },
      flags: {},
      origins: {}
    }
  ]
  for (const { name, sources, flags, origins } of cases) {
    assert.deepEqual(resolveStartConfig(sources), { flags, origins }, name)
  }
})

test('a bad config file or variable is refused, naming the field and where it is', () => {
  const cases: Array<{ sources: StartConfigSources, message: string }> = [
    { sources: { flags: {}, env: {}, file: file({ maxPeer: 5 }) }, message: `config file ${FILE}: unknown key "maxPeer" (known: dataDir, listen, bootstrap, reserved, chainId, genesis, maxPeers, maxOutbound, maxInbound, statusInterval, json, apiPort, api)` },
    { sources: { flags: {}, env: {}, file: file({ maxPeers: '50' }) }, message: `config file ${FILE}: "maxPeers" must be a number, got "50"` },
    { sources: { flags: {}, env: {}, file: file({ listen: '/ip4/127.0.0.1/tcp/1' }) }, message: `config file ${FILE}: "listen" must be an array of strings, got "/ip4/127.0.0.1/tcp/1"` },
    { sources: { flags: {}, env: {}, file: file({ bootstrap: [1] }) }, message: `config file ${FILE}: "bootstrap" must be an array of strings, got [1]` },
    { sources: { flags: {}, env: {}, file: file({ chainId: 7 }) }, message: `config file ${FILE}: "chainId" must be a string, got 7` },
    { sources: { flags: {}, env: {}, file: file({ api: 'no' }) }, message: `config file ${FILE}: "api" must be true or false, got "no"` },
    { sources: { flags: {}, env: {}, file: file([]) }, message: `config file ${FILE} must hold a JSON object` },
    { sources: { flags: {}, env: { PEERGATE_JSON: 'yes' } }, message: 'PEERGATE_JSON must be true or false (or 1 or 0), got "yes"' },
    // a flag does not excuse a bad file
    { sources: { flags: { chainId: 'x' }, env: {}, file: file({ chainId: null }) }, message: `config file ${FILE}: "chainId" must be a string, got null` }
  ]
  for (const { sources, message } of cases) {
    assert.throws(() => resolveStartConfig(sources), { name: 'InvalidParametersError', message }, message)
  }
})

test('ranges are checked under the name of where the value came from', () => {
  const cases: Array<{ sources: StartConfigSources, message: RegExp }> = [
    { sources: { flags: {}, env: {}, file: file({ maxPeers: -1 }) }, message: /^maxPeers in peergate\.json must be a whole number from 0 to 10000, got "-1"$/ },
    { sources: { flags: {}, env: {}, file: file({ maxInbound: 2.5 }) }, message: /^maxInbound in peergate\.json must be a whole number/ },
    { sources: { flags: {}, env: { PEERGATE_MAX_OUTBOUND: 'many' } }, message: /^PEERGATE_MAX_OUTBOUND must be a whole number/ },
    { sources: { flags: { genesis: 'zz' }, env: {} }, message: /^--genesis must be a 32-byte hash/ },
    { sources: { flags: {}, env: { PEERGATE_GENESIS: 'zz' } }, message: /^PEERGATE_GENESIS must be a 32-byte hash/ }
  ]
  for (const { sources, message } of cases) {
    const { flags, origins } = resolveStartConfig(sources)
    assert.throws(() => startOptions(flags, origins), { name: 'InvalidParametersError', message })
  }
})

test('names: flags in kebab case, variables in upper snake case', () => {
  assert.equal(flagName('chainId'), '--chain-id')
  assert.equal(flagName('api'), '--no-api')
  assert.equal(envName('chainId'), 'PEERGATE_CHAIN_ID')
  assert.equal(envName('maxOutbound'), 'PEERGATE_MAX_OUTBOUND')
  assert.equal(envName('dataDir'), 'PEERGATE_DATA_DIR')
})

test('a config file may have // comment lines; anything else must be JSON', () => {
  assert.deepEqual(parseConfigText('// a node\n{\n  // its chain\n  "chainId": "devnet-1"\n}\n', FILE), file({ chainId: 'devnet-1' }))
  assert.throws(() => parseConfigText('{ chainId: 1 }', FILE), { name: 'InvalidParametersError', message: /^config file peergate\.json is not JSON: / })
})
