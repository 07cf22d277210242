/**
 * @file overlay.ts
 * @brief The overlay process of `relaytv peer`: the peer itself, its /status and /metrics, its
 *        player child and its terminal screen, until SIGINT/SIGTERM or its holder's death.
 *
 * Loaded by src/cli/peer.ts only in the process that runs the overlay (under a holder, under
 * systemd, or with --no-holder), so the holder stays small.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fork, ChildProcess } from 'node:child_process';
import { createLogger, Logger } from '../log';
import { createPeerMetrics } from '../metrics';
import { Peer } from '../peer/peer';
import { listeningPushPort } from '../peer/serverLink';
import { heldPushPort } from '../peer/heldPushes';
import { tcpTransport } from '../transport/tcp';
import { serveReadOnly, jsonRoute, metricsRoute } from '../http/readonly';
import { askSlots, type PeerFlags } from './peer';
import { resolveServer } from './options';
import * as C from '../constants';
import { relayError } from '../errors';

/** @brief Runs the overlay process until SIGINT/SIGTERM (or its holder's death), then leaves gracefully. */
export async function runOverlay(flags: PeerFlags, systemdFd: number | undefined): Promise<void> {
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
