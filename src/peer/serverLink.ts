/**
 * @file serverLink.ts
 * @brief The peer's side of the course's protocol: pushes into IP:9091, and the control requests.
 *
 * Pushes come from a PushPort: the holder process hands over each connection it accepted on
 * 9091 with its accept time (the default: the listening socket outlives this process), or we
 * listen ourselves (a swarm, the in-memory tests), or systemd passed the listening socket
 * (LISTEN_FDS). Only the server's address may push (anyone else is STRANGER_PUSH, closed before
 * a byte is read). Each connection is read to its end, bounded by MAX_CHUNK_BYTES and a
 * deadline, in parallel, and handed on in accept order: a 2-byte `10`/`00` is the answer to our
 * join, anything else is a chunk (PROTOCOL.md: a chunk is never 2 bytes long).
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type { Transport, Listener } from '../transport/transport';
import { sendControl } from '../server/client';
import { parseCount, parseJoinAnswer, parseList } from '../protocol/control';
import { CONTROL_TIMEOUT_MS, JOIN_ANSWER_TIMEOUT_MS, MAX_CHUNK_BYTES, MAX_PUSH_CONNECTIONS } from '../constants';
import { relayError } from '../errors';
import { canonicalIp } from '../util/ip';
import type { Logger } from '../log';
import type { Ledger } from './stats';

/** A push connection and when it was accepted. */
export type PushHandler = (conn: Duplex, remoteAddress: string, acceptedMs: number) => void;

/** Where pushes come from. */
export interface PushPort {
  /** Starts delivering accepted connections to `onPush`. */
  start(onPush: PushHandler): Promise<void>;
  /** Stops (closes our own listener, if any). */
  close(): Promise<void>;
}

/** A push port that listens itself (no holder): a swarm's peers, the in-memory tests. */
export function listeningPushPort(transport: Transport, host: string, port: number, now: () => number, fd?: number): PushPort {
  let listener: Listener | null = null;
  return {
    async start(onPush) {
      listener = await transport.listen({ host, port, fd, maxConnections: MAX_PUSH_CONNECTIONS },
        (c) => onPush(c, c.remoteAddress ?? '', now()));
    },
    close: async () => { await listener?.close(); },
  };
}

/** Options of the server link. */
export interface ServerLinkOptions {
  /** Our IP (control source address). */
  ip: string;
  /** The server's control address. */
  serverHost: string;
  /** The server's control port. */
  serverPort: number;
  /** The server's IP as pushes come from it (the host name resolved once). */
  serverIp: string;
  /** Channel of the control requests. */
  channel: number;
  /** How control requests reach the server. */
  transport: Transport;
  /** Where pushes come from. */
  pushes: PushPort;
  /** Logger. */
  log: Logger;
  /** The ledger. */
  stats: Ledger;
  /** Most time one push may take to read, ms. */
  readTimeoutMs?: number;
}

/** Events: `chunk` (Buffer, acceptedMs), `answer` ('ok' | 'full'). */
export class ServerLink extends EventEmitter {
  /** Pushes refused because they came from a stranger. */
  strangers = 0;
  private readonly queue: { done: boolean; data: Buffer | null; ms: number }[] = [];
  private readonly open = new Set<Duplex>();

  /** @param opts Addresses, channel, transport, push port. */
  constructor(private readonly opts: ServerLinkOptions) {
    super();
  }

  /** @brief Starts receiving pushes (before any join). */
  start(): Promise<void> {
    return this.opts.pushes.start((c, from, ms) => this.onPush(c, from, ms));
  }

  /** @brief Stops receiving pushes. */
  async close(): Promise<void> {
    for (const c of this.open) c.destroy();
    await this.opts.pushes.close();
  }

  /**
   * @brief Asks to join (`10C`) and waits for the answer pushed to our data port.
   * @return 'ok' (we are a direct client) or 'full'.
   */
  async join(): Promise<'ok' | 'full'> {
    const answer = new Promise<'ok' | 'full'>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('answer', onAnswer);
        reject(relayError('SERVER_UNREACHABLE', `no join answer on ${this.opts.ip}'s data port within ${JOIN_ANSWER_TIMEOUT_MS} ms`));
      }, JOIN_ANSWER_TIMEOUT_MS);
      const onAnswer = (a: 'ok' | 'full'): void => {
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
      code, channel: this.opts.channel, timeoutMs: CONTROL_TIMEOUT_MS, transport: this.opts.transport,
    });
  }

  private onPush(sock: Duplex, remote: string, acceptedMs: number): void {
    const from = canonicalIp(remote);
    if (from !== this.opts.serverIp) {
      this.strangers++;
      this.opts.log.warn({ code: 'STRANGER_PUSH', from }, 'push from an address that is not the server: closed');
      sock.destroy();
      return;
    }
    if (this.queue.length >= MAX_PUSH_CONNECTIONS) {
      this.opts.log.warn({ code: 'PUSH_BACKLOG' }, 'too many pushes being read: the oldest is dropped');
      this.queue.shift();
    }
    const slot = { done: false, data: null as Buffer | null, ms: acceptedMs };
    this.queue.push(slot);
    this.open.add(sock);
    const parts: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => sock.destroy(), this.opts.readTimeoutMs ?? 5_000);
    sock.on('data', (b: Buffer) => {
      size += b.length;
      if (size > MAX_CHUNK_BYTES) {
        this.opts.log.warn({ code: 'CHUNK_TOO_LARGE', size }, 'push larger than the chunk bound: dropped');
        return void sock.destroy();
      }
      parts.push(b);
    });
    sock.on('error', () => undefined);
    sock.on('end', () => { slot.data = Buffer.concat(parts, size); sock.destroy(); });
    sock.on('close', () => {
      clearTimeout(timer);
      this.open.delete(sock);
      slot.done = true;
      if (size > MAX_CHUNK_BYTES || size === 0) slot.data = null;
      this.drain();
    });
  }

  /** Hands on finished pushes in the order they were accepted. */
  private drain(): void {
    while (this.queue.length && this.queue[0].done) {
      const { data, ms } = this.queue.shift()!;
      if (!data) continue;
      const answer = parseJoinAnswer(data);
      if (answer) this.emit('answer', answer);
      else {
        this.opts.stats.serverBytes += data.length;
        this.opts.stats.chunkBytesReceived += data.length;
        this.emit('chunk', data, ms);
      }
    }
  }
}
