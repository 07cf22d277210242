/**
 * @file http.ts
 * @brief The peer's read-only HTTP endpoints: GET /status (JSON) and GET /metrics (Prometheus).
 *
 * Bound to the peer's own IP. Anything else is 404/405; only GET is served, requests are
 * answered at once and bodies are never read, so strangers can do nothing here.
 */
import http from 'node:http';
import type { Metrics } from '../metrics';

/** Options of the HTTP endpoint. */
export interface HttpOptions {
  /** Address to listen on (the peer's own IP). */
  host: string;
  /** TCP port to listen on. */
  port: number;
  /** Produces the body of GET /status (serialized as JSON). */
  status: () => Promise<unknown>;
  /** Registry served on GET /metrics; without it /metrics is 404. */
  metrics?: Metrics;
}

/**
 * @brief Builds the request handler (usable without listen in tests).
 * @param opts Status provider and metrics.
 */
export function makeHandler(opts: HttpOptions): http.RequestListener {
  return (req, res) => {
    const send = (code: number, type: string, body: string) => {
      res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.method !== 'GET') return send(405, 'text/plain', 'only GET\n');
    const url = (req.url ?? '/').split('?')[0];
    const fail = (err: Error) => send(500, 'text/plain', `${err.message}\n`);
    if (url === '/status') {
      opts.status().then((s) => send(200, 'application/json', JSON.stringify(s)), fail);
    } else if (url === '/metrics' && opts.metrics) {
      opts.metrics.register.metrics().then((m) => send(200, opts.metrics!.register.contentType, m), fail);
    } else {
      send(404, 'text/plain', 'try /status or /metrics\n');
    }
  };
}

/**
 * @brief Starts the HTTP endpoint.
 * @param opts Address, status provider, metrics.
 */
export async function startHttp(opts: HttpOptions): Promise<http.Server> {
  const server = http.createServer(makeHandler(opts));
  server.headersTimeout = 5_000;
  server.requestTimeout = 5_000;
  server.maxConnections = 64;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  return server;
}
