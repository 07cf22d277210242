/**
 * @file server.ts
 * @brief `relaytv server` (not yet implemented).
 */
import { Command } from 'commander';

/** @brief Registers `relaytv server`. @param program The root command. */
export function registerServer(program: Command): void {
  program.command('server').description('(not yet implemented)').action(() => {
    throw new Error('server: not yet implemented');
  });
}
