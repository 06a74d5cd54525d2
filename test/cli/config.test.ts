import assert from 'node:assert/strict'
import { test } from 'node:test'
import { envName, flagName, parseConfigText, resolveStartConfig } from '../../src/cli/config.js'
import { startListeners, startOptions } from '../../src/cli/start.js'
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
      flags: { chainId: 'env-chain', maxPeers: '9', dataDir: 'node1' },
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
      name: 'the limit per IP and its exempt ranges, from the file and the environment',
      sources: { flags: {}, env: { PEERGATE_IP_LIMIT_EXEMPT: '127.0.0.0/8, ::1' }, file: file({ maxSessionsPerIp: 2, ipLimitExempt: ['10.0.0.0/8'] }) },
      flags: { maxSessionsPerIp: '2', ipLimitExempt: ['127.0.0.0/8', '::1'] },
      origins: { maxSessionsPerIp: `maxSessionsPerIp in ${FILE}`, ipLimitExempt: 'PEERGATE_IP_LIMIT_EXEMPT' }
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
    { sources: { flags: {}, env: {}, file: file({ maxPeer: 5 }) }, message: `config file ${FILE}: unknown key "maxPeer" (known: dataDir, listen, bootstrap, reserved, chainId, genesis, maxPeers, maxOutbound, maxInbound, maxSessionsPerIp, ipLimitExempt, statusInterval, json, apiPort, apiHost, api, metricsPort, metricsHost)` },
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
    { sources: { flags: {}, env: { PEERGATE_GENESIS: 'zz' } }, message: /^PEERGATE_GENESIS must be a 32-byte hash/ },
    { sources: { flags: {}, env: {}, file: file({ maxSessionsPerIp: 0 }) }, message: /^maxSessionsPerIp in peergate\.json must be a whole number from 1 to 10000, got "0"$/ },
    { sources: { flags: {}, env: {}, file: file({ ipLimitExempt: ['127.0.0.0/8', 'loopback'] }) }, message: /^ipLimitExempt in peergate\.json: an IP range is an address or a CIDR block .*, got "loopback"$/ },
    { sources: { flags: {}, env: { PEERGATE_IP_LIMIT_EXEMPT: '10.0.0.0/33' } }, message: /^PEERGATE_IP_LIMIT_EXEMPT: an IP range/ }
  ]
  for (const { sources, message } of cases) {
    const { flags, origins } = resolveStartConfig(sources)
    assert.throws(() => startOptions(flags, origins), { name: 'InvalidParametersError', message })
  }
})

test('where the API and the metrics listen: loopback by default, hosts and ports from flags, variables or the file; the metrics listener only with a port', () => {
  const cases: Array<{ name: string, sources: StartConfigSources, listeners: object }> = [
    { name: 'defaults: the API on loopback, a port the OS picks; no metrics listener', sources: { flags: {}, env: {} }, listeners: { api: { host: '127.0.0.1', port: 0 }, metrics: undefined } },
    { name: '--no-api', sources: { flags: { api: false, apiHost: '0.0.0.0' }, env: {} }, listeners: { api: undefined, metrics: undefined } },
    { name: 'the API host from the environment', sources: { flags: { apiPort: '5080' }, env: { PEERGATE_API_HOST: '::1' } }, listeners: { api: { host: '::1', port: 5080 }, metrics: undefined } },
    { name: 'the metrics listener from the file, on loopback unless a host is given', sources: { flags: {}, env: {}, file: file({ metricsPort: 9464 }) }, listeners: { api: { host: '127.0.0.1', port: 0 }, metrics: { host: '127.0.0.1', port: 9464 } } },
    { name: 'metrics host and port, without the API', sources: { flags: { api: false, metricsHost: '0.0.0.0' }, env: { PEERGATE_METRICS_PORT: '0' } }, listeners: { api: undefined, metrics: { host: '0.0.0.0', port: 0 } } }
  ]
  for (const { name, sources, listeners } of cases) {
    const { flags, origins } = resolveStartConfig(sources)
    assert.deepEqual(startListeners(flags, origins), listeners, name)
  }
  const errors: Array<{ sources: StartConfigSources, message: RegExp }> = [
    { sources: { flags: { apiHost: 'example.com' }, env: {} }, message: /^--api-host must be an IP address .* or localhost, got "example\.com"$/ },
    { sources: { flags: {}, env: {}, file: file({ metricsPort: 70000 }) }, message: /^metricsPort in peergate\.json must be a whole number from 0 to 65535, got "70000"$/ },
    { sources: { flags: { metricsHost: '0.0.0.0' }, env: {} }, message: /^--metrics-host needs --metrics-port: the metrics listener is off without a port$/ },
    { sources: { flags: { metricsPort: '9464' }, env: { PEERGATE_METRICS_HOST: 'any' } }, message: /^PEERGATE_METRICS_HOST must be an IP address/ }
  ]
  for (const { sources, message } of errors) {
    const { flags, origins } = resolveStartConfig(sources)
    assert.throws(() => startListeners(flags, origins), { name: 'InvalidParametersError', message })
  }
})

test('a path in a config file is relative to the file; a flag\'s or a variable\'s to the working directory', () => {
  const cases: Array<{ name: string, sources: StartConfigSources, dataDir: string | undefined }> = [
    { name: 'the data dir init writes, in a file given by a relative path', sources: { flags: {}, env: {}, file: { path: './node3/config.json', value: { dataDir: '.' } } }, dataDir: 'node3' },
    { name: 'a relative data dir beside an absolute file', sources: { flags: {}, env: {}, file: { path: '/etc/peergate/node.json', value: { dataDir: './data' } } }, dataDir: '/etc/peergate/data' },
    { name: 'a data dir above the file', sources: { flags: {}, env: {}, file: { path: '/srv/conf/node.json', value: { dataDir: '../nodes/n1' } } }, dataDir: '/srv/nodes/n1' },
    { name: 'a file above the working directory', sources: { flags: {}, env: {}, file: { path: '../elsewhere/node3/config.json', value: { dataDir: '.' } } }, dataDir: '../elsewhere/node3' },
    { name: 'a file in the working directory', sources: { flags: {}, env: {}, file: { path: 'peergate.json', value: { dataDir: 'node1' } } }, dataDir: 'node1' },
    { name: 'an absolute data dir stays as it is', sources: { flags: {}, env: {}, file: { path: '/etc/peergate/node.json', value: { dataDir: '/var/lib/peergate' } } }, dataDir: '/var/lib/peergate' },
    { name: 'the variable stays relative to the working directory', sources: { flags: {}, env: { PEERGATE_DATA_DIR: './n2' }, file: { path: '/etc/peergate/node.json', value: { dataDir: './data' } } }, dataDir: './n2' },
    { name: 'the flag stays relative to the working directory', sources: { flags: { dataDir: './n3' }, env: {}, file: { path: '/etc/peergate/node.json', value: { dataDir: './data' } } }, dataDir: './n3' },
    { name: 'no data dir anywhere: the default, later', sources: { flags: {}, env: {}, file: { path: '/etc/peergate/node.json', value: {} } }, dataDir: undefined }
  ]
  for (const { name, sources, dataDir } of cases) {
    assert.equal(resolveStartConfig(sources).flags.dataDir, dataDir, name)
  }
  assert.throws(() => resolveStartConfig({ flags: {}, env: {}, file: file({ dataDir: 1 }) }), { name: 'InvalidParametersError', message: `config file ${FILE}: "dataDir" must be a string, got 1` })
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
