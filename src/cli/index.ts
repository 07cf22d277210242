/**
 * @file index.ts
 * @brief The `relaytv` command line (commander): one subcommand per file in src/cli/.
 */
import { Command } from 'commander';
import { registerServer } from './server';
import { registerPeer } from './peer';
import { registerStatus } from './status';
import { registerSplit } from './split';
import { registerPlayer } from './player';
import { registerDashboard } from './dashboard';
import { registerSwarm } from './swarm';

/**
 * @brief Builds the program with every subcommand.
 */
export function buildProgram(): Command {
  const program = new Command('relaytv')
    .description('Peer-to-peer live-TV relay: streaming server, relaying peer, player, dashboard')
    .showHelpAfterError();
  registerServer(program);
  registerPeer(program);
  registerStatus(program);
  registerSplit(program);
  registerPlayer(program);
  registerDashboard(program);
  registerSwarm(program);
  return program;
}

/**
 * @brief Runs the CLI.
 * @param argv process.argv.
 */
export function main(argv: string[]): void {
  buildProgram()
    .parseAsync(argv)
    .catch((err: Error & { code?: string }) => {
      process.stderr.write(`relaytv: ${err.message}\n`);
      process.exit(2);
    });
}
