/**
 * @file peer.ts
 * @brief `relaytv peer`: joins a channel through the server and relays through the overlay.
 *
 * Example: `relaytv peer --ip 127.0.0.11 --channel 0 --slots 2 --dir /tmp/tv11 --player mpv`.
 * By default this process is the holder (src/holder): it owns IP:9091 and runs the overlay
 * process (the same command with `--held`) as its child, restarting it when it dies, so the
 * server never meets a refused push. Started by systemd with a listening socket (LISTEN_FDS)
 * the peer needs no holder: systemd holds the socket. Restriction 3: `--slots` is set once at
 * start; when missing it is asked on a terminal, otherwise it is an error. The player (if any)
 * runs as a child of the overlay process. On a terminal the overlay process draws its own screen.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fork, ChildProcess } from 'node:child_process';
import readline from 'node:readline/promises';
import { Command } from 'commander';
import { createLogger, Logger } from '../log';
import { createPeerMetrics } from '../metrics';
import { Peer } from '../peer/peer';
import { listeningPushPort } from '../peer/serverLink';
import { heldPushPort } from '../peer/heldPushes';
import { tcpTransport } from '../transport/tcp';
import { serveReadOnly, jsonRoute, metricsRoute } from '../http/readonly';
import { runHolder } from '../holder/holder';
import { hostPort, intOption, stripesOption, overlayKeyOption, resolveServer } from './options';
import * as C from '../constants';
import { relayError } from '../errors';

/** Parsed flags of `relaytv peer`. */
interface PeerFlags {
  /** `--ip`: this peer's own IP, also its id in the overlay. */
  ip: string;
  /** `--server host:port`: the streaming server. */
  server: { host: string; port: number };
  /** `--channel`: the channel, 0-9. */
  channel: number;
  /** `--slots`: how many other peers may connect to this one, 0-64. */
  slots?: number;
  /** `--dir`: chunk folder (default `chunks-IP`). */
  dir?: string;
  /** `--p2p-port`. */
  p2pPort: number;
  /** `--http-port`. */
  httpPort: number;
  /** `--data-port`. */
  dataPort: number;
  /** `--stripes`: stripes when this peer founds the overlay (undefined: auto, its slots). */
  stripes?: number;
  /** `--player`: auto|mpv|vlc|ffplay|null|none. */
  player: string;
  /** False with `--no-tui`. */
  tui: boolean;
  /** `--overlay-key`: the shared secret of a closed overlay. */
  overlayKey?: Buffer;
  /** False with `--no-holder`: one process, 9091 closes when it dies. */
  holder: boolean;
  /** Hidden: we are the overlay process of a holder. */
  held?: boolean;
  /** Hidden: the server's address as the holder resolved it. */
  serverIp?: string;
}

/** @brief Registers `relaytv peer`. @param program The root command. */
export function registerPeer(program: Command): void {
  program.command('peer')
    .description('join a channel: receive from the server or from other peers, relay, store every chunk')
    .requiredOption('--ip <addr>', "this peer's own IP (listens on IP:9091, control connections from IP)")
    .option('--server <host:port>', 'streaming server (a host name is resolved once)', hostPort, { host: '127.0.0.1', port: C.SERVER_PORT })
    .option('--channel <c>', 'channel', intOption('--channel', 0, 9), 0)
    .option('--slots <k>', 'how many other peers may connect to this one (set once)', intOption('--slots', 0, C.MAX_SLOTS))
    .option('--dir <dir>', 'chunk folder (default ./chunks-<ip>)')
    .option('--p2p-port <port>', 'overlay port (same on every peer by convention)', intOption('--p2p-port', 1, 65535), C.P2P_PORT)
    .option('--http-port <port>', '/status and /metrics port', intOption('--http-port', 1, 65535), C.HTTP_PORT)
    .option('--data-port <port>', 'port the server pushes to (9091 in the course)', intOption('--data-port', 1, 65535), C.DATA_PORT)
    .option('--stripes <k>', 'stripes of the forest when this peer founds it: auto (its slots) or 1-8', stripesOption)
    .option('--player <mode>', 'auto|mpv|vlc|ffplay|null|none (none keeps every file)', 'none')
    .option('--overlay-key <secret>', 'shared secret of a closed overlay (@FILE reads it from FILE)', overlayKeyOption)
    .option('--no-tui', 'no terminal screen even on a terminal')
    .option('--no-holder', 'run without the holder process (9091 closes when the peer dies)')
    .option('--held', 'internal: the overlay process of a holder')
    .option('--server-ip <ip>', 'internal: the server address the holder resolved')
    .action(async (flags: PeerFlags) => runPeer(flags));
}

/** @brief Asks for the slots on a terminal (restriction 3), or fails clearly. */
async function askSlots(): Promise<number> {
  if (!process.stdin.isTTY) throw relayError('BAD_OPTION', '--slots is required when stdin is not a terminal');
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
  try {
    for (;;) {
      const answer = (await rl.question('How many other clients may connect to this one? ')).trim();
      if (/^\d+$/.test(answer) && Number(answer) <= C.MAX_SLOTS) return Number(answer);
      process.stdout.write(`Please give an integer from 0 to ${C.MAX_SLOTS}.\n`);
    }
  } finally {
    rl.close();
  }
}

/** @brief The holder, the overlay process, or (systemd, --no-holder) the overlay alone. */
async function runPeer(flags: PeerFlags): Promise<void> {
  const systemdFd = process.env.LISTEN_FDS === '1' && process.env.LISTEN_PID === String(process.pid) ? 3 : undefined;
  if (!flags.held && flags.holder && systemdFd === undefined) {
    const slots = flags.slots ?? (await askSlots());
    const serverIp = await resolveServer(flags.server.host, flags.ip);
    const args = [...process.argv.slice(2).filter((a) => a !== '--held'), '--held', '--server-ip', serverIp];
    if (flags.slots === undefined) args.push('--slots', String(slots));
    const code = await runHolder({ ip: flags.ip, port: flags.dataPort, serverIp, script: process.argv[1], args, execArgv: process.execArgv,
      log: createLogger(`holder ${flags.ip}`) });
    process.exit(code);
  }
  await runOverlay(flags, systemdFd);
}

/** @brief Runs the overlay process until SIGINT/SIGTERM (or its holder's death), then leaves gracefully. */
async function runOverlay(flags: PeerFlags, systemdFd: number | undefined): Promise<void> {
  const slots = flags.slots ?? (await askSlots());
  const dir = path.resolve(flags.dir ?? `chunks-${flags.ip}`);
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (err) {
    throw relayError('DIR_UNWRITABLE', `cannot create the chunk folder ${dir}: ${(err as Error).message}`);
  }
  const tui = flags.tui && !!process.stdin.isTTY && !!process.stdout.isTTY;
  const logFile = tui ? `${dir}.log` : undefined;
  const log = createLogger(`peer ${flags.ip}`, undefined, logFile);
  const serverIp = flags.serverIp ?? (await resolveServer(flags.server.host, flags.ip));
  const now = Date.now;
  const pushes = flags.held ? heldPushPort() : listeningPushPort(tcpTransport, flags.ip, flags.dataPort, now, systemdFd);
  const peer = new Peer({
    ip: flags.ip, serverHost: serverIp, serverPort: flags.server.port, serverIp, channel: flags.channel,
    slots, dir, p2pPort: flags.p2pPort, httpPort: flags.httpPort, dataPort: flags.dataPort, stripes: flags.stripes,
    log, pushes, key: flags.overlayKey, holderPid: flags.held ? process.ppid : undefined,
  });
  await peer.start();
  const metrics = createPeerMetrics(flags.ip, async () => {
    const s = await peer.status();
    return { ledger: peer.parts.stats, connections: peer.parts.connections.sessions().length, pending: s.pending.length,
      player: peer.player ?? { played: 0, stalls: 0, skipped: 0, speed: 1, behindS: 0 } };
  });
  const http = await serveReadOnly(flags.ip, flags.httpPort, { '/status': jsonRoute(() => peer.status()), '/metrics': metricsRoute(metrics) });
  const player = flags.player === 'none' ? null : supervisePlayer(flags.player, dir, peer, log, logFile);
  log.info({ dir, slots, http: `${flags.ip}:${flags.httpPort}`, holderPid: flags.held ? process.ppid : null }, 'peer started');
  if (!flags.held) process.send?.('ready');
  let stopping = false;
  let screen: { destroy(): void } | null = null;
  const stop = async (why: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    if (screen) {
      screen.destroy();
      process.stdout.write(`relaytv peer ${flags.ip}: leaving the channel (log: ${logFile})\n`);
    }
    log.info({ why }, 'leaving the channel');
    player?.stop();
    await peer.stop();
    http.close();
    http.closeAllConnections();
    process.exit(0);
  };
  if (tui) screen = await startScreen(peer, () => void stop('quit key'));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  if (flags.held) process.on('disconnect', () => void stop('holder gone'));
  process.on('SIGUSR2', () => void peer.crashWorker().then(() => log.warn('a chunk worker was crashed on request (SIGUSR2)')));
}

/** @brief The peer's own terminal screen (loaded only when used: blessed is large). */
async function startScreen(peer: Peer, onQuit: () => void): Promise<{ destroy(): void }> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { startPeerScreen } = require('../tui/peerScreen') as typeof import('../tui/peerScreen');
  let latest = await peer.status();
  const getStatus = () => {
    void peer.status().then((s) => { latest = s; }, () => undefined);
    return latest;
  };
  return startPeerScreen(getStatus, { onQuit });
}

/**
 * @brief Runs the player child (the same CLI, `player` subcommand) and restarts it when it dies
 * on its own (a crash, a kill): after PLAYER_RESTART_DELAY_MS, doubled while it keeps dying
 * within PLAYER_STABLE_MS of its start, at most PLAYER_RESTART_MAX_MS. Chunks wait in the folder
 * meanwhile, so nothing is lost. Its figures go to /status.
 * @param mode Player backend. @param dir Chunk folder. @param peer The peer. @param log Logger.
 * @param logFile When set, the child's stderr (its logs) is appended there instead of ours.
 * @return `stop()`: ends the player for good (SIGTERM, no restart).
 */
function supervisePlayer(mode: string, dir: string, peer: Peer, log: Logger, logFile?: string): { stop(): void } {
  let child: ChildProcess | null = null;
  let stopped = false;
  let delay = C.PLAYER_RESTART_DELAY_MS;
  let timer: NodeJS.Timeout | null = null;
  const start = (): void => {
    timer = null;
    const stderr = logFile ? fs.openSync(logFile, 'a') : 'inherit';
    const startedMs = Date.now();
    const c = fork(process.argv[1], ['player', '--dir', dir, '--using', mode], { execArgv: process.execArgv, stdio: ['ignore', 'ignore', stderr, 'ipc'] });
    if (typeof stderr === 'number') fs.closeSync(stderr);
    child = c;
    c.on('message', (m: { kind?: string; played?: number; stalls?: number; skipped?: number; speed?: number; behindS?: number }) => {
      if (m?.kind !== 'player-stats') return;
      peer.player = { played: m.played ?? 0, stalls: m.stalls ?? 0, skipped: m.skipped ?? 0, speed: m.speed ?? 1, behindS: m.behindS ?? 0 };
    });
    c.on('error', (err) => log.error({ code: 'BACKEND_FAILED', err: err.message }, 'player could not be started'));
    c.on('exit', (code, sig) => {
      child = null;
      if (stopped) return;
      delay = Date.now() - startedMs > C.PLAYER_STABLE_MS ? C.PLAYER_RESTART_DELAY_MS : Math.min(delay * 2, C.PLAYER_RESTART_MAX_MS);
      log.warn({ code: 'BACKEND_FAILED', exitCode: code, sig, restartInMs: delay }, 'player exited: restarting it');
      timer = setTimeout(start, delay);
    });
  };
  start();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      child?.kill('SIGTERM');
    },
  };
}
