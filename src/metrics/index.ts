/**
 * @file index.ts
 * @brief Every Prometheus metric of relaytv, declared once (STYLE rule 11).
 *
 * Overlay and server code take an optional `metrics` and call e.g.
 * `metrics?.sentBytes.inc({ peer: '127.0.0.12' }, n)`; they never import prom-client, so
 * unit tests run without a registry. Label cardinality is bounded: `peer` labels name direct
 * overlay neighbours only (at most slots + stripes of them), never chunks.
 */
import client from 'prom-client';

/**
 * @brief Creates the registry and every metric of a peer or server process.
 * @param role `peer` or `server`; stored as a default label.
 * @param id Process identity (peer IP, or `server`); stored as a default label.
 */
export function createMetrics(role: 'peer' | 'server', id: string) {
  const register = new client.Registry();
  register.setDefaultLabels({ role, id });
  client.collectDefaultMetrics({ register, prefix: 'relaytv_' });
  const m = {
    register,
    /** Chunk bytes sent to overlay neighbours (and by the server, to clients). */
    sentBytes: new client.Counter({ name: 'relaytv_sent_bytes_total', help: 'Chunk bytes sent', labelNames: ['peer'], registers: [register] }),
    /** Chunk bytes received from the server or overlay neighbours. */
    receivedBytes: new client.Counter({ name: 'relaytv_received_bytes_total', help: 'Chunk bytes received', labelNames: ['peer'], registers: [register] }),
    /** Chunks stored after verification. */
    chunksReceived: new client.Counter({ name: 'relaytv_chunks_received_total', help: 'Chunks received and stored', registers: [register] }),
    /** Sequence numbers given up as lost (never received). */
    chunksLost: new client.Counter({ name: 'relaytv_chunks_lost_total', help: 'Chunks known missing and given up', registers: [register] }),
    /** Chunks received again after they were already stored. */
    chunksDuplicated: new client.Counter({ name: 'relaytv_chunks_duplicated_total', help: 'Chunks received twice', registers: [register] }),
    /** Chunks dropped because their SHA-256 differed from the announced one. */
    chunksCorrupt: new client.Counter({ name: 'relaytv_chunks_corrupt_total', help: 'Chunks failing their hash', registers: [register] }),
    /** Upstream changes after a failure. */
    recoveries: new client.Counter({ name: 'relaytv_recoveries_total', help: 'Failovers to a new upstream', registers: [register] }),
    /** Time from detecting a failure to the first chunk from the new upstream. */
    recoverySeconds: new client.Histogram({ name: 'relaytv_recovery_seconds', help: 'Failure to first chunk from new upstream', buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10], registers: [register] }),
    /** Open overlay connections by direction. */
    connections: new client.Gauge({ name: 'relaytv_connections', help: 'Open overlay connections', labelNames: ['direction'], registers: [register] }),
    /** Chunk files waiting to be shown. */
    pendingFiles: new client.Gauge({ name: 'relaytv_pending_files', help: 'Chunk files waiting to be shown', registers: [register] }),
    /** Chunks the player has shown. */
    playedChunks: new client.Gauge({ name: 'relaytv_played_chunks', help: 'Chunks shown by the player', registers: [register] }),
    /** Player stalls (next chunk not there in time). */
    playerStalls: new client.Gauge({ name: 'relaytv_player_stalls', help: 'Player stalls', registers: [register] }),
    /** Server: clients per channel. */
    channelClients: new client.Gauge({ name: 'relaytv_channel_clients', help: 'Direct clients per channel', labelNames: ['channel'], registers: [register] }),
    /** Server: rounds completed per channel. */
    rounds: new client.Counter({ name: 'relaytv_rounds_total', help: 'Push rounds completed', labelNames: ['channel'], registers: [register] }),
    /** Server: round duration. */
    roundSeconds: new client.Histogram({ name: 'relaytv_round_seconds', help: 'Duration of a push round', labelNames: ['channel'], buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 1.8, 2, 5], registers: [register] }),
    /** Server: pushes that failed (refused, timed out). */
    failedPushes: new client.Counter({ name: 'relaytv_failed_pushes_total', help: 'Pushes that failed', labelNames: ['channel'], registers: [register] }),
  };
  return m;
}

/** The metrics object injected into components. */
export type Metrics = ReturnType<typeof createMetrics>;
