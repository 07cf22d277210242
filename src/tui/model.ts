/**
 * @file model.ts
 * @brief Pure views of a set of peer statuses: overlay edges, fair share, formatting, summary.
 *
 * No terminal here, so the numbers the dashboards draw are testable as plain data.
 */
import type { PeerStatus } from './types';

/** An upstream -> downstream edge of the overlay, as one sender reports it. */
export interface Edge {
  /** Sender id (IP). */
  from: string;
  /** Receiver "IP:port". */
  to: string;
  /** Chunk bytes sent on this edge. */
  bytes: number;
  /** Stripes carried. */
  stripes: number[];
}

/**
 * @brief Human-readable byte count (B, KB, MB, GB; powers of 1024).
 * @param n Bytes.
 * @return E.g. `1.5 MB`.
 */
export function fmtBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

/**
 * @brief Every edge the peers report as downstream links, sorted by sender then receiver.
 * @param peers Latest status of each reachable peer.
 * @return The overlay's edges.
 */
export function edges(peers: PeerStatus[]): Edge[] {
  const all = peers.flatMap((p) => p.downstream.map((d) => ({ from: p.id, to: d.addr, bytes: d.bytes, stripes: d.stripes })));
  return all.sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to));
}

/**
 * @brief The fair share of sending: the mean send rate of all peers (requirement c).
 * @param peers Latest status of each reachable peer.
 * @return Bytes/s; 0 with no peers.
 */
export function share(peers: PeerStatus[]): number {
  if (peers.length === 0) return 0;
  return peers.reduce((s, p) => s + p.rateSent, 0) / peers.length;
}

/**
 * @brief A peer's send rate as a percentage of the fair share, capped for gauges.
 * @param rate The peer's send rate, bytes/s.
 * @param fair The fair share, bytes/s.
 * @return 0..100, 100 meaning the peer sends its full share (or more; the label shows the ratio).
 */
export function sharePercent(rate: number, fair: number): number {
  if (fair <= 0) return rate > 0 ? 100 : 0;
  return Math.max(0, Math.min(100, Math.round((rate / fair) * 100)));
}

/**
 * @brief Plain-text summary of the overlay (the dashboard's output when stdout is not a TTY).
 * @param peers Latest status of each reachable peer.
 * @param down Addresses that did not answer.
 * @return Lines of text, ending with a newline.
 */
export function summary(peers: PeerStatus[], down: string[]): string {
  const fair = share(peers);
  const lines = [`relaytv overlay: ${peers.length} peer(s) up, ${down.length} down; share ${fmtBytes(Math.round(fair))}/s`];
  for (const p of [...peers].sort((a, b) => a.id.localeCompare(b.id))) {
    lines.push(`${p.id} ${p.role}${p.direct ? ' direct' : ''} epoch ${p.epoch}: sent ${fmtBytes(p.bytesSent)} ` +
      `(${fmtBytes(Math.round(p.rateSent))}/s), received ${fmtBytes(p.bytesReceived)}, pending ${p.pending.length}` +
      (p.pending.length ? ` [${p.pending.slice(0, 3).join(' ')}${p.pending.length > 3 ? ' ...' : ''}]` : ''));
  }
  for (const e of edges(peers)) lines.push(`  ${e.from} -> ${e.to} ${fmtBytes(e.bytes)} stripes ${e.stripes.join(',') || '-'}`);
  for (const d of down) lines.push(`${d} unreachable`);
  return `${lines.join('\n')}\n`;
}
