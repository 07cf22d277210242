/**
 * @file dashboard.ts
 * @brief `relaytv dashboard`: watch the overlay live (blessed), or print a summary when not a TTY.
 *
 * With no `--peer`, it watches the local demo (peers 127.0.0.11..16, HTTP port 9093); more peers
 * are discovered through the `members` each status lists.
 */
import { Command } from 'commander';
import { relayError } from '../errors';
import { Poller } from '../tui/poller';
import { startDashboard } from '../tui/dashboard';
import { summary } from '../tui/model';

/** HTTP port of the demo peers' /status. */
export const DEMO_HTTP_PORT = 9093;
/** The local demo's peers (127.0.0.11..16). */
export const DEMO_PEERS = [11, 12, 13, 14, 15, 16].map((n) => `127.0.0.${n}:${DEMO_HTTP_PORT}`);

/**
 * @brief Parses and collects a repeatable `--peer HOST:PORT`.
 * @param value The option's value.
 * @param prev Values collected so far.
 * @return prev plus value.
 */
export function collectPeer(value: string, prev: string[]): string[] {
  const m = /^([\w.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(value);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) {
    throw relayError('BAD_OPTION', `--peer ${JSON.stringify(value)}: expected HOST:PORT, e.g. 127.0.0.11:${DEMO_HTTP_PORT}`);
  }
  return [...prev, value];
}

/**
 * @brief Runs the dashboard until the user quits (TTY) or prints one summary (no TTY).
 * @param peers "HOST:PORT" addresses to start from.
 * @param intervalMs Poll period, ms.
 */
export async function runDashboard(peers: string[], intervalMs: number): Promise<void> {
  const poller = new Poller({ peers, intervalMs });
  if (!process.stdout.isTTY) {
    await poller.poll();
    const round = await poller.poll(); // a second round includes the peers the first discovered
    process.stdout.write(summary([...round.up.values()], round.down));
    return;
  }
  await new Promise<void>((resolve) => {
    startDashboard({ poller, onQuit: () => { poller.destroy(); resolve(); } });
    poller.start();
  });
}

/** @brief Registers `relaytv dashboard`. @param program The root command. */
export function registerDashboard(program: Command): void {
  program
    .command('dashboard')
    .description(`watch the overlay: who sends to whom, balance, rates, pending files (default: the local demo, ${DEMO_PEERS[0]}..16)`)
    .option('--peer <HOST:PORT>', 'a peer\'s HTTP address (repeatable); more are discovered from its members', collectPeer, [] as string[])
    .option('--interval <ms>', 'poll period in milliseconds', '1000')
    .action(async (o: { peer: string[]; interval: string }) => {
      const interval = Number(o.interval);
      if (!Number.isInteger(interval) || interval < 100) throw relayError('BAD_OPTION', `--interval ${o.interval}: expected an integer >= 100`);
      await runDashboard(o.peer.length ? o.peer : DEMO_PEERS, interval);
      process.exit(0);
    });
}
