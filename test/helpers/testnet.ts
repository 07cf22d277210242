/**
 * @file testnet.ts
 * @brief A whole relaytv network on one machine: our server + N peers, each its own process.
 *
 * Peer k owns 127.0.0.(base+k) with the shared data/P2P/HTTP ports of this testnet (random
 * per testnet so testnets never collide). Children run the compiled CLI (dist/, built by
 * `npm test` first) so a SIGKILL is a real crash. `stop()` kills every process and removes
 * every folder. Used by the tests and by the benchmarks.
 */
import { spawn, ChildProcess } from 'node:child_process';
import { promises as fs, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PeerStatus } from '../../src/peer/status';
import { getJson, getStatus } from '../../src/http/statusClient';
import { listSeqs } from '../../src/content/folder';
import { lost } from './chunks';
import { sleep, waitFor } from './wait';
import { atExit } from './reaper';

export { getJson };

/** Root of the repository. */
export const ROOT = path.resolve(__dirname, '../..');
/** The compiled CLI. */
export const CLI = path.join(ROOT, 'dist/src/cli/main.js');

/** Options of a testnet. */
export interface TestnetOptions {
  /** Direct clients per channel (1 as the course's server). */
  maxClients?: number;
  /** Seconds per chunk (short in tests). */
  periodS?: number;
  /** Content folder (default: the embedded sample). */
  content?: string;
  /** First IP suffix: peer k is 127.0.0.(base + k). */
  base?: number;
  /** Extra environment for every process. */
  env?: Record<string, string>;
  /** Log level of the children. */
  logLevel?: string;
  /** Run the server as the course's does: one refused push stops the channel for good. */
  fragile?: boolean;
}

/** One child process of the testnet. */
export interface Proc {
  child: ChildProcess;
  log: string[];
  exited: Promise<number | null>;
}

/** A running testnet. */
export class Testnet {
  readonly dataPort: number;
  readonly p2pPort: number;
  readonly httpPort: number;
  readonly serverPort: number;
  server: Proc | null = null;
  readonly peers = new Map<number, Proc>();
  readonly tmp: string;
  private serverArgs: string[] = [];
  private readonly stoppedServers: Proc[] = [];

  /** Unregisters the exit cleanup (once stop() ran). */
  private readonly unreap: () => void;

  private constructor(readonly opts: TestnetOptions, tmp: string) {
    const base = 20000 + Math.floor(Math.random() * 3000) * 4; // 20000-31999: below the ephemeral ports
    this.dataPort = base;
    this.p2pPort = base + 1;
    this.httpPort = base + 2;
    this.serverPort = base + 3;
    this.tmp = tmp;
    // Ended early (Ctrl-C, the runner stopping a file that timed out): kill the groups, remove the folder.
    this.unreap = atExit(() => {
      for (const p of this.procs()) {
        try { if (p.child.pid) process.kill(-p.child.pid, 'SIGKILL'); } catch { /* already gone */ }
      }
      rmSync(this.tmp, { recursive: true, force: true });
    });
  }

  /** Every process this testnet started. */
  private procs(): Proc[] {
    return [...this.peers.values(), ...(this.server ? [this.server] : []), ...this.stoppedServers];
  }

  /** @brief Creates a testnet and starts its server. */
  static async start(opts: TestnetOptions = {}): Promise<Testnet> {
    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'relaytv-net-'));
    const net = new Testnet(opts, tmp);
    const args = ['server', '--host', '127.0.0.1', '--port', String(net.serverPort), '--data-port', String(net.dataPort),
      '--channels', '1', '--max-clients', String(opts.maxClients ?? 1), '--period', String(opts.periodS ?? 0.5)];
    if (opts.content) args.push('--content', opts.content);
    if (opts.fragile) args.push('--fragile');
    net.serverArgs = args;
    await net.startServer();
    return net;
  }

  /** @brief Starts (or restarts) the server process with this testnet's arguments. */
  async startServer(): Promise<void> {
    const server = this.spawn(this.serverArgs);
    this.server = server;
    await waitFor(() => server.log.some((l) => l.includes('server listening')), 15_000, 'server start');
  }

  /** @brief Kills the server (SIGKILL): it forgets every client, as a crashed course server does. */
  async killServer(): Promise<void> {
    const server = this.server!;
    server.child.kill('SIGKILL');
    await server.exited;
    this.stoppedServers.push(server);
  }

  /** @brief IP of peer k. */
  ip(k: number): string {
    return `127.0.0.${(this.opts.base ?? 10) + k}`;
  }

  /** @brief Chunk folder of peer k. */
  dir(k: number): string {
    return path.join(this.tmp, `peer${k}`);
  }

  /**
   * @brief Starts peer k and waits until it reports it started.
   * @param k Peer number (1..).
   * @param slots Its slots.
   * @param extra More CLI flags.
   * @param env More environment for this peer only.
   */
  async addPeer(k: number, slots = 2, extra: string[] = [], env: Record<string, string> = {}): Promise<Proc> {
    const p = this.spawn(['peer', '--ip', this.ip(k), '--server', `127.0.0.1:${this.serverPort}`,
      '--data-port', String(this.dataPort), '--p2p-port', String(this.p2pPort), '--http-port', String(this.httpPort),
      '--slots', String(slots), '--dir', this.dir(k), '--no-tui', ...extra], env);
    this.peers.set(k, p);
    await waitFor(() => p.log.some((l) => l.includes('peer started')), 15_000, `peer ${k} start`);
    return p;
  }

  /**
   * @brief Sends a signal to the whole of peer k: its holder, its overlay process, its player
   * (one process group). SIGKILL = the host crashes (9091 closes too); SIGTERM = a graceful leave.
   */
  signal(k: number, sig: NodeJS.Signals): void {
    const p = this.peers.get(k);
    if (p?.child.pid && p.child.exitCode === null && p.child.signalCode === null) {
      try { process.kill(-p.child.pid, sig); } catch { /* already gone */ }
    }
  }

  /**
   * @brief Sends a signal to peer k's overlay process only (the pid its /status names): SIGKILL
   * = the overlay crashes while its holder keeps 9091 and restarts it; SIGSTOP = it hangs.
   * @return The pid signalled.
   */
  async signalOverlay(k: number, sig: NodeJS.Signals): Promise<number> {
    const { pid } = await this.status(k);
    process.kill(pid, sig);
    return pid;
  }

  /** @brief GET /status of peer k. */
  status(k: number): Promise<PeerStatus> {
    return getStatus(`${this.ip(k)}:${this.httpPort}`);
  }

  /** @brief Sequence numbers of the chunk files in peer k's folder, ascending. */
  seqs(k: number): Promise<number[]> {
    return listSeqs(this.dir(k));
  }

  /**
   * @brief Peer k's lost chunks once repairs had time to finish (`lost` in chunks.ts says what
   * counts): a hole whose later neighbours just arrived is normal for a moment (the repair scan
   * fetches it); one that stays for `ms` is lost.
   * @param k Peer number.
   * @param ms How long a hole may take to be repaired.
   */
  async lost(k: number, ms = 10_000): Promise<number[]> {
    const until = Date.now() + ms;
    for (;;) {
      const missing = lost(await this.seqs(k), (await this.status(k)).firstSeq);
      if (missing.length === 0 || Date.now() > until) return missing;
      await sleep(250);
    }
  }

  /** @brief Kills every process (SIGKILL, whole process groups) and removes every folder. */
  async stop(): Promise<void> {
    const all = this.procs();
    for (const p of all) {
      try { if (p.child.pid) process.kill(-p.child.pid, 'SIGKILL'); } catch { /* already gone */ }
    }
    await Promise.all(all.map((p) => p.exited));
    await fs.rm(this.tmp, { recursive: true, force: true });
    this.unreap();
  }

  private spawn(args: string[], env: Record<string, string> = {}): Proc {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true, // its own process group: holder + overlay + player
      env: { ...process.env, RELAYTV_LOG: this.opts.logLevel ?? 'info', ...this.opts.env, ...env },
    });
    const log: string[] = [];
    const keep = (b: Buffer) => {
      for (const line of b.toString().split('\n')) if (line) log.push(line);
      if (log.length > 5000) log.splice(0, log.length - 5000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    return { child, log, exited };
  }
}
