/**
 * @file push.ts
 * @brief One push: open a new TCP connection to CLIENT_IP:dataPort, write the bytes, close.
 *
 * This is the whole data wire of the course's server (no header, the close ends the message);
 * the same call carries the 2-byte join answer. "Done" means every byte was handed to the
 * kernel and the socket closed gracefully (what Python's `sendall(); close()` does). A client
 * that does not read long enough to take the bytes within `timeoutMs` fails the push, so one
 * slow client cannot hold a round.
 */
import net from 'node:net';
import { relayError, type RelayError } from '../errors';

/** Options of one push. */
export interface PushOptions {
  /** Client IP. */
  host: string;
  /** Client data port (9091). */
  port: number;
  /** Bytes to send (a chunk or a join answer). */
  data: Buffer;
  /** Time limit for connect + write, ms. */
  timeoutMs: number;
  /** Source address of the connection (tests; default: the OS picks). */
  localAddress?: string;
  /** Cancels the push (server shutdown). */
  signal?: AbortSignal;
}

/** The error of a failed push: code PUSH_FAILED, `kind` = `ECONNREFUSED`, `timeout`, ... */
export type PushError = RelayError & { kind: string };

/**
 * @brief Pushes bytes on a new connection and closes it.
 * @param opts Target, bytes, time limit.
 * @return Resolves when all bytes are written and the socket is closed.
 * @throws RelayError PUSH_FAILED (refused, reset, timed out, aborted); `kind` holds the cause.
 */
export function push(opts: PushOptions): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const sock = net.connect({ host: opts.host, port: opts.port, localAddress: opts.localAddress });
    const timer = setTimeout(() => done(failure('timeout', `not taken within ${opts.timeoutMs} ms`)), opts.timeoutMs);
    const onAbort = (): void => done(failure('aborted', 'server closing'));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    /** The one teardown path. */
    function done(err: Error | null): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      // After 'finish' this is a graceful close (queued bytes still go out, then FIN).
      sock.destroy();
      if (err) reject(err);
      else resolve();
    }
    sock.on('connect', () => sock.end(opts.data));
    sock.on('finish', () => done(null));
    sock.on('error', (e: NodeJS.ErrnoException) => done(failure(e.code ?? 'error', e.message)));
    sock.on('close', () => done(failure('closed', 'closed before all bytes were written')));
    if (opts.signal?.aborted) onAbort();
  });
}

/**
 * @brief Builds the error of a failed push.
 * @param kind Short cause: `ECONNREFUSED`, `ECONNRESET`, `timeout`, `aborted`, ...
 * @param detail Human-readable detail.
 */
function failure(kind: string, detail: string): PushError {
  const err = relayError('PUSH_FAILED', `${kind}: ${detail}`) as PushError;
  err.kind = kind;
  return err;
}
