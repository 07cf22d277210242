/**
 * @file peer.ts
 * @brief `relaytv peer` (not yet implemented).
 */
import { Command } from 'commander';

/** @brief Registers `relaytv peer`. @param program The root command. */
export function registerPeer(program: Command): void {
  program.command('peer').description('(not yet implemented)').action(() => {
    throw new Error('peer: not yet implemented');
  });
}
