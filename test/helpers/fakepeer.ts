/**
 * @file fakepeer.ts
 * @brief A tiny HTTP server on 127.0.0.x:port serving a given, changeable PeerStatus on GET /status.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PeerStatus } from '../../src/tui/types';

/** A running fake peer. */
export interface FakePeer {
  /** "IP:port" it listens on. */
  addr: string;
  /** Port it listens on. */
  port: number;
  /** @brief Replaces the status served from now on. @param s The new status. */
  set(s: PeerStatus): void;
  /** @brief Stops listening. */
  close(): Promise<void>;
}

/**
 * @brief A plausible status for peer `id`, to be tweaked by tests.
 * @param id The peer's IP.
 * @param over Fields to override.
 * @return A complete PeerStatus.
 */
export function makeStatus(id: string, over: Partial<PeerStatus> = {}): PeerStatus {
  return {
    id, channel: 0, direct: false, role: 'member', coordinator: null, epoch: 1, slots: 3, p2pPort: 9092, httpPort: 9093,
    upstream: [], downstream: [], bytesSent: 0, bytesReceived: 0, rateSent: 0, rateReceived: 0,
    lastSeq: null, chunksReceived: 0, chunksLost: 0, duplicates: 0, pending: [], played: 0, stalls: 0, members: [],
    ...over,
  };
}

/**
 * @brief Starts a fake peer.
 * @param host IP to bind, e.g. 127.0.0.21.
 * @param port Port to bind (0 = any free one).
 * @param status What GET /status returns (a function is called on each request).
 * @return The running fake peer.
 */
export async function startFakePeer(host: string, port: number, status: PeerStatus | (() => PeerStatus)): Promise<FakePeer> {
  let current = status;
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/status') { res.writeHead(404).end(); return; }
    const body = JSON.stringify(typeof current === 'function' ? current() : current);
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, host, () => resolve()); });
  const bound = (server.address() as AddressInfo).port;
  return {
    addr: `${host}:${bound}`,
    port: bound,
    set: (s) => { current = s; },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
