/**
 * @packageDocumentation
 *
 * The `peergate` command line: `peergate init` creates a data dir and an
 * example config file; `peergate start` runs a standalone node;
 * `status`, `peers`, `contacts`, `bans`, `connect`, … talk to a running one
 * through its status API.
 */

import { Command, CommanderError, Option } from 'commander'
// only what every command needs is imported here: `start` and `init` load the
// node (libp2p, LevelDB) when they run, so that the client commands start fast
import { buildInfo } from '../node/build-info.js'
import { DEFAULT_CHAIN_ID, DEFAULT_DATA_DIR, DEFAULT_LISTEN, DEFAULT_MAX_PEERS, MAX_SESSIONS_LIMIT } from '../node/constants.js'
import { DEFAULT_MAX_INBOUND_SESSIONS_PER_IP } from '../session/constants.js'
import { EXIT_OK, EXIT_USAGE, describeError, processIo } from './io.js'
import { LOG_FORMATS, LogOutput, type LogFormat } from './log-output.js'
import { eventText } from './output.js'
import { LOG_LEVELS, applyLogLevel, type LogLevel } from './log-level.js'
import { CONFIG_ENV } from './config.js'
import { CONFIG_FILE_NAME, DEFAULT_STATUS_INTERVAL_S } from './constants.js'
import type { InitFlags } from './init.js'
import { formatVersion } from './version.js'
import { addClientCommands } from './client-commands.js'
import { API_URL_FILE, DEFAULT_API_HOST, DEFAULT_API_PORT, DEFAULT_METRICS_HOST } from '../api/constants.js'
import type { CliIo } from './io.js'
import type { StartFlags } from './start.js'

/**
 * The options given on the command line, without commander's defaults (such
 * as `api: true` that `--no-api` implies), so that they do not hide the
 * environment's and the config file's
 */
function givenFlags<T> (command: Command): T {
  const opts = command.opts()
  return Object.fromEntries(Object.keys(opts).filter(key => command.getOptionValueSource(key) === 'cli').map(key => [key, opts[key]])) as T
}

function collect (value: string, previous: string[] = []): string[] {
  return [...previous, value]
}

/**
 * Runs the CLI on `argv` (the arguments after the program name) and resolves
 * with the exit code; `start` resolves once its node has stopped
 */
export async function runCli (argv: readonly string[], io: Partial<CliIo> = {}): Promise<number> {
  const cliIo: CliIo = { ...processIo(), ...io }
  let exitCode = EXIT_OK

  const program = new Command('peergate')
    .description('a libp2p node whose handshake decides which peers are real peers')
    .version(formatVersion(buildInfo()), '-V, --version', 'print the peergate version, the commit it was built from, libp2p\'s and Node\'s')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => { cliIo.stdout.write(text) },
      writeErr: (text) => { cliIo.stderr.write(text) }
    })
    .showHelpAfterError('(run with --help for usage)')
    .addOption(new Option('--log-level <level>', 'log to stderr through libp2p\'s debug namespaces: peergate:* at that level (default: silent, or what DEBUG says)')
      .choices(Object.keys(LOG_LEVELS)))
    .addOption(new Option('--log-format <format>', 'text (default) or json: one JSON object per line with time, level, component and message, for the CLI\'s lines and the debug namespaces')
      .choices(LOG_FORMATS))
    .option('--log-file <path>', 'append every line (the CLI\'s, and the debug namespaces instead of stderr) to this file, in --log-format')
    .hook('preAction', (_program, action) => {
      const { logLevel, logFormat, logFile } = program.opts<{ logLevel?: LogLevel, logFormat?: LogFormat, logFile?: string }>()
      if (logFormat != null || logFile != null) {
        let output: LogOutput
        try {
          output = new LogOutput({ format: logFormat ?? 'text', file: logFile, describe: eventText })
        } catch (err) {
          return program.error(`peergate: ${describeError(err)}`)
        }
        output.captureDebug()
        // the subcommands' tables stay tables; start's events are log lines
        if (action.name() === 'start') {
          cliIo.stdout = output.wrap(cliIo.stdout, 'stdout')
        }
        cliIo.stderr = output.wrap(cliIo.stderr, 'stderr')
      }
      if (logLevel != null) {
        applyLogLevel(logLevel)
      }
    })

  program.command('start')
    .description('run a standalone peer until SIGINT or SIGTERM')
    .option('--data-dir <dir>', `directory of the keys and datastore (default: "${DEFAULT_DATA_DIR}")`)
    .option('--listen <multiaddr>', `address to listen on, repeatable (default: ${DEFAULT_LISTEN.join(' ')})`, collect)
    .option('--bootstrap <multiaddr>', 'bootstrap peer address with /p2p/<peer id>, repeatable', collect)
    .option('--chain-id <id>', `chain to join (default: "${DEFAULT_CHAIN_ID}")`)
    .option('--genesis <hex>', 'genesis hash in hex (default: derived from the chain id)')
    .option('--reserved <multiaddr>', 'peer always kept connected, with /p2p/<peer id>, repeatable', collect)
    .option('--max-peers <n>', `sessions in all, 0 to ${MAX_SESSIONS_LIMIT}; one third of them outbound, at least 1; 0: a DHT-only node, no sessions (default: ${DEFAULT_MAX_PEERS})`)
    .option('--max-outbound <n>', 'sessions this node dials (its target); the rest of --max-peers are inbound')
    .option('--max-inbound <n>', 'sessions remote peers start; the rest of --max-peers are outbound')
    .option('--max-sessions-per-ip <n>', `inbound sessions from one source IP address (an IPv6 one by its /64), 1 to ${MAX_SESSIONS_LIMIT}; more are refused with TOO_MANY_FROM_IP (default: ${DEFAULT_MAX_INBOUND_SESSIONS_PER_IP})`)
    .option('--ip-limit-exempt <range>', 'source addresses outside --max-sessions-per-ip, a CIDR block (127.0.0.0/8) or an address, repeatable', collect)
    .option('--status-interval <seconds>', `print a status line every so many seconds, 0 for never (default: ${DEFAULT_STATUS_INTERVAL_S})`)
    .option('--json', 'print one JSON object per line')
    .option('--api-port <n>', `port of the status API on 127.0.0.1, 0 for one the OS picks (default: ${DEFAULT_API_PORT}); its URL goes into the data dir's ${API_URL_FILE}, where the subcommands find it`)
    .option('--api-host <host>', `address the status API listens on (default: ${DEFAULT_API_HOST}); another than loopback is warned about, as its reads need no token`)
    .option('--no-api', 'run without the status API')
    .option('--metrics-port <n>', 'serve GET /metrics alone, read-only and without a token, on a listener of its own at this port (0: one the OS picks), for a remote Prometheus')
    .option('--metrics-host <host>', `address of the metrics listener (default: ${DEFAULT_METRICS_HOST}; 0.0.0.0 for any)`)
    .option('--config <file>', `JSON config file of these options, keys in camelCase (default: $${CONFIG_ENV}); flags win over PEERGATE_* variables, which win over the file`)
    .action(async (_flags: StartFlags, command: Command) => {
      const { runStart } = await import('./start.js')
      exitCode = await runStart(givenFlags<StartFlags>(command), cliIo)
    })

  program.command('init')
    .description(`create a data dir: its keys, its chain, and an example ${CONFIG_FILE_NAME} for start --config`)
    .option('--data-dir <dir>', `directory to create (default: "${DEFAULT_DATA_DIR}")`)
    .option('--chain-id <id>', `chain it keeps to (default: "${DEFAULT_CHAIN_ID}")`)
    .option('--genesis <hex>', 'genesis hash in hex (default: derived from the chain id)')
    .option('--json', 'print one JSON object')
    .action(async (flags: InitFlags) => {
      const { runInit } = await import('./init.js')
      exitCode = await runInit(flags, cliIo)
    })

  addClientCommands(program, cliIo, (code) => { exitCode = code })

  try {
    await program.parseAsync(argv, { from: 'user' })
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === EXIT_OK ? EXIT_OK : EXIT_USAGE
    }
    throw err
  }
  return exitCode
}
