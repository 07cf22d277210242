/**
 * @file status.ts
 * @brief `relaytv status --peer HOST:PORT`: the seed's two management lists, from /status.
 *
 * Prints (1) the connections: IP+port of who sends to the peer and of everyone it sends to,
 * and (2) the received files waiting to be shown, in order. `--json` prints the raw document.
 */
import http from 'node:http';
import { Command } from 'commander';
import { hostPort } from './options';
import type { PeerStatus } from '../peer/status';

/** @brief Fetches a peer's /status. @param host Host. @param port HTTP port. */
export function fetchStatus(host: string, port: number): Promise<PeerStatus> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path: '/status', timeout: 3000 }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (b: Buffer) => parts.push(b));
      res.on('end', () => {
        try { resolve(JSON.parse(Buffer.concat(parts).toString()) as PeerStatus); } catch (e) { reject(e); }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${host}:${port} within 3 s`)));
    req.on('error', reject);
  });
}

/**
 * @brief Renders the two lists as text.
 * @param s A status document.
 */
export function formatStatus(s: PeerStatus): string {
  const lines = [
    `peer ${s.id}  channel ${s.channel}  ${s.direct ? 'direct' : 'relayed'}  role ${s.role}  coordinator ${s.coordinator ?? '-'}  epoch ${s.epoch}`,
    `slots ${s.slots}  sent ${s.bytesSent} B  received ${s.bytesReceived} B  chunks ${s.chunksReceived}  lost ${s.chunksLost}  played ${s.played}  stalls ${s.stalls}`,
    '',
    'Connections',
    ...(s.upstream.length ? s.upstream.map((l) => `  from ${l.addr.padEnd(21)} ${String(l.bytes).padStart(12)} B  stripes ${l.stripes.join(',') || '-'}`) : ['  from (none)']),
    ...(s.downstream.length ? s.downstream.map((l) => `  to   ${l.addr.padEnd(21)} ${String(l.bytes).padStart(12)} B  stripes ${l.stripes.join(',')}`) : ['  to   (none)']),
    '',
    `Files waiting to be shown (${s.pending.length})`,
    ...(s.pending.length ? s.pending.map((f) => `  ${f}`) : ['  (none)']),
  ];
  return lines.join('\n') + '\n';
}

/** @brief Registers `relaytv status`. @param program The root command. */
export function registerStatus(program: Command): void {
  program.command('status')
    .description("list a peer's connections and the files waiting to be shown")
    .requiredOption('--peer <host:port>', "the peer's HTTP address (its IP and --http-port)", hostPort)
    .option('--json', 'print the raw /status document')
    .action(async (flags: { peer: { host: string; port: number }; json?: boolean }) => {
      const s = await fetchStatus(flags.peer.host, flags.peer.port);
      process.stdout.write(flags.json ? JSON.stringify(s, null, 2) + '\n' : formatStatus(s));
    });
}
