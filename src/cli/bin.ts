#!/usr/bin/env node
import { EXIT_FAILURE, describeError } from './io.js'
import { runCli } from './index.js'

async function flush (stream: NodeJS.WriteStream): Promise<void> {
  await new Promise<void>(resolve => { stream.write('', () => { resolve() }) })
}

let code: number
try {
  code = await runCli(process.argv.slice(2))
} catch (err) {
  process.stderr.write(`peergate: ${describeError(err)}\n`)
  code = EXIT_FAILURE
}
await flush(process.stdout)
await flush(process.stderr)
process.exit(code)
