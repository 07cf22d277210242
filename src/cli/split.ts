/**
 * @file split.ts
 * @brief `relaytv split` (not yet implemented).
 */
import { Command } from 'commander';

/** @brief Registers `relaytv split`. @param program The root command. */
export function registerSplit(program: Command): void {
  program.command('split').description('(not yet implemented)').action(() => {
    throw new Error('split: not yet implemented');
  });
}
