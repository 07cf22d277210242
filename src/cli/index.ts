/**
 * @file index.ts
 * @brief The `relaytv` command line (commander): one subcommand per file in src/cli/.
 *
 * Each subcommand's file is loaded only when it runs (or for the top-level help, which lists
 * them all): a peer's holder does not load the dashboard's blessed-contrib, the server's code or
 * the overlay. This is most of a process's start-up time and of its memory.
 */
import { Command } from 'commander';

/* eslint-disable @typescript-eslint/no-require-imports */
/** The subcommands, by name: each registers itself on the program. */
const COMMANDS: Record<string, () => (program: Command) => void> = {
  server: () => (require('./server') as typeof import('./server')).registerServer,
  peer: () => (require('./peer') as typeof import('./peer')).registerPeer,
  status: () => (require('./status') as typeof import('./status')).registerStatus,
  split: () => (require('./split') as typeof import('./split')).registerSplit,
  player: () => (require('./player') as typeof import('./player')).registerPlayer,
  dashboard: () => (require('./dashboard') as typeof import('./dashboard')).registerDashboard,
  swarm: () => (require('./swarm') as typeof import('./swarm')).registerSwarm,
};
/* eslint-enable @typescript-eslint/no-require-imports */

/**
 * @brief Builds the program with the subcommand `name`, or with every subcommand.
 * @param name A subcommand's name (the first argument); any other value loads them all.
 */
export function buildProgram(name?: string): Command {
  const program = new Command('relaytv')
    .description('Peer-to-peer live-TV relay: streaming server, relaying peer, player, dashboard')
    .showHelpAfterError();
  const names = name !== undefined && Object.hasOwn(COMMANDS, name) ? [name] : Object.keys(COMMANDS);
  for (const n of names) COMMANDS[n]()(program);
  return program;
}

/**
 * @brief Runs the CLI.
 * @param argv process.argv.
 */
export function main(argv: string[]): void {
  buildProgram(argv[2])
    .parseAsync(argv)
    .catch((err: Error & { code?: string }) => {
      process.stderr.write(`relaytv: ${err.message}\n`);
      process.exit(2);
    });
}
