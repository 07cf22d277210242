/**
 * @file memnet.ts
 * @brief A whole relaytv network in one process over the in-memory transport: our streaming
 * server and N peers, real code end to end (the real server, the real peers, the real pool and
 * chunk folders), only the sockets are streams in memory.
 *
 * Peer k owns 10.0.0.(10+k). Durations are short (a period of 0.2 s, heartbeats of 40 ms) so a
 * test of many failures takes seconds. `crash(k)` is what the other hosts see of a SIGKILL (every
 * connection of k destroyed at once) and stops k without any goodbye; `silence(k)` is a hang.
 * `stop()` releases everything and removes every folder. Used by the unit tier.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MemoryNetwork } from '../../src/transport/memory';
import { StreamServer } from '../../src/server/server';
import { Peer } from '../../src/peer/peer';
import type { Timings } from '../../src/peer/options';
import { listeningPushPort, PushPort, PushHandler } from '../../src/peer/serverLink';
import type { Connection } from '../../src/transport/transport';
import { createChunkPool, ChunkPool } from '../../src/peer/pool';
import { silentLogger, createLogger } from '../../src/log';
import { listSeqs } from '../../src/content/folder';
import { waitFor } from './wait';

/** The server's address in a memnet. */
export const SERVER_IP = '10.0.0.1';

/** Durations of a memnet (short: failures are detected in a fraction of a second). */
export const FAST: Partial<Timings> = {
  tickMs: 20, heartbeatMs: 40, heartbeatTimeoutMs: 200, helloTimeoutMs: 500, dialTimeoutMs: 300, replyTimeoutMs: 500,
  publishMinMs: 10, rebalanceMs: 400, graceMs: 1_000, pingTimeoutMs: 150, listPollMs: 500, slotRetryMs: 100, slowReceiverMs: 1_500,
};

/**
 * A holder in memory: it owns ip:9091 across restarts of the peer behind it, keeping what the
 * server pushes while no peer is attached (as src/holder does for a real overlay process).
 */
class MemHolder implements PushPort {
  private onPush: PushHandler | null = null;
  private readonly waiting: { conn: Connection; ms: number }[] = [];

  /** @brief Opens the data port for good. */
  static async open(net: MemoryNetwork, ip: string): Promise<MemHolder> {
    const h = new MemHolder();
    await net.listen({ host: ip, port: 9091 }, (conn) => {
      if (h.onPush) h.onPush(conn, conn.remoteAddress ?? '', Date.now());
      else h.waiting.push({ conn, ms: Date.now() });
    });
    return h;
  }

  /** @brief A peer attaches: it gets what waited, in order. */
  async start(onPush: PushHandler): Promise<void> {
    this.onPush = onPush;
    for (const w of this.waiting.splice(0)) onPush(w.conn, w.conn.remoteAddress ?? '', w.ms);
  }

  /** @brief The peer detached (it stopped or crashed); the port stays open. */
  async close(): Promise<void> {
    this.onPush = null;
  }
}

/** Options of a memnet. */
export interface MemnetOptions {
  /** Direct clients per channel. */
  maxClients?: number;
  /** Seconds per chunk. */
  periodS?: number;
  /** Number of distinct content chunks (looped). */
  chunks?: number;
  /** Bytes of each content chunk (default ~4-6 KB). */
  chunkBytes?: number;
}

/** A running memnet. */
export class Memnet {
  /** The network. */
  readonly net = new MemoryNetwork();
  /** The peers by number. */
  readonly peers = new Map<number, Peer>();
  /** Content files in play order (SHA-256 check of what peers store). */
  readonly files: Buffer[] = [];
  private server: StreamServer | null = null;
  private readonly pool: ChunkPool = createChunkPool(2);
  private readonly holders = new Map<number, MemHolder>();
  private tmp = '';

  private constructor(readonly opts: MemnetOptions) {}

  /** @brief Creates the content, starts the server. */
  static async start(opts: MemnetOptions = {}): Promise<Memnet> {
    const m = new Memnet(opts);
    m.tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'relaytv-mem-'));
    const content = path.join(m.tmp, 'content');
    await fs.mkdir(content);
    for (let i = 0; i < (opts.chunks ?? 20); i++) {
      const b = Buffer.alloc((opts.chunkBytes ?? 4096) + i * 97, i + 1);
      Buffer.from([0x1a, 0x45, 0xdf, 0xa3, i]).copy(b);
      m.files.push(b);
      await fs.writeFile(path.join(content, `c_${String(i).padStart(5, '0')}.mkv`), b);
    }
    m.server = new StreamServer(m.serverOptions());
    await m.server.start();
    return m;
  }

  private serverOptions(): ConstructorParameters<typeof StreamServer>[0] {
    return {
      host: SERVER_IP, port: 6060, dataPort: 9091, channels: 1, maxClients: this.opts.maxClients ?? 1,
      periodS: this.opts.periodS ?? 0.2, content: [path.join(this.tmp, 'content')], log: silentLogger(), transport: this.net,
    };
  }

  /** @brief IP of peer k. */
  ip(k: number): string {
    return `10.0.0.${10 + k}`;
  }

  /** @brief Chunk folder of peer k. */
  dir(k: number): string {
    return path.join(this.tmp, `peer${k}`);
  }

  /**
   * @brief Starts peer k (same folder on a restart). With `holder`, its data port is held across
   * its restarts (crashOverlay), as `relaytv peer` does by default.
   */
  async addPeer(k: number, slots = 2, extra: { stripes?: number; key?: Buffer; holder?: boolean } = {}): Promise<Peer> {
    const ip = this.ip(k);
    let pushes: PushPort = listeningPushPort(this.net, ip, 9091, Date.now);
    if (extra.holder) {
      if (!this.holders.has(k)) this.holders.set(k, await MemHolder.open(this.net, ip));
      pushes = this.holders.get(k)!;
    }
    const peer = new Peer({
      ip, serverHost: SERVER_IP, serverPort: 6060, channel: 0, slots, dir: this.dir(k), p2pPort: 9092, httpPort: 9093,
      dataPort: 9091, log: process.env.MEMNET_LOG ? createLogger(`peer ${ip}`, process.env.MEMNET_LOG) : silentLogger(), transport: this.net, pushes,
      pool: this.pool, timings: FAST, periodMs: (this.opts.periodS ?? 0.2) * 1000, stripes: extra.stripes, key: extra.key,
    });
    this.peers.set(k, peer);
    await peer.start();
    return peer;
  }

  /** @brief What the others see of a SIGKILL of peer k; k stops without a goodbye. */
  async crash(k: number): Promise<void> {
    this.net.crash(this.ip(k));
    await this.peers.get(k)?.destroy();
    this.peers.delete(k);
  }

  /** @brief Peer k's overlay process crashes while its holder keeps 9091 (addPeer with `holder`). */
  async crashOverlay(k: number): Promise<void> {
    this.net.crash(this.ip(k), 9091);
    await this.peers.get(k)?.destroy();
    this.peers.delete(k);
  }

  /** @brief Peer k goes silent (a hang): nothing to or from it, nothing closed. */
  silence(k: number): void {
    this.net.silence(this.ip(k));
  }

  /**
   * @brief Peer k stops reading but keeps talking (a hostile reader): writes towards it are held,
   * and its links never judge the silence that follows (it sends its heartbeats, reads nothing).
   * `heal()` + `unstick(k)` undo it.
   */
  stick(k: number): void {
    this.net.stick(this.ip(k));
    for (const s of this.peers.get(k)!.parts.connections.sessions()) (s as unknown as { opts: { timeoutMs: number } }).opts.timeoutMs = Infinity;
  }

  /** @brief Undoes `stick` on peer k's links (with `net.heal()`). */
  unstick(k: number): void {
    for (const s of this.peers.get(k)!.parts.connections.sessions()) (s as unknown as { opts: { timeoutMs: number } }).opts.timeoutMs = FAST.heartbeatTimeoutMs!;
  }

  /** @brief Sequence numbers stored by peer k, ascending. */
  seqs(k: number): Promise<number[]> {
    return listSeqs(this.dir(k));
  }

  /** @brief Waits until every listed peer has `more` chunks beyond its newest now. */
  async advance(ks: number[], more: number, ms = 20_000): Promise<void> {
    const base = new Map<number, number>();
    for (const k of ks) base.set(k, Math.max(-1, ...(await this.seqs(k))));
    await waitFor(async () => {
      for (const k of ks) if (Math.max(-1, ...(await this.seqs(k))) < base.get(k)! + more) return false;
      return true;
    }, ms, `peers ${ks} to advance ${more} chunks`);
  }

  /** @brief Index in the content of the bytes peer k stored for `seq` (-1: not a content file). */
  async contentIndex(k: number, seq: number): Promise<number> {
    const bytes = await fs.readFile(path.join(this.dir(k), `${String(seq).padStart(8, '0')}.mkv`));
    return this.files.findIndex((f) => f.equals(bytes));
  }

  /** @brief Peer k leaves gracefully (12C, BYE), as on SIGTERM; its folder stays. */
  async leave(k: number): Promise<void> {
    await this.peers.get(k)?.stop();
    this.peers.delete(k);
  }

  /** @brief The server stops and a new one starts: it forgets every client and plays from its first file. */
  async restartServer(): Promise<void> {
    await this.server?.close();
    this.server = new StreamServer({ ...this.serverOptions() });
    await this.server.start();
  }

  /** @brief Stops every peer (abruptly), the server and the pool; removes every folder. */
  async stop(): Promise<void> {
    for (const k of [...this.peers.keys()]) await this.crash(k);
    await this.server?.close();
    await this.pool.destroy();
    await fs.rm(this.tmp, { recursive: true, force: true });
  }
}
