/**
 * @file statusClient.ts
 * @brief The one client of a peer's GET /status (the CLI's `status`, the dashboards, the
 * benchmarks and the tests all read it here), bounded in time and size.
 */
import http from 'node:http';
import type { PeerStatus } from '../peer/status';

/** Largest /status body read, bytes (a coordinator of thousands lists every member). */
export const MAX_STATUS_BYTES = 4 * 1024 * 1024;

/**
 * @brief GET a JSON document from a peer (or any of our read-only endpoints).
 * @param url The URL (`http://IP:PORT/status`).
 * @param timeoutMs Give-up bound, ms.
 * @return The parsed body; rejects on a network error, a non-200 answer, a timeout or bad JSON.
 */
export function getJson(url: string, timeoutMs = 3_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      const parts: Buffer[] = [];
      let size = 0;
      res.on('data', (b: Buffer) => {
        size += b.length;
        if (size > MAX_STATUS_BYTES) req.destroy(new Error(`${url}: answer over ${MAX_STATUS_BYTES} bytes`));
        else parts.push(b);
      });
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`${url}: HTTP ${res.statusCode}`));
        try { resolve(JSON.parse(Buffer.concat(parts).toString())); } catch (e) { reject(e); }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/**
 * @brief GET /status of the peer at `addr`.
 * @param addr "IP:PORT" of its HTTP endpoint.
 * @param timeoutMs Give-up bound, ms.
 */
export function getStatus(addr: string, timeoutMs = 3_000): Promise<PeerStatus> {
  return getJson(`http://${addr}/status`, timeoutMs) as Promise<PeerStatus>;
}
