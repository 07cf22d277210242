/**
 * @file dashboard.ts
 * @brief `relaytv dashboard` (not yet implemented).
 */
import { Command } from 'commander';

/** @brief Registers `relaytv dashboard`. @param program The root command. */
export function registerDashboard(program: Command): void {
  program.command('dashboard').description('(not yet implemented)').action(() => {
    throw new Error('dashboard: not yet implemented');
  });
}
