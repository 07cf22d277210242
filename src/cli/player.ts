/**
 * @file player.ts
 * @brief `relaytv player`: plays a chunk folder continuously and deletes each chunk once shown.
 *
 * Runs as its own process, standalone or forked by a peer (child_process.fork). When forked,
 * every change of the counters is sent to the parent as
 * `{ kind: 'player-stats', played, stalls, skipped, restarts, current, speed, behindS, pending,
 * cadenceS, chunkS }` (PlayerStats) and the player exits when the parent goes away
 * ('disconnect'); standalone the counters are logged. SIGINT/SIGTERM stop the external player
 * and exit 0. `--list` prints the chunks waiting to be shown and exits.
 */
import { Command, Option } from 'commander';
import { PLAYER_BUFFER_CHUNKS, PLAYER_MAX_BEHIND, PLAYER_POLL_MS, PLAYER_SPEED_MAX, PLAYER_SPEED_MIN, DEFAULT_PERIOD_S } from '../constants';
import { relayError } from '../errors';
import { createLogger } from '../log';
import { BACKEND_NAMES, checkFolder, createBackend, createDurationProbe, listPending, noDisplay, Player, type BackendName, type PlayerStats } from '../player';

/**
 * The message a forked player sends its parent after every change: PlayerStats (counters, the
 * current speed, the distance to live in seconds, the chunks waiting, the measured cadence and
 * chunk duration) with a discriminator.
 */
export interface PlayerStatsMessage extends PlayerStats {
  /** Message discriminator. */
  kind: 'player-stats';
}

/** Raw options as commander parses them. */
interface PlayerCliOptions {
  /** `--dir`: chunk folder. */
  dir: string;
  /** `--using`: external player. */
  using: BackendName;
  /** `--buffer`: chunks before the first plays. */
  buffer: string;
  /** `--max-behind`: chunks waiting beyond which, at top speed, one is skipped. */
  maxBehind: string;
  /** `--chunk-seconds`: duration of a chunk whose own cannot be read. */
  chunkSeconds: string;
  /** `--poll-ms`: folder poll period. */
  pollMs: string;
  /** `--headless`: no window, no sound device. */
  headless?: boolean;
  /** `--list`: print the waiting chunks and exit. */
  list?: boolean;
}

/**
 * @brief Parses a numeric option, rejecting garbage with BAD_OPTION.
 * @param name Option name for the message.
 * @param text Raw value.
 * @param min Smallest accepted value.
 * @param integer Require an integer.
 */
function numberOption(name: string, text: string, min: number, integer = true): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    throw relayError('BAD_OPTION', `${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got "${text}"`);
  }
  return value;
}

/**
 * @brief Runs the player until a signal, the parent's disconnect, or a fatal backend failure.
 * @param o Parsed command-line options.
 */
async function runPlayer(o: PlayerCliOptions): Promise<void> {
  if (o.list) {
    await checkFolder(o.dir, false);
    for (const name of await listPending(o.dir)) process.stdout.write(`${name}\n`);
    return;
  }
  const buffer = numberOption('--buffer', o.buffer, 1);
  const maxBehind = numberOption('--max-behind', o.maxBehind, buffer);
  const chunkSeconds = numberOption('--chunk-seconds', o.chunkSeconds, 0, false);
  const pollMs = numberOption('--poll-ms', o.pollMs, 10);
  const headless = Boolean(o.headless) || noDisplay();
  const log = createLogger('player');
  await checkFolder(o.dir, true);
  const backend = await createBackend(o.using, { log: log.child({ component: 'backend' }), headless });
  const probe = await createDurationProbe(log);
  const player = new Player({ dir: o.dir, backend, buffer, maxBehind, pollMs, log, probe, chunkSeconds });
  player.on('stats', (stats) => {
    if (process.send && process.connected) {
      const msg: PlayerStatsMessage = { kind: 'player-stats', ...stats };
      process.send(msg);
    } else {
      log.info(stats, 'player stats');
    }
  });
  let exiting = false;
  const exit = (code: number): void => {
    if (exiting) return;
    exiting = true;
    void player.stop().finally(() => process.exit(code));
  };
  player.on('fatal', (err) => {
    process.stderr.write(`relaytv: ${err.message}\n`);
    exit(1);
  });
  process.once('SIGINT', () => exit(0));
  process.once('SIGTERM', () => exit(0));
  if (process.send) process.once('disconnect', () => exit(0));
  await player.start();
  log.info({ dir: o.dir, backend: backend.name, headless, buffer, maxBehind, speeds: [PLAYER_SPEED_MIN, PLAYER_SPEED_MAX] }, 'player started');
}

/**
 * @brief Registers `relaytv player`.
 * @param program The root command.
 */
export function registerPlayer(program: Command): void {
  program
    .command('player')
    .description('play the chunk folder continuously, deleting each chunk once shown')
    .requiredOption('--dir <dir>', 'chunk folder (NNNNNNNN.mkv files)')
    .addOption(new Option('--using <player>', 'external player').choices([...BACKEND_NAMES]).default('auto'))
    .option('--buffer <n>', 'chunks to wait for before starting', String(PLAYER_BUFFER_CHUNKS))
    .option('--max-behind <n>', 'chunks waiting beyond which, already at top speed, skip one', String(PLAYER_MAX_BEHIND))
    .option('--chunk-seconds <s>', 'seconds per chunk when a chunk\'s own duration cannot be read (no ffprobe, not video)', String(DEFAULT_PERIOD_S))
    .option('--poll-ms <ms>', 'folder poll period behind fs.watch', String(PLAYER_POLL_MS))
    .option('--headless', 'no window, no sound device (automatic without DISPLAY/WAYLAND_DISPLAY)')
    .option('--list', 'print the chunks waiting to be shown, in order, and exit')
    .action((o: PlayerCliOptions) => runPlayer(o));
}
