/** Which addresses a webhook may reach: public unicast only, never a cloud metadata endpoint. */
import ipaddr from 'ipaddr.js';

/** Cloud metadata endpoints, refused even if a range table ever calls them public. */
const METADATA_ADDRESSES = new Set(['169.254.169.254', 'fd00:ec2::254', '100.100.100.200']);
const GLOBAL_UNICAST_V6 = ipaddr.IPv6.parseCIDR('2000::/3');

/** True when an IP address must not be contacted: anything but public unicast, or a metadata address; unparsable input counts as blocked. */
export function isBlockedAddress(ip: string): boolean {
  const literal = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  if (!ipaddr.isValid(literal)) return true;
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    // process() unwraps IPv4-mapped IPv6 (::ffff:a.b.c.d) so the IPv4 ranges apply.
    addr = ipaddr.process(literal);
  } catch {
    return true;
  }
  if (METADATA_ADDRESSES.has(normalize(addr))) return true;
  if (addr.range() !== 'unicast') return true;
  // Public IPv6 lives in 2000::/3; anything else (e.g. the deprecated IPv4-compatible ::a.b.c.d) is refused.
  if (addr.kind() === 'ipv6' && !(addr as ipaddr.IPv6).match(GLOBAL_UNICAST_V6)) return true;
  return false;
}

function normalize(addr: ipaddr.IPv4 | ipaddr.IPv6): string {
  return addr.kind() === 'ipv6' ? (addr as ipaddr.IPv6).toRFC5952String() : addr.toString();
}
