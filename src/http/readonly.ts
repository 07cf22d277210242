/**
 * @file readonly.ts
 * @brief The one read-only HTTP endpoint of relaytv (a peer's /status and /metrics, the
 * server's /metrics), with its bounds.
 *
 * Only GET is served; request bodies are never read; each route answers at once from memory;
 * unknown paths are 404, other methods 405. Bounded: at most MAX_HTTP_CONNECTIONS at once,
 * headers and the whole request within HTTP_TIMEOUT_MS. Bound to the process's own address.
 */
import http from 'node:http';

/** Most simultaneous HTTP connections. */
export const MAX_HTTP_CONNECTIONS = 64;
/** Time a request may take to arrive, ms (a slow client is cut). */
export const HTTP_TIMEOUT_MS = 5_000;

/** A route's answer. */
export interface Reply {
  /** Content type. */
  type: string;
  /** Body. */
  body: string;
}

/** Path -> what it answers. */
export type Routes = Record<string, () => Promise<Reply>>;

/**
 * @brief The request handler (usable without listen in tests).
 * @param routes The routes.
 */
export function readOnlyHandler(routes: Routes): http.RequestListener {
  return (req, res) => {
    const send = (code: number, type: string, body: string): void => {
      res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.method !== 'GET') return send(405, 'text/plain', 'only GET\n');
    const route = routes[(req.url ?? '/').split('?')[0]];
    if (!route) return send(404, 'text/plain', `try ${Object.keys(routes).join(' or ')}\n`);
    route().then((r) => send(200, r.type, r.body), (err: Error) => send(500, 'text/plain', `${err.message}\n`));
  };
}

/**
 * @brief Starts the endpoint.
 * @param host Address to bind. @param port Port (0: any free one). @param routes The routes.
 * @return The listening server (close it on shutdown).
 */
export async function serveReadOnly(host: string, port: number, routes: Routes): Promise<http.Server> {
  const server = http.createServer(readOnlyHandler(routes));
  server.headersTimeout = HTTP_TIMEOUT_MS;
  server.requestTimeout = HTTP_TIMEOUT_MS;
  server.maxConnections = MAX_HTTP_CONNECTIONS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

/**
 * @brief The /metrics route of a prom-client registry.
 * @param register The registry.
 */
export function metricsRoute(register: { metrics(): Promise<string>; contentType: string }): () => Promise<Reply> {
  return async () => ({ type: register.contentType, body: await register.metrics() });
}

/**
 * @brief A JSON route.
 * @param produce What to serialize.
 */
export function jsonRoute(produce: () => Promise<unknown>): () => Promise<Reply> {
  return async () => ({ type: 'application/json', body: JSON.stringify(await produce()) });
}
