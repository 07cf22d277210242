/**
 * @file metrics-http.ts
 * @brief A minimal HTTP endpoint serving `GET /metrics` from a prom-client registry.
 *
 * The request handler is exported on its own so tests can call it without `listen`
 * (inject-style, STYLE rule 10).
 */
import http from 'node:http';
import type { Metrics } from '../metrics/index';

/**
 * @brief Builds the request handler: `/metrics` in Prometheus text format, 404 elsewhere.
 * @param metrics The process metrics (their registry is served).
 * @return A node:http request listener.
 */
export function metricsHandler(metrics: Metrics): http.RequestListener {
  return (req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    metrics.register.metrics().then(
      (body) => res.writeHead(200, { 'content-type': metrics.register.contentType }).end(body),
      (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err.message}\n`),
    );
  };
}

/**
 * @brief Starts the endpoint.
 * @param metrics The process metrics.
 * @param port TCP port (0 = any free port).
 * @param host Listen address.
 * @return The listening HTTP server (close it on shutdown).
 */
export function serveMetrics(metrics: Metrics, port: number, host: string): Promise<http.Server> {
  const server = http.createServer(metricsHandler(metrics));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
