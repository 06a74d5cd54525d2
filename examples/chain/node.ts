/**
 * One node of the example chain, run from the command line; prints one JSON
 * line per event on stdout and stops cleanly on SIGINT or SIGTERM.
 *
 * node dist/examples/chain/node.js --data-dir DIR [--listen MA]... [--bootstrap MA]...
 *      [--chain-id ID] [--produce] [--block-ms MS] [--fork-seed TEXT] [--relay gossip|flood]
 *      [--ip-limit-exempt RANGE]...
 */

import { parseArgs } from 'node:util'
import { ChainNode, DEFAULT_BLOCK_MS, type BlockRelay, type ChainEvent } from './chain-node.js'

const DEFAULT_CHAIN_ID = 'example-chain'
const DEFAULT_LISTEN = '/ip4/127.0.0.1/tcp/0'
/** exit code of a usage error, as peergate's CLI */
const EXIT_USAGE = 2

function print (event: ChainEvent): void {
  process.stdout.write(`${JSON.stringify(event)}\n`)
}

async function main (): Promise<number> {
  let flags
  try {
    flags = parseArgs({
      options: {
        'data-dir': { type: 'string' },
        listen: { type: 'string', multiple: true },
        bootstrap: { type: 'string', multiple: true },
        'chain-id': { type: 'string', default: DEFAULT_CHAIN_ID },
        produce: { type: 'boolean', default: false },
        'block-ms': { type: 'string', default: String(DEFAULT_BLOCK_MS) },
        'fork-seed': { type: 'string' },
        relay: { type: 'string', default: 'gossip' },
        'ip-limit-exempt': { type: 'string', multiple: true }
      }
    }).values
  } catch (err: any) {
    process.stderr.write(`${err.message}\n`)
    return EXIT_USAGE
  }
  const blockMs = Number(flags['block-ms'])
  if (flags['data-dir'] == null || !Number.isInteger(blockMs) || blockMs < 1 || !['gossip', 'flood'].includes(flags.relay)) {
    process.stderr.write('usage: node.js --data-dir DIR [--listen MA]... [--bootstrap MA]... [--chain-id ID] [--produce] [--block-ms MS] [--fork-seed TEXT] [--relay gossip|flood] [--ip-limit-exempt RANGE]...\n')
    return EXIT_USAGE
  }

  const chain = await ChainNode.start({
    dataDir: flags['data-dir'],
    listen: flags.listen ?? [DEFAULT_LISTEN],
    bootstrap: flags.bootstrap ?? [],
    chainId: flags['chain-id'],
    produce: flags.produce,
    blockMs,
    forkSeed: flags['fork-seed'],
    relay: flags.relay as BlockRelay,
    ipLimitExempt: flags['ip-limit-exempt'],
    onEvent: print
  })

  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      resolve()
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
  await chain.stop()
  return 0
}

main().then(
  (code) => { process.exit(code) },
  (err) => {
    process.stderr.write(`${err.stack ?? err}\n`)
    process.exit(1)
  }
)
