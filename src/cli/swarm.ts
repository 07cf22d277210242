/**
 * @file swarm.ts
 * @brief `relaytv swarm`: many peers in one process (one event loop, one chunk pool), for
 * running hundreds of peers on one machine.
 *
 * Example: `relaytv swarm --first-ip 127.0.0.11 --count 50 --slots 2 --dir /tmp/swarm`.
 * Peer i owns the IP `--first-ip` + i and its folder `<dir>/<ip>`; every peer serves /status and
 * /metrics on its own IP like a lone peer. Each peer is the same Peer a lone `relaytv peer`
 * runs (without a holder: the swarm listens on each 9091 itself); only the process, the event
 * loop and the worker pool are shared. Nothing module-level is shared between the peers.
 */
import path from 'node:path';
import type http from 'node:http';
import { Command } from 'commander';
import { createLogger } from '../log';
import { Peer } from '../peer/peer';
import { createChunkPool } from '../peer/pool';
import { serveReadOnly, jsonRoute } from '../http/readonly';
import { hostPort, intOption, resolveServer } from './options';
import { relayError } from '../errors';
import { ipv4Plus } from '../util/ip';
import * as C from '../constants';

/** Parsed flags of `relaytv swarm`. */
interface SwarmFlags {
  /** IP of the first peer (IPv4). */
  firstIp: string;
  /** Number of peers. */
  count: number;
  /** The streaming server. */
  server: { host: string; port: number };
  /** Channel. */
  channel: number;
  /** Slots of every peer. */
  slots: number;
  /** Parent folder of the peers' chunk folders. */
  dir: string;
  /** Overlay port. */
  p2pPort: number;
  /** /status port. */
  httpPort: number;
  /** Port the server pushes to. */
  dataPort: number;
  /** Milliseconds between two peer starts (joins are spread out). */
  spacing: number;
}

/** @brief Registers `relaytv swarm`. @param program The root command. */
export function registerSwarm(program: Command): void {
  program.command('swarm')
    .description('run many peers in one process (one IP each), to host hundreds on one machine')
    .requiredOption('--first-ip <addr>', 'IP of the first peer; the others follow')
    .requiredOption('--count <n>', 'number of peers', intOption('--count', 1, C.MAX_MEMBERS))
    .option('--server <host:port>', 'streaming server', hostPort, { host: '127.0.0.1', port: C.SERVER_PORT })
    .option('--channel <c>', 'channel', intOption('--channel', 0, 9), 0)
    .option('--slots <k>', 'slots of every peer', intOption('--slots', 0, C.MAX_SLOTS), 2)
    .option('--dir <dir>', 'parent folder of the chunk folders', 'swarm')
    .option('--p2p-port <port>', 'overlay port', intOption('--p2p-port', 1, 65535), C.P2P_PORT)
    .option('--http-port <port>', '/status port', intOption('--http-port', 1, 65535), C.HTTP_PORT)
    .option('--data-port <port>', 'port the server pushes to', intOption('--data-port', 1, 65535), C.DATA_PORT)
    .option('--spacing <ms>', 'delay between two peer starts', intOption('--spacing', 0, 60_000), 100)
    .action(async (flags: SwarmFlags) => runSwarm(flags));
}

/** @brief Starts the peers one after the other, and stops them all on SIGINT/SIGTERM. */
async function runSwarm(flags: SwarmFlags): Promise<void> {
  if (!ipv4Plus(flags.firstIp, flags.count - 1)) throw relayError('BAD_OPTION', `--first-ip must be an IPv4 address with room for ${flags.count} peers, got '${flags.firstIp}'`);
  const pool = createChunkPool(2);
  const log = createLogger(`swarm ${flags.firstIp}+${flags.count}`);
  const serverIp = await resolveServer(flags.server.host, flags.firstIp);
  const running: { peer: Peer; http: http.Server }[] = [];
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await Promise.all(running.map(async (r) => { await r.peer.stop(); r.http.close(); }));
    await pool.destroy();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  for (let i = 0; i < flags.count && !stopping; i++) {
    const ip = ipv4Plus(flags.firstIp, i)!;
    const peer = new Peer({
      ip, serverHost: serverIp, serverPort: flags.server.port, serverIp, channel: flags.channel,
      slots: flags.slots, dir: path.resolve(flags.dir, ip), p2pPort: flags.p2pPort, httpPort: flags.httpPort,
      dataPort: flags.dataPort, log: log.child({ peer: ip }), pool,
    });
    await peer.start();
    const http = await serveReadOnly(ip, flags.httpPort, { '/status': jsonRoute(() => peer.status()) });
    running.push({ peer, http });
    log.info({ ip }, 'peer started');
    await new Promise((r) => setTimeout(r, flags.spacing));
  }
  log.info({ count: running.length }, 'swarm started');
  process.send?.('ready');
}
