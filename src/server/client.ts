/**
 * @file client.ts
 * @brief One control request to the streaming server: connect, write 3 bytes, read until close.
 *
 * The course's server answers `11C`/`13C` on the request socket and closes; `10C`/`12C` get no
 * answer on it (the join answer arrives on the data port). So the whole reply is "everything
 * read until the server closes", bounded in size and time.
 */
import { encodeRequest, type ControlCode } from '../protocol/control';
import { relayError } from '../errors';
import { CONTROL_TIMEOUT_MS } from '../constants';
import type { Transport } from '../transport/transport';
import { tcpTransport } from '../transport/tcp';
import { deadline } from '../util/deadline';

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
  /** How to reach the server (TCP unless a test says otherwise). */
  transport?: Transport;
}

/**
 * @brief Sends one control request on its own connection.
 * @param opts Server address, identity, request and time limit.
 * @return Everything the server wrote before closing (empty for `10C`/`12C`).
 * @throws RelayError SERVER_UNREACHABLE on refusal, reset, timeout or an oversized reply.
 */
export async function sendControl(opts: SendControlOptions): Promise<Buffer> {
  const payload = encodeRequest(opts.code, opts.channel);
  const timeoutMs = opts.timeoutMs ?? CONTROL_TIMEOUT_MS;
  const fail = (detail: string) => relayError('SERVER_UNREACHABLE', `${opts.host}:${opts.port} ${detail}`);
  const limit = deadline(timeoutMs);
  const sock = await (opts.transport ?? tcpTransport)
    .dial({ host: opts.host, port: opts.port, localAddress: opts.localAddress, timeoutMs, signal: limit.signal })
    .catch((e: NodeJS.ErrnoException) => {
      limit.clear();
      throw fail(e.code ?? e.message);
    });
  return new Promise<Buffer>((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    let settled = false;
    /** The one teardown path: settle once, drop the deadline, destroy the socket. */
    const finish = (err: Error | null): void => {
      if (settled) return;
      settled = true;
      limit.clear();
      limit.signal.removeEventListener('abort', onDeadline);
      sock.destroy();
      if (err) reject(err);
      else resolve(Buffer.concat(parts, size));
    };
    const onDeadline = (): void => finish(fail(`no reply within ${timeoutMs} ms`));
    limit.signal.addEventListener('abort', onDeadline, { once: true });
    sock.on('data', (d: Buffer) => {
      size += d.length;
      if (size > MAX_CONTROL_REPLY_BYTES) return finish(fail(`reply over ${MAX_CONTROL_REPLY_BYTES} bytes`));
      parts.push(d);
    });
    sock.on('end', () => finish(null));
    sock.on('close', () => finish(null));
    sock.on('error', (e: NodeJS.ErrnoException) => finish(fail(e.code ?? e.message)));
    sock.write(payload);
  });
}
