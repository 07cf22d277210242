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
import { relayError, type RelayError } from '../errors';
import type { Transport } from '../transport/transport';
import { tcpTransport } from '../transport/tcp';
import { deadline } from '../util/deadline';

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
  /** How to reach the client (TCP unless a test says otherwise). */
  transport?: Transport;
}

/** Errors of our own host (not the client's fault): never counted against a client. */
export const LOCAL_ERRORS = new Set(['EMFILE', 'ENFILE', 'ENOBUFS', 'ENOMEM', 'EADDRNOTAVAIL', 'EADDRINUSE']);

/** The error of a failed push: code PUSH_FAILED, `kind` = `ECONNREFUSED`, `timeout`, ... */
export type PushError = RelayError & { kind: string };

/**
 * @brief Pushes bytes on a new connection and closes it.
 * @param opts Target, bytes, time limit.
 * @return Resolves when all bytes are written and the socket is closed.
 * @throws RelayError PUSH_FAILED (refused, reset, timed out, aborted); `kind` holds the cause.
 */
export async function push(opts: PushOptions): Promise<void> {
  const why = (): PushError => (opts.signal?.aborted ? failure('aborted', 'server closing') : failure('timeout', `not taken within ${opts.timeoutMs} ms`));
  if (opts.signal?.aborted) throw why();
  const limit = deadline(opts.timeoutMs, opts.signal);
  const abort = limit.signal;
  const sock = await (opts.transport ?? tcpTransport)
    .dial({ host: opts.host, port: opts.port, localAddress: opts.localAddress, timeoutMs: opts.timeoutMs, signal: abort })
    .catch((e: NodeJS.ErrnoException) => {
      limit.clear();
      throw abort.aborted ? why() : failure(e.code ?? 'error', e.message);
    });
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const onAbort = (): void => done(why());
    abort.addEventListener('abort', onAbort, { once: true });
    /** The one teardown path. */
    function done(err: Error | null): void {
      if (settled) return;
      settled = true;
      limit.clear();
      abort.removeEventListener('abort', onAbort);
      // After 'finish' this is a graceful close (queued bytes still go out, then FIN).
      sock.destroy();
      if (err) reject(err);
      else resolve();
    }
    sock.on('finish', () => done(null));
    sock.on('error', (e: NodeJS.ErrnoException) => done(failure(e.code ?? 'error', e.message)));
    sock.on('close', () => done(failure('closed', 'closed before all bytes were written')));
    sock.end(opts.data);
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
