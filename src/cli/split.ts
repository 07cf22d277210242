/**
 * @file split.ts
 * @brief `relaytv split FILM --out DIR [--seconds 2]`: cuts a film into server chunk files.
 */
import { Command } from 'commander';
import { secondsOption } from './options';
import { splitFilm } from '../content/split';

/** @brief Registers `relaytv split`. @param program The root command. */
export function registerSplit(program: Command): void {
  program
    .command('split')
    .description('cut a film with ffmpeg into keyframe-aligned <name>_NNNNN.mkv chunks for the server')
    .argument('<film>', 'film file (any format ffmpeg reads)')
    .requiredOption('--out <dir>', 'output folder')
    .option('--seconds <s>', 'seconds per chunk', secondsOption('--seconds'), 2)
    .option('--name <name>', 'chunk base name (default: the film name)')
    .action(async (film: string, flags: { out: string; seconds: number; name?: string }) => {
      const names = await splitFilm({ film, outDir: flags.out, seconds: flags.seconds, name: flags.name });
      process.stdout.write(`relaytv split: ${names.length} chunks in ${flags.out} (${names[0]} .. ${names[names.length - 1]})\n`);
    });
}
