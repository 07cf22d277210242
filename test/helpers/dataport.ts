/**
 * @file dataport.ts
 * @brief A fake streaming client for tests: listens on ip:dataPort and records what arrives.
 *
 * Every connection the server opens is one message ended by the close: a 2-byte `10`/`00`
 * join answer, or a chunk (never 2 bytes). `mode: 'stall'` accepts connections but never
 * reads them (a slow client). `close()` releases the listener and every accepted socket.
 */
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { parseJoinAnswer } from '../../src/protocol/control';
import { waitFor } from './wait';

/** Options of a fake client. */
export interface DataPortOptions {
  /** IP to listen on, e.g. `127.0.0.21` (the client's identity on the server). */
  ip: string;
  /** Data port (use a per-test-file port, e.g. 19091). */
  port: number;
  /** `read` (default) collects bytes; `stall` accepts and never reads. */
  mode?: 'read' | 'stall';
}

/** A fake client's data port. */
export class DataPort {
  /** Listening IP. */
  readonly ip: string;
  /** Chunks received, in arrival order. */
  readonly chunks: Buffer[] = [];
  /** Join answers received, in arrival order. */
  readonly answers: Array<'ok' | 'full'> = [];
  /** Connections accepted (any kind, including stalled ones). */
  accepted = 0;
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();

  private constructor(opts: DataPortOptions) {
    this.ip = opts.ip;
    this.server = net.createServer((sock) => this.onConnection(sock, opts.mode ?? 'read'));
  }

  /**
   * @brief Starts a fake client.
   * @param opts IP, port, mode.
   * @return The listening fake client.
   */
  static async listen(opts: DataPortOptions): Promise<DataPort> {
    const dp = new DataPort(opts);
    await new Promise<void>((resolve, reject) => {
      dp.server.once('error', reject);
      dp.server.listen(opts.port, opts.ip, () => resolve());
    });
    return dp;
  }

  /** @brief Waits for at least `n` chunks. @param n Count. @param timeoutMs Bound, ms. */
  waitChunks(n: number, timeoutMs = 10_000): Promise<void> {
    return waitFor(() => this.chunks.length >= n, timeoutMs, `${this.ip}: ${n} chunks (has ${this.chunks.length})`, 10);
  }

  /** @brief Waits for the next join answer. @param timeoutMs Bound, ms. @return `ok` or `full`. */
  async nextAnswer(timeoutMs = 10_000): Promise<'ok' | 'full'> {
    const before = this.answers.length;
    await waitFor(() => this.answers.length > before, timeoutMs, `${this.ip}: a join answer`, 10);
    return this.answers[before];
  }

  /** @brief Stops listening and destroys every accepted socket. */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private onConnection(sock: net.Socket, mode: 'read' | 'stall'): void {
    this.accepted++;
    this.sockets.add(sock);
    sock.on('close', () => this.sockets.delete(sock));
    sock.on('error', () => sock.destroy());
    if (mode === 'stall') {
      sock.pause();
      return;
    }
    const parts: Buffer[] = [];
    sock.on('data', (d: Buffer) => parts.push(d));
    sock.on('end', () => {
      const buf = Buffer.concat(parts);
      const answer = parseJoinAnswer(buf);
      if (answer) this.answers.push(answer);
      else if (buf.length > 0) this.chunks.push(buf);
      sock.destroy();
    });
  }
}

/**
 * @brief Writes `n` distinct server chunk files `t_0000i.mkv` into a new temp dir.
 * @param n Number of chunks. @param size Byte length of chunk i (> 4).
 * @return The folder (remove it after the test) and the file contents in play order.
 */
export async function makeChunks(n: number, size: (i: number) => number): Promise<{ dir: string; files: Buffer[] }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'relaytv-srv-'));
  const files: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const b = Buffer.alloc(size(i), i + 1);
    Buffer.from([0x1a, 0x45, 0xdf, 0xa3, i]).copy(b);
    files.push(b);
    await fs.writeFile(path.join(dir, `t_${String(i).padStart(5, '0')}.mkv`), b);
  }
  return { dir, files };
}
