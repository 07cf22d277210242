/**
 * @file player.ts
 * @brief `relaytv player` (not yet implemented).
 */
import { Command } from 'commander';

/** @brief Registers `relaytv player`. @param program The root command. */
export function registerPlayer(program: Command): void {
  program.command('player').description('(not yet implemented)').action(() => {
    throw new Error('player: not yet implemented');
  });
}
