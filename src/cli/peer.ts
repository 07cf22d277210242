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
 * The holder loads only this file and src/holder: the overlay process's code (overlay.ts, the
 * peer, its metrics and pool) is loaded by the overlay process alone.
 */
import readline from 'node:readline/promises';
import { Command } from 'commander';
import { createLogger } from '../log';
import { runHolder } from '../holder/holder';
import { hostPort, intOption, stripesOption, overlayKeyOption, resolveServer } from './options';
import * as C from '../constants';
import { relayError } from '../errors';

/** Parsed flags of `relaytv peer`. */
export interface PeerFlags {
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
export async function askSlots(): Promise<number> {
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
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { runOverlay } = require('./overlay') as typeof import('./overlay');
  await runOverlay(flags, systemdFd);
}
