/**
 * @file transport.ts
 * @brief The seam between the overlay and the network: listen and dial, nothing else.
 *
 * Every part that talks to another host (the peer's connections, its server link, our streaming
 * server) does it through a Transport, never through `node:net` directly. Two implementations:
 * `tcp.ts` (real sockets, what the commands use) and `memory.ts` (pairs of in-memory streams
 * with abrupt close, silence, partitions and stuck readers: the in-memory overlay tests).
 * A connection is a Duplex that knows its two addresses, like a `net.Socket`.
 */
import type { Duplex } from 'node:stream';

/** One connection: a byte stream and its two ends. */
export interface Connection extends Duplex {
  /** The other end's IP as the stack reports it (may be IPv4-mapped IPv6 on TCP). */
  readonly remoteAddress?: string;
  /** The other end's port. */
  readonly remotePort?: number;
  /** Our end's IP. */
  readonly localAddress?: string;
  /** Disables Nagle's algorithm where it applies (a no-op in memory). */
  setNoDelay(noDelay?: boolean): this;
}

/** A listening endpoint. */
export interface Listener {
  /** The port actually bound (useful with port 0). */
  readonly port: number;
  /** Stops accepting; open connections are not touched. */
  close(): Promise<void>;
}

/** Where and how to listen. */
export interface ListenOptions {
  /** Address to bind (always explicit: wildcard and specific binds do not mix). */
  host: string;
  /** Port to bind; 0 picks a free one. */
  port: number;
  /** An already listening socket inherited from a supervisor (systemd's LISTEN_FDS), TCP only. */
  fd?: number;
  /** Most connections open at once; beyond it new ones are refused (TCP: server.maxConnections). */
  maxConnections?: number;
}

/** Where to dial. */
export interface DialOptions {
  /** Remote address. */
  host: string;
  /** Remote port. */
  port: number;
  /** Source address: a peer's identity is the address its connections come from. */
  localAddress?: string;
  /** Time the connection may take to open, ms. */
  timeoutMs: number;
  /** Cancels the dial. */
  signal?: AbortSignal;
}

/** Listening and dialing, over TCP or in memory. */
export interface Transport {
  /**
   * @brief Starts accepting connections.
   * @param opts Address, port, limits.
   * @param onConnection Called with each accepted connection.
   * @return The listener; rejects when the address cannot be bound (EADDRINUSE, ...).
   */
  listen(opts: ListenOptions, onConnection: (conn: Connection) => void): Promise<Listener>;
  /**
   * @brief Opens a connection.
   * @param opts Address, source address, deadline.
   * @return The open connection; rejects with the network error (ECONNREFUSED, ETIMEDOUT, ...).
   */
  dial(opts: DialOptions): Promise<Connection>;
}
