import { Command, InvalidArgumentError } from 'commander'
import { DEFAULT_DATA_DIR } from '../node/constants.js'
import { ApiCallError, ApiClient } from './api-client.js'
import { envName } from './config.js'
import { EXIT_FAILURE, EXIT_OK, describeError } from './io.js'
import { formatBans, formatContacts, formatPeers, formatRejects, formatReserved, formatStatus } from './tables.js'
import type { CliIo } from './io.js'
import type { BanView, ContactView, PeerView, RejectRecord, ReservedView, StatusView } from '../index.js'

/** The variable that names the data dir when `--data-dir` is absent, for the subcommands as for `start` */
const DATA_DIR_ENV = envName('dataDir')

interface ClientFlags {
  /** full peer ids and DIDs in tables */
  wide?: boolean
  api?: string
  dataDir?: string
  json?: boolean
}

function nonEmpty (value: string | undefined): string | undefined {
  return value == null || value === '' ? undefined : value
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** `90s`, `10m`, `2h`, `7d`, `500ms` → milliseconds */
export function parseDuration (value: string): number {
  const match = /^(\d{1,9})(ms|s|m|h|d)$/.exec(value.trim())
  if (match == null || Number(match[1]) === 0) {
    throw new InvalidArgumentError(`a duration is a positive whole number with a unit (ms, s, m, h, d), e.g. 30m; got ${JSON.stringify(value)}`)
  }
  return Number(match[1]) * UNIT_MS[match[2]]
}

/**
 * Adds the subcommands that talk to a running node through its status API:
 * status, peers, contacts, rejects, bans, connect, disconnect, ban, unban,
 * backoff clear. Each prints a table or, with `--json`, the API's JSON.
 */
export function addClientCommands (program: Command, io: CliIo, setExitCode: (code: number) => void): void {
  const client = (flags: ClientFlags): ApiClient => new ApiClient({
    api: flags.api,
    dataDir: flags.dataDir ?? nonEmpty(io.env[DATA_DIR_ENV]) ?? DEFAULT_DATA_DIR
  })
  const print = (flags: ClientFlags, value: unknown, human: string): void => {
    io.stdout.write(flags.json === true ? `${JSON.stringify(value, null, 2)}\n` : human)
  }
  const run = (action: (flags: ClientFlags, ...args: any[]) => Promise<void>) => async (...args: any[]): Promise<void> => {
    const command = args[args.length - 1] as Command
    const flags = command.optsWithGlobals<ClientFlags>()
    try {
      await action(flags, ...args.slice(0, -2))
      setExitCode(EXIT_OK)
    } catch (err) {
      io.stderr.write(`peergate: ${err instanceof ApiCallError ? err.message : describeError(err)}\n`)
      setExitCode(EXIT_FAILURE)
    }
  }
  const define = (parent: Command, name: string, description: string): Command => parent.command(name)
    .description(description)
    .option('--api <url>', 'the node\'s status API (default: the URL the node wrote into its data dir)')
    .option('--data-dir <dir>', `the node's data dir, where its API URL and token are (default: $${DATA_DIR_ENV}, else "${DEFAULT_DATA_DIR}")`)
    .option('--json', 'print the API\'s JSON')
  /** a command that prints a table: shortened ids unless --wide */
  const defineTable = (parent: Command, name: string, description: string): Command => define(parent, name, description)
    .option('--wide', 'print whole peer ids and DIDs (default: 12D3KooW…abcdef, did:key:z6Mk…wxyz), and peers\' agents')

  define(program, 'status', 'print a running node\'s identity, chain and counts')
    .action(run(async (flags) => {
      const status = await client(flags).get<StatusView>('/status')
      print(flags, status, formatStatus(status))
    }))
  defineTable(program, 'peers', 'list a running node\'s connections: sessions, handshakes, auxiliary')
    .action(run(async (flags) => {
      const peers = await client(flags).get<PeerView[]>('/peers')
      print(flags, peers, formatPeers(peers, flags))
    }))
  const contacts = defineTable(program, 'contacts', 'list a running node\'s address book with backoffs; add or remove a contact')
    .action(run(async (flags) => {
      const contacts = await client(flags).get<ContactView[]>('/contacts')
      print(flags, contacts, formatContacts(contacts, Date.now(), flags))
    }))
  define(contacts, 'add', 'add a contact to the address book: the dial loop dials it when it has a free outbound slot')
    .argument('<multiaddr...>', 'the peer\'s address, with /p2p/<peer id>')
    .action(run(async (flags, addrs: string[]) => {
      const result = await client(flags).post<{ contacts: ContactView[] }>('/contacts', { addr: addrs })
      print(flags, result, result.contacts.map(c => `contact added: ${c.peerId}\n`).join(''))
    }))
  define(contacts, 'remove', 'remove a contact from the address book (a session with it stays)')
    .argument('<peer>', 'peer id')
    .action(run(async (flags, peer: string) => {
      const result = await client(flags).delete('/contacts', { peer })
      print(flags, result, `contact removed: ${peer}\n`)
    }))
  defineTable(program, 'rejects', 'list the peers a running node rejected or disconnected lately')
    .action(run(async (flags) => {
      const rejects = await client(flags).get<RejectRecord[]>('/rejects')
      print(flags, rejects, formatRejects(rejects, flags))
    }))
  const reserved = defineTable(program, 'reserved', 'list a running node\'s reserved peers (kept connected, outside the limits); add or remove one')
    .action(run(async (flags) => {
      const peers = await client(flags).get<ReservedView[]>('/reserved')
      print(flags, peers, formatReserved(peers, flags))
    }))
  defineTable(reserved, 'list', 'list the reserved peers')
    .action(run(async (flags) => {
      const peers = await client(flags).get<ReservedView[]>('/reserved')
      print(flags, peers, formatReserved(peers, flags))
    }))
  define(reserved, 'add', 'reserve a peer from now on, and after a restart (kept in the data dir)')
    .argument('<multiaddr...>', 'the peer\'s address, with /p2p/<peer id>')
    .action(run(async (flags, addrs: string[]) => {
      const result = await client(flags).post<{ reserved: string[] }>('/reserved', { addr: addrs })
      print(flags, result, result.reserved.map(peer => `reserved: ${peer}\n`).join(''))
    }))
  define(reserved, 'remove', 'stop reserving a peer: it becomes an ordinary contact, its session stays unless --disconnect')
    .argument('<peer>', 'peer id')
    .option('--disconnect', 'also end its session')
    .action(run(async (flags: ClientFlags & { disconnect?: boolean }, peer: string) => {
      const result = await client(flags).delete('/reserved', { peer, disconnect: flags.disconnect === true })
      print(flags, result, `no longer reserved: ${peer}${flags.disconnect === true ? ' (disconnected)' : ''}\n`)
    }))
  defineTable(program, 'bans', 'list a running node\'s bans')
    .action(run(async (flags) => {
      const bans = await client(flags).get<BanView[]>('/bans')
      print(flags, bans, formatBans(bans, flags))
    }))
  define(program, 'connect', 'dial a peer and run the handshake')
    .argument('<multiaddr>', 'the peer\'s address, with /p2p/<peer id>')
    .action(run(async (flags, addr: string) => {
      const result = await client(flags).post<{ peerId: string, did: string, direction: string }>('/connect', { addr })
      print(flags, result, `session open: ${result.peerId} ${result.did} (${result.direction})\n`)
    }))
  define(program, 'disconnect', 'end the session with a peer')
    .argument('<peer>', 'peer id')
    .option('--reason <code>', 'the reason code sent in the Goodbye')
    .action(run(async (flags: ClientFlags & { reason?: string }, peer: string) => {
      const result = await client(flags).post('/disconnect', { peer, reason: flags.reason })
      print(flags, result, `disconnected ${peer}\n`)
    }))
  define(program, 'ban', 'ban a peer id or a DID (its session ends)')
    .argument('<target>', 'peer id or DID')
    .option('--for <duration>', 'how long, e.g. 30m, 12h, 7d (default: the node\'s, a day)', parseDuration)
    .action(run(async (flags: ClientFlags & { for?: number }, target: string) => {
      const result = await client(flags).post<{ until?: number }>('/ban', { target, forMs: flags.for })
      print(flags, result, `banned ${target}${result.until == null ? '' : ` until ${new Date(result.until).toISOString()}`}\n`)
    }))
  define(program, 'unban', 'lift the ban of a peer id or a DID')
    .argument('<target>', 'peer id or DID')
    .action(run(async (flags, target: string) => {
      const result = await client(flags).post('/unban', { target })
      print(flags, result, `unbanned ${target}\n`)
    }))
  const backoff = program.command('backoff').description('the address book\'s dial backoffs')
  define(backoff, 'clear', 'let the dial loop try a contact (or every contact) now')
    .argument('[peer]', 'peer id; every contact when left out')
    .action(run(async (flags, peer?: string) => {
      const result = await client(flags).post<{ cleared: string[] }>('/backoff/clear', { peer })
      print(flags, result, backoffCleared(result.cleared, peer))
    }))
}

/** What `backoff clear` did, counted: a contact without a backoff had nothing to clear */
export function backoffCleared (cleared: string[], peer?: string): string {
  if (peer != null) {
    return cleared.length === 0 ? `${peer} had no backoff: nothing cleared\n` : `cleared the backoff of ${peer}\n`
  }
  return cleared.length === 0 ? 'no contact had a backoff: nothing cleared\n' : `cleared the backoff of ${cleared.length} contact${cleared.length === 1 ? '' : 's'}\n`
}
