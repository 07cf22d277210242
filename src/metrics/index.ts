/**
 * @file index.ts
 * @brief Every Prometheus metric of relaytv, declared once (STYLE rule 11).
 *
 * The server's metrics are incremented by the server code (`metrics?.rounds.inc(...)`), which
 * never imports prom-client. A peer's metrics are read, at scrape time, from the peer's one
 * ledger and /status figures (src/peer/stats.ts), so /status and /metrics cannot disagree.
 * Label cardinality is bounded: channels, message types and directions, never remote ids
 * (the server labels its direct clients, at most --max-clients per channel).
 */
import client from 'prom-client';
import type { Ledger, PerType } from '../peer/stats';

/**
 * @brief Creates the registry and the metrics of a server process.
 * @return The registry and every server metric.
 */
export function createMetrics() {
  const register = new client.Registry();
  register.setDefaultLabels({ role: 'server', id: 'server' });
  client.collectDefaultMetrics({ register, prefix: 'relaytv_' });
  const registers = [register];
  return {
    register,
    /** Chunk bytes pushed to each direct client. */
    sentBytes: new client.Counter({ name: 'relaytv_sent_bytes_total', help: 'Chunk bytes sent', labelNames: ['peer'], registers }),
    /** Server: clients per channel. */
    channelClients: new client.Gauge({ name: 'relaytv_channel_clients', help: 'Direct clients per channel', labelNames: ['channel'], registers }),
    /** Server: rounds completed per channel. */
    rounds: new client.Counter({ name: 'relaytv_rounds_total', help: 'Push rounds completed', labelNames: ['channel'], registers }),
    /** Server: round duration. */
    roundSeconds: new client.Histogram({ name: 'relaytv_round_seconds', help: 'Duration of a push round', labelNames: ['channel'], buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 1.8, 2, 5], registers }),
    /** Server: pushes that failed on the client's side (refused, reset, timed out). */
    failedPushes: new client.Counter({ name: 'relaytv_failed_pushes_total', help: 'Pushes that failed', labelNames: ['channel'], registers }),
  };
}

/** The metrics object injected into the server. */
export type Metrics = ReturnType<typeof createMetrics>;

/** What a peer's metrics read at each scrape. */
export interface PeerFigures {
  /** The ledger. */
  ledger: Ledger;
  /** Open overlay sessions. */
  connections: number;
  /** Chunk files waiting to be shown. */
  pending: number;
  /** The player's figures (zeros without one). */
  player: { played: number; stalls: number; skipped: number; speed: number; behindS: number };
}

/**
 * @brief Creates the registry of a peer, every metric collected from its figures.
 * @param id The peer's IP (a default label, one per registry).
 * @param read Reads the figures (may be async: /status reads the folder).
 * @return The registry.
 */
export function createPeerMetrics(id: string, read: () => Promise<PeerFigures>): client.Registry {
  const register = new client.Registry();
  register.setDefaultLabels({ role: 'peer', id });
  client.collectDefaultMetrics({ register, prefix: 'relaytv_' });
  // One read serves every collector of a scrape (they run together).
  let cached: { at: number; figures: Promise<PeerFigures> } | null = null;
  const figures = (): Promise<PeerFigures> => {
    if (!cached || Date.now() - cached.at > 250) cached = { at: Date.now(), figures: read() };
    return cached.figures;
  };
  const counter = (name: string, help: string, pick: (f: PeerFigures) => number): void => {
    new client.Counter({
      name, help, registers: [register],
      async collect() { this.reset(); this.inc(pick(await figures())); },
    });
  };
  const gauge = (name: string, help: string, pick: (f: PeerFigures) => number): void => {
    new client.Gauge({ name, help, registers: [register], async collect() { this.set(pick(await figures())); } });
  };
  const perType = (name: string, help: string, pick: (f: PeerFigures) => PerType): void => {
    new client.Counter({
      name, help, labelNames: ['type'], registers: [register],
      async collect() {
        this.reset();
        for (const [type, n] of Object.entries(pick(await figures()))) this.inc({ type }, n ?? 0);
      },
    });
  };
  counter('relaytv_sent_bytes_total', 'Chunk bytes sent to children and fetchers', (f) => f.ledger.chunkBytesSent);
  counter('relaytv_received_bytes_total', 'Chunk bytes received from the server and peers', (f) => f.ledger.chunkBytesReceived);
  counter('relaytv_control_sent_bytes_total', 'Bytes of control frames sent', (f) => f.ledger.controlBytesSent);
  counter('relaytv_control_received_bytes_total', 'Bytes of control frames received', (f) => f.ledger.controlBytesReceived);
  counter('relaytv_chunks_received_total', 'Chunks verified and stored', (f) => f.ledger.chunksStored);
  counter('relaytv_chunks_lost_total', 'Chunks given up as lost', (f) => f.ledger.lost);
  counter('relaytv_chunks_duplicated_total', 'Chunks received again while already stored', (f) => f.ledger.duplicates);
  counter('relaytv_chunks_rejected_total', 'Chunks failing their hash or the source signature', (f) => f.ledger.rejected);
  counter('relaytv_sends_skipped_total', 'Chunk sends skipped because a child queue was full', (f) => f.ledger.sendsSkipped);
  counter('relaytv_reattaches_total', 'Stripes re-attached to a new parent after a failure', (f) => f.ledger.reattaches);
  counter('relaytv_silence_detections_total', 'Watched links closed for silence', (f) => f.ledger.silenceDetections);
  counter('relaytv_disk_errors_total', 'Failed chunk writes', (f) => f.ledger.diskErrors);
  gauge('relaytv_reattach_max_seconds', 'Worst failure to re-attach time', (f) => f.ledger.maxReattachMs / 1000);
  gauge('relaytv_connections', 'Open overlay sessions', (f) => f.connections);
  gauge('relaytv_pending_files', 'Chunk files waiting to be shown', (f) => f.pending);
  gauge('relaytv_played_chunks', 'Chunks shown by the player', (f) => f.player.played);
  gauge('relaytv_player_stalls', 'Player stalls', (f) => f.player.stalls);
  gauge('relaytv_player_skipped_chunks', 'Chunks the player deleted without showing them', (f) => f.player.skipped);
  gauge('relaytv_player_speed', 'Playback speed (1 = normal)', (f) => f.player.speed);
  gauge('relaytv_player_behind_seconds', 'Distance from the newest chunk, seconds of video', (f) => f.player.behindS);
  perType('relaytv_messages_received_total', 'P2P messages received, per type', (f) => f.ledger.rx);
  perType('relaytv_messages_refused_total', 'P2P messages refused (the sender may not send them), per type', (f) => f.ledger.refused);
  return register;
}
