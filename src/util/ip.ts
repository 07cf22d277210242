/**
 * @file ip.ts
 * @brief IP literals: a peer's id is its IP, written in one canonical form.
 *
 * The overlay identifies a peer by the address its connections come from (the course's server
 * does the same), so an id must be an IP literal and compare equal to `socket.remoteAddress`.
 * An IPv4 address mapped into IPv6 (0:0:0:0:0:ffff:10.0.0.1) is folded to IPv4; IPv6 is lower-cased.
 */
import net from 'node:net';

/**
 * @brief The canonical form of an address as a socket reports it.
 * @param addr `socket.remoteAddress` or an id.
 * @return The IPv4 dotted quad for IPv4 and IPv4-mapped IPv6, lower-case IPv6 otherwise.
 */
export function canonicalIp(addr: string): string {
  const a = addr.startsWith('::ffff:') && net.isIPv4(addr.slice(7)) ? addr.slice(7) : addr;
  return a.toLowerCase();
}

/**
 * @brief Whether `s` is an IP literal already in canonical form (what an id must be).
 * @param s Candidate id.
 */
export function isCanonicalIp(s: string): boolean {
  if (s.length === 0 || s.length > 45 || net.isIP(s) === 0) return false;
  if (net.isIPv4(s)) return s.split('.').every((p) => p === String(Number(p)));
  return canonicalIp(s) === s;
}

/**
 * @brief The IPv4 address `n` after `ip` (swarms and test nets number their peers this way).
 * @param ip Dotted quad.
 * @param n Offset (>= 0).
 * @return The dotted quad, or null when `ip` is not IPv4 or the result leaves the address space.
 */
export function ipv4Plus(ip: string, n: number): string | null {
  if (!net.isIPv4(ip)) return null;
  const parts = ip.split('.').map(Number);
  const v = (parts[0] * 2 ** 24) + (parts[1] << 16) + (parts[2] << 8) + parts[3] + n;
  if (v < 0 || v > 0xffffffff) return null;
  return [Math.floor(v / 2 ** 24), (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');
}
