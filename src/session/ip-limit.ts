/*
 * Where an inbound session comes from, for the limit of inbound sessions per
 * source (docs/PROTOCOL.md §8.1 check 6): the IP address of the connection's
 * remote end, grouped as one host would hold them, and the address ranges an
 * operator exempts from the limit. Pure: no I/O.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net'
import { InvalidParametersError } from '@libp2p/interface'
import { IPV6_SOURCE_PREFIX_BITS } from './constants.js'
import type { Multiaddr } from '@multiformats/multiaddr'

/** The IP address a connection comes from */
export interface SourceIp {
  address: string
  family: 'ipv4' | 'ipv6'
}

/**
 * The IP address of `addr`'s remote end; undefined for an address that has
 * none of its own (a relayed connection, whose IP is the relay's; the memory
 * transport). An IPv4-mapped IPv6 address is its IPv4 address.
 */
export function sourceIp (addr: Multiaddr): SourceIp | undefined {
  const components = addr.getComponents()
  if (components.some(c => c.name === 'p2p-circuit')) {
    return undefined
  }
  const ip = components.find(c => c.name === 'ip4' || c.name === 'ip6')
  if (ip?.value == null) {
    return undefined
  }
  if (ip.name === 'ip4') {
    return { address: ip.value, family: 'ipv4' }
  }
  const words = ipv6Words(ip.value)
  if (words != null && words.slice(0, 5).every(w => w === 0) && words[5] === 0xffff) {
    return { address: [words[6] >> 8, words[6] & 0xff, words[7] >> 8, words[7] & 0xff].join('.'), family: 'ipv4' }
  }
  return { address: ip.value, family: 'ipv6' }
}

/**
 * The source a per-IP limit counts: an IPv4 address itself; an IPv6 address
 * by its first IPV6_SOURCE_PREFIX_BITS (64) bits, `2001:db8:0:1::/64`,
 * since one host or subscriber is handed a whole /64 and picks any address
 * in it at will (SLAAC, privacy addresses)
 */
export function sourceGroup (ip: SourceIp): string {
  if (ip.family === 'ipv4') {
    return ip.address
  }
  const words = ipv6Words(ip.address)
  if (words == null) {
    return ip.address
  }
  const prefix = words.slice(0, IPV6_SOURCE_PREFIX_BITS / 16).map(w => w.toString(16)).join(':')
  return `${prefix}::/${IPV6_SOURCE_PREFIX_BITS}`
}

/** The eight 16-bit words of an IPv6 address (a zone `%eth0` ignored); undefined if it is not one */
function ipv6Words (address: string): number[] | undefined {
  const text = address.split('%')[0]
  if (!isIPv6(text)) {
    return undefined
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined]
  const parse = (part: string | undefined): number[] => {
    if (part == null || part === '') {
      return []
    }
    return part.split(':').flatMap(word => {
      if (isIPv4(word)) {
        const [a, b, c, d] = word.split('.').map(Number)
        return [(a << 8) | b, (c << 8) | d]
      }
      return [parseInt(word, 16)]
    })
  }
  const front = parse(head)
  const back = parse(tail)
  const zeros = tail == null ? [] : new Array(8 - front.length - back.length).fill(0)
  return [...front, ...zeros, ...back]
}

/**
 * Address ranges exempt from the per-IP limit, as an operator writes them:
 * CIDR blocks (`127.0.0.0/8`, `fd00::/8`) or single addresses (`10.0.0.7`)
 */
export class IpRanges {
  /** the ranges as given, for the status and the logs */
  readonly list: readonly string[]
  private readonly blocks = new BlockList()

  /**
   * @param name - the option the ranges come from, for the error message
   * @throws InvalidParametersError naming the first entry that is neither an address nor a CIDR block
   */
  constructor (ranges: readonly string[] = [], name = 'ipLimitExempt') {
    this.list = [...ranges]
    for (const range of ranges) {
      const [address, bits, extra] = String(range).split('/')
      const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined
      const max = family === 'ipv4' ? 32 : 128
      const prefix = bits == null ? max : /^\d+$/.test(bits) ? Number(bits) : NaN
      if (family == null || extra != null || !(prefix >= 0 && prefix <= max)) {
        throw new InvalidParametersError(`${name}: an IP range is an address or a CIDR block such as 127.0.0.0/8 or fd00::/8, got ${JSON.stringify(range)}`)
      }
      this.blocks.addSubnet(address, prefix, family)
    }
  }

  /** whether `ip` lies in one of the ranges */
  contains (ip: SourceIp): boolean {
    return this.blocks.check(ip.address, ip.family)
  }
}
