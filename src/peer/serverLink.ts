/**
 * @file serverLink.ts
 * @brief The peer's side of the course's protocol: the 9091 listener and the control requests.
 *
 * The listener accepts connections only from the configured server's IP (anyone else is a
 * STRANGER_PUSH: logged and closed before a byte is read). Each accepted connection is read
 * to its end, bounded by MAX_CHUNK_BYTES: a 2-byte `10`/`00` is the answer to our join,
 * anything else is a chunk (PROTOCOL.md: a chunk is never 2 bytes long).
 * The listener must stay open while we are listed by the server (the course's server stops a
 * channel for good on one refused push), so it is opened first and closed last.
 */
import net from 'node:net';
import { EventEmitter } from 'node:events';
import { sendControl } from '../server/client';
import { parseCount, parseJoinAnswer, parseList } from '../protocol/control';
import { CONTROL_TIMEOUT_MS, JOIN_ANSWER_TIMEOUT_MS, MAX_CHUNK_BYTES, MAX_PUSH_CONNECTIONS, REQUEST_TIMEOUT_MS } from '../constants';
import { relayError } from '../errors';
import type { Logger } from '../log';

/** Options of the server link. */
export interface ServerLinkOptions {
  /** Our IP (listener address and control source address). */
  ip: string;
  /** Data port we listen on (9091). */
  dataPort: number;
  /** The server's control address. */
  serverHost: string;
  /** The server's control port. */
  serverPort: number;
  /** The server's IP as seen on pushes (defaults to serverHost). */
  serverIp?: string;
  /** Channel carried in the control requests (join, leave, list, count). */
  channel: number;
  /** Logger (strangers, oversized pushes, listener errors). */
  log: Logger;
}

/** Events: `chunk` (Buffer, receivedMs), `answer` ('ok'|'full'). */
export class ServerLink extends EventEmitter {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  /** Pushes rejected because they came from a stranger. */
  strangers = 0;

  /** @param opts Addresses and channel. */
  constructor(private readonly opts: ServerLinkOptions) {
    super();
  }

  /** @brief Opens the data-port listener (before any join). */
  async listen(): Promise<void> {
    const server = net.createServer((sock) => this.onPush(sock));
    server.maxConnections = MAX_PUSH_CONNECTIONS;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.dataPort, this.opts.ip, () => resolve());
    });
    server.on('error', (err) => this.opts.log.error({ err: err.message }, 'data port error'));
    this.server = server;
  }

  /** @brief Closes the data-port listener and any push in progress. */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = null;
  }

  /**
   * @brief Asks to join (`10C`) and waits for the answer pushed to our data port.
   * @return 'ok' (we are a direct client) or 'full'.
   */
  async join(): Promise<'ok' | 'full'> {
    const answer = new Promise<'ok' | 'full'>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('answer', onAnswer);
        reject(relayError('SERVER_UNREACHABLE', `no join answer on ${this.opts.ip}:${this.opts.dataPort} within ${JOIN_ANSWER_TIMEOUT_MS} ms`));
      }, JOIN_ANSWER_TIMEOUT_MS);
      const onAnswer = (a: 'ok' | 'full') => {
        clearTimeout(timer);
        resolve(a);
      };
      this.once('answer', onAnswer);
    });
    answer.catch(() => undefined);
    await this.request(10);
    return answer;
  }

  /** @brief Leaves the channel (`12C`). */
  async leave(): Promise<void> {
    await this.request(12);
  }

  /** @brief The IPs the server lists for our channel (`11C`). */
  async list(): Promise<string[]> {
    return parseList(await this.request(11));
  }

  /** @brief The number of direct clients of our channel (`13C`). */
  async count(): Promise<number> {
    return parseCount(await this.request(13));
  }

  private request(code: 10 | 11 | 12 | 13): Promise<Buffer> {
    return sendControl({
      host: this.opts.serverHost, port: this.opts.serverPort, localAddress: this.opts.ip,
      code, channel: this.opts.channel, timeoutMs: CONTROL_TIMEOUT_MS,
    });
  }

  private onPush(sock: net.Socket): void {
    const from = (sock.remoteAddress ?? '').replace(/^::ffff:/, '');
    const serverIp = this.opts.serverIp ?? this.opts.serverHost;
    if (from !== serverIp) {
      this.strangers++;
      this.opts.log.warn({ code: 'STRANGER_PUSH', from }, 'push from an address that is not the server: closed');
      sock.destroy();
      return;
    }
    this.sockets.add(sock);
    const parts: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => sock.destroy(), REQUEST_TIMEOUT_MS * 5);
    sock.on('data', (b: Buffer) => {
      size += b.length;
      if (size > MAX_CHUNK_BYTES) {
        this.opts.log.warn({ code: 'CHUNK_TOO_LARGE', size }, 'push larger than the chunk bound: dropped');
        sock.destroy();
        return;
      }
      parts.push(b);
    });
    sock.on('error', () => undefined);
    sock.on('close', (hadError) => {
      clearTimeout(timer);
      this.sockets.delete(sock);
      if (hadError || size > MAX_CHUNK_BYTES || size === 0) return;
      const whole = Buffer.concat(parts, size);
      const answer = parseJoinAnswer(whole);
      if (answer) this.emit('answer', answer);
      else this.emit('chunk', whole, Date.now());
    });
  }
}
