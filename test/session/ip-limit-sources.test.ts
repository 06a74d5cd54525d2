import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { multiaddr } from '@multiformats/multiaddr'
import { IpRanges, sourceGroup, sourceIp } from '../../src/session/ip-limit.js'

describe('sources of inbound sessions', () => {
  it('sourceIp and sourceGroup: an IPv4 address is its own source, an IPv6 one counts by its /64, a mapped IPv4 as IPv4, relayed and memory connections have none', () => {
    const table: Array<[string, string | undefined]> = [
      // the connection's remote address, the source counted
      ['/ip4/192.0.2.7/tcp/4001', '192.0.2.7'],
      ['/ip4/127.0.0.5/tcp/51234', '127.0.0.5'],
      ['/ip6/2001:db8:0:1::7/tcp/4001', '2001:db8:0:1::/64'],
      ['/ip6/2001:db8:0:1:aaaa:bbbb:cccc:dddd/tcp/4001', '2001:db8:0:1::/64'],
      ['/ip6/2001:db8:0:2::7/tcp/4001', '2001:db8:0:2::/64'],
      ['/ip6/2001:0db8:0000:0001:0000:0000:0000:0009/tcp/4001', '2001:db8:0:1::/64'],
      ['/ip6/::1/tcp/4001', '0:0:0:0::/64'],
      ['/ip6/::ffff:192.0.2.7/tcp/4001', '192.0.2.7'],
      ['/ip6/::ffff:c000:207/tcp/4001', '192.0.2.7'],
      ['/ip4/192.0.2.1/tcp/4001/p2p/12D3KooWHFrmLWTTDD4NodngtRMEVYgxrsDMp4F9iSwYntZ9WjHa/p2p-circuit', undefined],
      ['/memory/peergate-test', undefined]
    ]
    for (const [addr, group] of table) {
      const ip = sourceIp(multiaddr(addr))
      assert.equal(ip == null ? undefined : sourceGroup(ip), group, addr)
    }
  })

  it('IpRanges: CIDR blocks and single addresses, IPv4 and IPv6; anything else refused with the option name', () => {
    const ranges = new IpRanges(['127.0.0.0/8', '10.1.2.3', 'fd00::/8', '2001:db8::1'])
    const table: Array<[string, boolean]> = [
      ['/ip4/127.0.0.1/tcp/1', true],
      ['/ip4/127.255.0.9/tcp/1', true],
      ['/ip4/128.0.0.1/tcp/1', false],
      ['/ip4/10.1.2.3/tcp/1', true],
      ['/ip4/10.1.2.4/tcp/1', false],
      ['/ip6/fd12:3456::1/tcp/1', true],
      ['/ip6/fe80::1/tcp/1', false],
      ['/ip6/2001:db8::1/tcp/1', true],
      ['/ip6/2001:db8::2/tcp/1', false], // same /64, but the exemption names one address
      ['/ip6/::ffff:127.0.0.1/tcp/1', true]
    ]
    for (const [addr, inside] of table) {
      const ip = sourceIp(multiaddr(addr))
      assert.ok(ip != null)
      assert.equal(ranges.contains(ip), inside, addr)
    }
    assert.deepEqual(ranges.list, ['127.0.0.0/8', '10.1.2.3', 'fd00::/8', '2001:db8::1'])
    assert.equal(new IpRanges().contains({ address: '127.0.0.1', family: 'ipv4' }), false, 'nothing is exempt by default, loopback neither')
    for (const bad of ['localhost', '127.0.0.0/33', 'fd00::/129', '10.0.0.0/8/8', '10.0.0.0/', '10.0.0.0/x', '']) {
      assert.throws(() => new IpRanges([bad], 'limits.ipLimitExempt'), { name: 'InvalidParametersError', message: /^limits\.ipLimitExempt: an IP range is/ }, bad)
    }
  })
})
