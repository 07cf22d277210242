/**
 * @file server.ts
 * @brief The streaming server: wire-identical to the course's `server.py` (PROTOCOL.md).
 *
 * How it works: a TCP listener on the control port reads each request once (at most
 * MAX_REQUEST_BYTES, within REQUEST_TIMEOUT_MS), decodes it with protocol/control.ts and
 * dispatches it from a table (one row per code). `10C` removes the IP from every channel, then
 * answers `10`/`00` on a NEW connection to CLIENT_IP:dataPort (nothing on the request socket);
 * `11C` and `13C` answer on the request socket; `12C` answers nothing. Each channel runs its
 * own push loop (channel.ts). Bad input is logged with its error code and the connection is
 * closed; nothing else changes.
 */
import type { Connection, Listener, Transport } from '../transport/transport';
import { tcpTransport } from '../transport/tcp';
import type { Logger } from '../log';
import type { Metrics } from '../metrics/index';
import { RelayError, relayError } from '../errors';
import { MAX_REQUEST_BYTES, REQUEST_TIMEOUT_MS, ROUND_SLEEP_FRACTION } from '../constants';
import { parseRequest, encodeList, encodeCount, JOIN_OK, JOIN_FULL, type ControlCode } from '../protocol/control';
import { loadContent, type ContentChunk } from '../content/chunks';
import { Channel } from './channel';
import { push } from './push';

/** Options of the streaming server. */
export interface StreamServerOptions {
  /** Control listen address (e.g. `0.0.0.0`, tests `127.0.0.1`). */
  host: string;
  /** Control port (6060; 0 = any free port). */
  port: number;
  /** Port clients listen on for pushes and join answers (9091). */
  dataPort: number;
  /** Number of channels (1..10: one digit on the wire). */
  channels: number;
  /** Maximum direct clients per channel. */
  maxClients: number;
  /** Chunk period, seconds. */
  periodS: number;
  /** Content folder per channel; channel c uses content[c], or content[0] when absent. */
  content: string[];
  /** Logger. */
  log: Logger;
  /** Optional metrics. */
  metrics?: Metrics;
  /** Time a control connection may take to send its request, ms (default REQUEST_TIMEOUT_MS). */
  requestTimeoutMs?: number;
  /** Time limit of one push, ms (default: the sleep fraction of the period). */
  pushTimeoutMs?: number;
  /** The course server's fault behaviour: one refused push stops that channel for good. */
  fragile?: boolean;
  /** Listening and dialing (TCP unless a test says otherwise). */
  transport?: Transport;
}

/** Most control connections open at once (a flood is refused beyond it; each lives < 2 s). */
export const MAX_CONTROL_CONNECTIONS = 256;
/** Most join answers being pushed at once (beyond it a join is answered by nothing: the client retries). */
export const MAX_PENDING_ANSWERS = 64;

/** A request handler: what the server does for one code. */
type Handler = (server: StreamServer, ip: string, channel: number, sock: Connection) => void;

/** The dispatch table: one row per request code (STYLE rule 4). */
const HANDLERS: Record<ControlCode, Handler> = {
  10: (s, ip, ch, sock) => { sock.destroy(); s.join(ip, ch); },
  11: (s, _ip, ch, sock) => reply(sock, encodeList(s.channel(ch).list())),
  12: (s, ip, ch, sock) => { sock.destroy(); s.leave(ip, ch); },
  13: (s, _ip, ch, sock) => reply(sock, encodeCount(s.channel(ch).list().length)),
};

/** Writes an answer and closes gracefully. */
function reply(sock: Connection, data: Buffer): void {
  sock.end(data, () => sock.destroy());
}

/** The course-compatible streaming server. */
export class StreamServer {
  private readonly opts: StreamServerOptions;
  private readonly log: Logger;
  private listener: Listener | null = null;
  private readonly sockets = new Set<Connection>();
  private pendingAnswers = 0;
  private readonly transport: Transport;
  private channelList: Channel[] = [];
  private readonly abort = new AbortController();

  /** @brief Creates a stopped server. @param opts Ports, limits, content, log, metrics. */
  constructor(opts: StreamServerOptions) {
    if (!Number.isInteger(opts.channels) || opts.channels < 1 || opts.channels > 10) {
      throw relayError('BAD_OPTION', `channels must be 1..10 (one digit on the wire), got ${opts.channels}`);
    }
    if (!Number.isInteger(opts.maxClients) || opts.maxClients < 0) throw relayError('BAD_OPTION', `maxClients ${opts.maxClients}`);
    if (!(opts.periodS > 0)) throw relayError('BAD_OPTION', `period must be > 0 s, got ${opts.periodS}`);
    if (opts.content.length === 0) throw relayError('BAD_OPTION', 'no content folder');
    this.opts = opts;
    this.log = opts.log;
    this.transport = opts.transport ?? tcpTransport;
  }

  /** @brief Loads the content, starts the channel loops, listens. @throws RelayError BAD_OPTION. */
  async start(): Promise<void> {
    const o = this.opts;
    const cache = new Map<string, Promise<ContentChunk[]>>();
    const pushTimeoutMs = o.pushTimeoutMs ?? Math.max(50, o.periodS * ROUND_SLEEP_FRACTION * 1000);
    for (let c = 0; c < o.channels; c++) {
      const dir = o.content[c] ?? o.content[0];
      if (!cache.has(dir)) cache.set(dir, loadContent(dir));
      const chunks = await cache.get(dir)!;
      this.channelList.push(new Channel({
        id: c, chunks, dataPort: o.dataPort, maxClients: o.maxClients, periodS: o.periodS,
        pushTimeoutMs, log: this.log, metrics: o.metrics, fragile: o.fragile, transport: this.transport, localAddress: this.pushFrom(),
      }));
      this.log.info({ channel: c, dir, chunks: chunks.length }, 'channel content loaded');
    }
    this.listener = await this.transport.listen({ host: o.host, port: o.port, maxConnections: MAX_CONTROL_CONNECTIONS }, (sock) => this.onConnection(sock));
    for (const ch of this.channelList) ch.start();
    this.log.info({ ...this.address(), dataPort: o.dataPort, channels: o.channels, maxClients: o.maxClients, periodS: o.periodS }, 'server listening');
  }

  /** @brief Stops listening, the loops and every open connection. */
  async close(): Promise<void> {
    this.abort.abort();
    for (const s of this.sockets) s.destroy();
    await Promise.all(this.channelList.map((c) => c.close()));
    await this.listener?.close();
    this.log.info('server closed');
  }

  /** @brief The bound control address. @return `{ host, port }`. */
  address(): { host: string; port: number } {
    return { host: this.opts.host, port: this.listener?.port ?? this.opts.port };
  }

  /** The source address of pushes: ours, unless we listen on a wildcard (then the OS picks). */
  private pushFrom(): string | undefined {
    return this.opts.host === '0.0.0.0' || this.opts.host === '::' ? undefined : this.opts.host;
  }

  /** @brief Channel `c` (for handlers and tests). @param c Channel number in range. */
  channel(c: number): Channel {
    return this.channelList[c];
  }

  /**
   * @brief `10C`: removes `ip` from every channel, adds it to `c` if there is room, and
   *        answers `10`/`00` on a new connection to ip:dataPort.
   * @param ip Client IP. @param c Channel.
   */
  join(ip: string, c: number): void {
    for (const ch of this.channelList) {
      if (ch.remove(ip)) this.log.info({ channel: ch.id, ip }, 'client left (joining another channel)');
    }
    const ok = this.channelList[c].add(ip);
    this.log.info({ channel: c, ip, accepted: ok, clients: this.channelList[c].list().length }, ok ? 'client joined' : 'join refused: channel full');
    if (this.pendingAnswers >= MAX_PENDING_ANSWERS) {
      this.log.warn({ channel: c, ip, code: 'ANSWER_BACKLOG' }, 'too many join answers in flight: this one is not sent');
      return;
    }
    this.pendingAnswers++;
    push({ host: ip, port: this.opts.dataPort, data: ok ? JOIN_OK : JOIN_FULL, timeoutMs: this.opts.pushTimeoutMs ?? 2000, signal: this.abort.signal, transport: this.transport, localAddress: this.pushFrom() })
      .catch((err: RelayError & { kind?: string }) => {
        if (err.kind !== 'aborted') this.log.warn({ channel: c, ip, code: err.code, cause: err.kind }, 'join answer not delivered');
      })
      .finally(() => this.pendingAnswers--);
  }

  /** @brief `12C`: removes `ip` from channel `c` if present. @param ip Client IP. @param c Channel. */
  leave(ip: string, c: number): void {
    if (this.channelList[c].remove(ip)) this.log.info({ channel: c, ip }, 'client left');
  }

  /** Reads one request (once, bounded in size and time) and dispatches it. */
  private onConnection(sock: Connection): void {
    this.sockets.add(sock);
    const ip = normalizeIp(sock.remoteAddress ?? '');
    let done = false;
    const timer = setTimeout(() => reject(relayError('REQUEST_TIMEOUT', `nothing within ${this.opts.requestTimeoutMs ?? REQUEST_TIMEOUT_MS} ms`)),
      this.opts.requestTimeoutMs ?? REQUEST_TIMEOUT_MS);
    const finish = (): void => {
      done = true;
      clearTimeout(timer);
    };
    const reject = (err: RelayError): void => {
      if (done) return;
      finish();
      this.log.warn({ ip, code: err.code, err: err.message }, 'bad control request, connection closed');
      sock.destroy();
    };
    sock.on('close', () => {
      finish();
      this.sockets.delete(sock);
    });
    sock.on('error', () => sock.destroy());
    sock.on('end', () => reject(relayError('BAD_CONTROL_REQUEST', 'connection closed without a request')));
    sock.once('data', (buf: Buffer) => {
      if (done) return;
      try {
        if (buf.length > MAX_REQUEST_BYTES) throw relayError('REQUEST_TOO_LARGE', `${buf.length} bytes > ${MAX_REQUEST_BYTES}`);
        const req = parseRequest(buf, this.opts.channels);
        finish();
        sock.pause();
        this.log.debug({ ip, code: req.code, channel: req.channel }, 'control request');
        HANDLERS[req.code](this, ip, req.channel, sock);
      } catch (err) {
        if (!(err instanceof RelayError)) throw err;
        reject(err);
      }
    });
  }
}

/**
 * @brief The client identity of a source address (IPv4-mapped IPv6 becomes plain IPv4).
 * @param addr `socket.remoteAddress`.
 */
export function normalizeIp(addr: string): string {
  return addr.startsWith('::ffff:') ? addr.slice(7) : addr;
}
