/**
 * @file client.ts
 * @brief One control request to the streaming server: connect, write 3 bytes, read until close.
 *
 * The course's server answers `11C`/`13C` on the request socket and closes; `10C`/`12C` get no
 * answer on it (the join answer arrives on the data port). So the whole reply is "everything
 * read until the server closes", bounded in size and time.
 */
import net from 'node:net';
import { encodeRequest, type ControlCode } from '../protocol/control';
import { relayError } from '../errors';
import { CONTROL_TIMEOUT_MS } from '../constants';

/** Largest reply we buffer (bytes): a `11C` list of hundreds of IPs is far smaller. */
export const MAX_CONTROL_REPLY_BYTES = 64 * 1024;

/** Options of one control request. */
export interface SendControlOptions {
  /** Server host. */
  host: string;
  /** Server control port (6060). */
  port: number;
  /** Source IP, which is the client's identity on the server (e.g. `127.0.0.12`). */
  localAddress?: string;
  /** Request code. */
  code: ControlCode;
  /** Channel. */
  channel: number;
  /** End-to-end time limit, ms (default CONTROL_TIMEOUT_MS). */
  timeoutMs?: number;
}

/**
 * @brief Sends one control request on its own TCP connection.
 * @param opts Server address, identity, request and time limit.
 * @return Everything the server wrote before closing (empty for `10C`/`12C`).
 * @throws RelayError SERVER_UNREACHABLE on refusal, reset, timeout or an oversized reply.
 */
export function sendControl(opts: SendControlOptions): Promise<Buffer> {
  const payload = encodeRequest(opts.code, opts.channel);
  const timeoutMs = opts.timeoutMs ?? CONTROL_TIMEOUT_MS;
  return new Promise<Buffer>((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    let settled = false;
    const sock = net.connect({ host: opts.host, port: opts.port, localAddress: opts.localAddress });
    const timer = setTimeout(() => fail(`no reply within ${timeoutMs} ms`), timeoutMs);
    /** The one teardown path: settle once, clear the timer, destroy the socket. */
    function finish(err: Error | null): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(Buffer.concat(parts, size));
    }
    function fail(detail: string): void {
      finish(relayError('SERVER_UNREACHABLE', `${opts.host}:${opts.port} ${detail}`));
    }
    sock.on('connect', () => sock.write(payload));
    sock.on('data', (d: Buffer) => {
      size += d.length;
      if (size > MAX_CONTROL_REPLY_BYTES) return fail(`reply over ${MAX_CONTROL_REPLY_BYTES} bytes`);
      parts.push(d);
    });
    sock.on('end', () => finish(null));
    sock.on('close', () => finish(null));
    sock.on('error', (e: NodeJS.ErrnoException) => fail(e.code ?? e.message));
  });
}
