import { isIP } from 'node:net'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * Whether a listening host only takes connections from this machine:
 * `localhost`, 127.0.0.0/8 (all of it is loopback), `::1` and an IPv4-mapped
 * 127.x address
 */
export function isLoopbackHost (host: string): boolean {
  if (host === 'localhost') {
    return true
  }
  switch (isIP(host)) {
    case 4:
      return host.split('.')[0] === '127'
    case 6: {
      // the URL parser writes an IPv6 address in its shortest form
      const canonical = new URL(`http://[${host}]`).hostname.slice(1, -1)
      return canonical === '::1' || /^::ffff:(7f[0-9a-f]{2}:[0-9a-f]{1,4}|127\.)/.test(canonical)
    }
    default:
      return false
  }
}

/** Listens on `host`:`port` (0: one the OS picks); rejects as node:http does (EADDRINUSE, EADDRNOTAVAIL, …) */
export async function listen (server: Server, port: number, host: string): Promise<AddressInfo> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  return server.address() as AddressInfo
}

/** Stops `server`: drops its open connections (keep-alive ones included) and resolves once it has closed */
export async function close (server: Server): Promise<void> {
  server.closeAllConnections()
  await new Promise<void>(resolve => { server.close(() => { resolve() }) })
}

/** `http://host:port` of a listening address, IPv6 in brackets */
export function httpUrl (address: AddressInfo): string {
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return `http://${host}:${address.port}`
}
