/**
 * @file peer.ts
 * @brief `relaytv peer`: joins a channel through the server and relays through the overlay.
 *
 * Example: `relaytv peer --ip 127.0.0.11 --channel 0 --slots 2 --dir /tmp/tv11 --player mpv`.
 * Restriction 3: `--slots` is set once at start; when missing it is asked on a terminal,
 * otherwise it is an error. The player (if any) runs as a child process and stops with us.
 * On a terminal (stdin and stdout TTYs, no --no-tui) the peer draws its own screen (src/tui:
 * connections and files waiting) and logs, its player's included, go to `<dir>.log` instead.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fork, ChildProcess } from 'node:child_process';
import readline from 'node:readline/promises';
import { Command } from 'commander';
import { createLogger } from '../log';
import { createMetrics } from '../metrics';
import { Peer } from '../peer/peer';
import { startHttp } from '../peer/http';
import type { PeerStatus } from '../peer/status';
import { startPeerScreen, PeerScreen } from '../tui/peerScreen';
import { hostPort, intOption } from './options';
import * as C from '../constants';
import { relayError } from '../errors';

/** Parsed flags of `relaytv peer`. */
interface PeerFlags {
  /** `--ip`: this peer's own IP, also its id in the overlay. */
  ip: string;
  /** `--server host:port`: the streaming server (default 127.0.0.1 on the server port). */
  server: { host: string; port: number };
  /** `--channel`: the channel to join, 0-9. */
  channel: number;
  /** `--slots`: how many other peers may connect to this one, 0-64; asked on a terminal when missing. */
  slots?: number;
  /** `--dir`: chunk folder; `chunks-IP` in the working directory when missing (IP: the `--ip`). */
  dir?: string;
  /** `--p2p-port`: TCP port of the overlay listener. */
  p2pPort: number;
  /** `--http-port`: TCP port of /status and /metrics. */
  httpPort: number;
  /** `--data-port`: TCP port the server pushes chunks to. */
  dataPort: number;
  /** `--stripes`: number of stripes of the forest, 1-8 (used when this peer coordinates). */
  stripes: number;
  /** `--player`: auto|mpv|vlc|ffplay|null, or none for no player (every file kept). */
  player: string;
  /** False with `--no-tui`: no terminal screen even on a terminal. */
  tui: boolean;
}

/** @brief Registers `relaytv peer`. @param program The root command. */
export function registerPeer(program: Command): void {
  program.command('peer')
    .description('join a channel: receive from the server or from other peers, relay, store every chunk')
    .requiredOption('--ip <addr>', "this peer's own IP (listens on IP:9091, control connections from IP)")
    .option('--server <host:port>', 'streaming server', hostPort, { host: '127.0.0.1', port: C.SERVER_PORT })
    .option('--channel <c>', 'channel', intOption('--channel', 0, 9), 0)
    .option('--slots <k>', 'how many other peers may connect to this one (set once)', intOption('--slots', 0, 64))
    .option('--dir <dir>', 'chunk folder (default ./chunks-<ip>)')
    .option('--p2p-port <port>', 'overlay port (same on every peer by convention)', intOption('--p2p-port', 1, 65535), C.P2P_PORT)
    .option('--http-port <port>', '/status and /metrics port', intOption('--http-port', 1, 65535), C.HTTP_PORT)
    .option('--data-port <port>', 'port the server pushes to (9091 in the course)', intOption('--data-port', 1, 65535), C.DATA_PORT)
    .option('--stripes <k>', 'stripes of the forest (coordinator only)', intOption('--stripes', 1, 8), C.DEFAULT_STRIPES)
    .option('--player <mode>', 'auto|mpv|vlc|ffplay|null|none (none keeps every file)', 'none')
    .option('--no-tui', 'no terminal screen even on a terminal')
    .action(async (flags: PeerFlags) => runPeer(flags));
}

/** @brief Asks for the slots on a terminal (restriction 3), or fails clearly. */
async function askSlots(): Promise<number> {
  if (!process.stdin.isTTY) throw relayError('BAD_OPTION', '--slots is required when stdin is not a terminal');
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
  try {
    for (;;) {
      const answer = (await rl.question('How many other clients may connect to this one? ')).trim();
      if (/^\d+$/.test(answer) && Number(answer) <= 64) return Number(answer);
      process.stdout.write('Please give an integer from 0 to 64.\n');
    }
  } finally {
    rl.close();
  }
}

/**
 * @brief Starts the player child (same CLI, `player` subcommand).
 * @param mode Player to use (`--player`: auto|mpv|vlc|ffplay|null).
 * @param dir Chunk folder the player reads.
 * @param peer The peer, whose player stats (played, stalls) and metrics the child's reports update.
 * @param log Logger for the child's exit.
 * @param logFile When set, the child's stderr (its logs) is appended there instead of ours.
 * @return The child process.
 */
function startPlayer(mode: string, dir: string, peer: Peer, log: ReturnType<typeof createLogger>, logFile?: string): ChildProcess {
  const stderr = logFile ? fs.openSync(logFile, 'a') : 'inherit';
  const child = fork(process.argv[1], ['player', '--dir', dir, '--using', mode], { execArgv: process.execArgv, stdio: ['ignore', 'ignore', stderr, 'ipc'] });
  if (typeof stderr === 'number') fs.closeSync(stderr);
  child.on('message', (m: { kind?: string; played?: number; stalls?: number }) => {
    if (m?.kind === 'player-stats' && peer.opts.player) {
      peer.opts.player.played = m.played ?? 0;
      peer.opts.player.stalls = m.stalls ?? 0;
      peer.opts.metrics?.playedChunks.set(m.played ?? 0);
      peer.opts.metrics?.playerStalls.set(m.stalls ?? 0);
    }
  });
  child.on('exit', (code, sig) => log.warn({ code, sig }, 'player exited'));
  return child;
}

/** @brief Runs a peer until SIGINT/SIGTERM, then leaves gracefully. */
async function runPeer(flags: PeerFlags): Promise<void> {
  const slots = flags.slots ?? (await askSlots());
  const dir = path.resolve(flags.dir ?? `chunks-${flags.ip}`);
  const tui = flags.tui && !!process.stdin.isTTY && !!process.stdout.isTTY;
  const logFile = tui ? `${dir}.log` : undefined;
  const log = createLogger(`peer ${flags.ip}`, undefined, logFile);
  const metrics = createMetrics('peer', flags.ip);
  const peer = new Peer({
    ip: flags.ip, serverHost: flags.server.host, serverPort: flags.server.port, channel: flags.channel,
    slots, dir, p2pPort: flags.p2pPort, httpPort: flags.httpPort, dataPort: flags.dataPort,
    stripes: flags.stripes, log, metrics, player: { played: 0, stalls: 0 },
  });
  await peer.start();
  const http = await startHttp({ host: flags.ip, port: flags.httpPort, status: () => peer.status(), metrics });
  const player = flags.player === 'none' ? null : startPlayer(flags.player, dir, peer, log, logFile);
  log.info({ dir, slots, http: `${flags.ip}:${flags.httpPort}` }, 'peer started');
  process.send?.('ready');
  let stopping = false;
  let screen: PeerScreen | null = null;
  const stop = async (sig: string) => {
    if (stopping) return;
    stopping = true;
    if (screen) {
      screen.destroy();
      process.stdout.write(`relaytv peer ${flags.ip}: leaving the channel (log: ${logFile})\n`);
    }
    log.info({ sig }, 'leaving the channel');
    player?.kill('SIGTERM');
    await peer.stop();
    http.close();
    process.exit(0);
  };
  if (tui) {
    // The screen reads synchronously: serve the last status and fetch the next one meanwhile.
    let latest: PeerStatus = await peer.status();
    const getStatus = (): PeerStatus => {
      void peer.status().then((s) => { latest = s; }, () => undefined);
      return latest;
    };
    screen = startPeerScreen(getStatus, { onQuit: () => void stop('quit key') });
  }
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGUSR2', () => void peer.pool.crashOne().then(() => log.warn('a chunk worker was crashed on request (SIGUSR2)')));
}
