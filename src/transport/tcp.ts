/**
 * @file tcp.ts
 * @brief The Transport over real TCP sockets (`node:net`).
 */
import net from 'node:net';
import type { Connection, DialOptions, Listener, ListenOptions, Transport } from './transport';

/** Error of a dial that did not open in time. */
function timedOut(opts: DialOptions): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`connect ETIMEDOUT ${opts.host}:${opts.port}`);
  err.code = 'ETIMEDOUT';
  return err;
}

/** TCP: what every command uses. */
export const tcpTransport: Transport = {
  async listen(opts: ListenOptions, onConnection: (conn: Connection) => void): Promise<Listener> {
    const server = net.createServer((sock) => onConnection(sock));
    if (opts.maxConnections) server.maxConnections = opts.maxConnections;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const done = (): void => {
        server.off('error', reject);
        resolve();
      };
      if (opts.fd !== undefined) server.listen({ fd: opts.fd }, done);
      else server.listen(opts.port, opts.host, done);
    });
    // After the bind, a listener error (EMFILE on accept) is the host's problem, not a client's.
    server.on('error', () => undefined);
    const port = (server.address() as net.AddressInfo | null)?.port ?? opts.port;
    return { port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  },

  dial(opts: DialOptions): Promise<Connection> {
    return new Promise<Connection>((resolve, reject) => {
      const sock = net.connect({ host: opts.host, port: opts.port, localAddress: opts.localAddress });
      const finish = (err: Error | null): void => {
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        sock.off('connect', onConnect);
        sock.off('error', finish);
        if (err) {
          sock.destroy();
          reject(err);
        } else resolve(sock);
      };
      const onConnect = (): void => finish(null);
      const onAbort = (): void => finish(timedOut(opts));
      const timer = setTimeout(onAbort, opts.timeoutMs);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      sock.once('connect', onConnect);
      sock.once('error', finish);
    });
  },
};
