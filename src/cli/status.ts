/**
 * @file status.ts
 * @brief `relaytv status` (not yet implemented).
 */
import { Command } from 'commander';

/** @brief Registers `relaytv status`. @param program The root command. */
export function registerStatus(program: Command): void {
  program.command('status').description('(not yet implemented)').action(() => {
    throw new Error('status: not yet implemented');
  });
}
