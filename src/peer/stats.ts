/**
 * @file stats.ts
 * @brief The peer's one ledger: every counter that /status shows and /metrics exports.
 *
 * Parts increment fields here and nowhere else; /status reads the ledger, and the Prometheus
 * metrics are collected from it at scrape time (src/metrics), so the two can never disagree.
 * Counters describe the current run of the process only. Keys of the per-type maps are message
 * names (a bounded set), never remote ids.
 */
import type { MsgName } from '../protocol/peer';

/** A counter per message type. */
export type PerType = Partial<Record<MsgName, number>>;

/** Every counter of one peer. */
export class Ledger {
  /** Chunk bytes sent to children and to fetchers. */
  chunkBytesSent = 0;
  /** Chunk bytes received from the server and from peers. */
  chunkBytesReceived = 0;
  /** Bytes of every frame sent that is not a CHUNK (control traffic). */
  controlBytesSent = 0;
  /** Bytes of every frame received that is not a CHUNK. */
  controlBytesReceived = 0;
  /** Bytes of server pushes received (the direct peer's input). */
  serverBytes = 0;
  /** Chunks verified and stored. */
  chunksStored = 0;
  /** Chunks received again while already stored or in flight. */
  duplicates = 0;
  /** Chunks whose hash or signature failed: never stored. */
  rejected = 0;
  /** Sequences given up as lost. */
  lost = 0;
  /** Chunk sends skipped because a child's queue was full (it repairs them by FETCH). */
  sendsSkipped = 0;
  /** Chunk files of an earlier run removed from the folder at the start of this one. */
  sweptEarlier = 0;
  /** Failed chunk writes (the chunk was still kept in memory and relayed). */
  diskErrors = 0;
  /** Message of the last failed write. */
  lastDiskError = '';
  /** Chunk tasks whose worker thread died (each retried once). */
  workerFailures = 0;
  /** Stripes that got a new parent after a failure (re-attach). */
  reattaches = 0;
  /** Last failure -> new parent's SUBSCRIBED, ms (null before any). */
  lastReattachMs: number | null = null;
  /** Worst failure -> new parent's SUBSCRIBED, ms. */
  maxReattachMs = 0;
  /** Sessions closed because a watched neighbour went silent (PEER_TIMEOUT). */
  silenceDetections = 0;
  /** Messages received per type. */
  readonly rx: PerType = {};
  /** Messages refused per type (their sender may not send them): logged, connection closed. */
  readonly refused: PerType = {};
  /** Messages received out of turn and ignored (a benign race: a former parent's late chunk). */
  readonly ignored: PerType = {};
  /** Connections closed per reason code. */
  readonly closes: Record<string, number> = {};
  /** Chunk bytes/s sent and received over the last window (updated when /status is read). */
  readonly rates = { t: 0, sent: 0, received: 0, lastSent: 0, lastReceived: 0 };

  /** @brief Counts one message of `type` in `map`. */
  static bump(map: PerType, type: MsgName): void {
    map[type] = (map[type] ?? 0) + 1;
  }

  /** @brief Records a re-attach time. @param ms Failure -> new parent's SUBSCRIBED. */
  reattached(ms: number): void {
    this.reattaches++;
    this.lastReattachMs = ms;
    this.maxReattachMs = Math.max(this.maxReattachMs, ms);
  }

  /** @brief Counts a closed connection by its reason code. */
  closed(code: string): void {
    this.closes[code] = (this.closes[code] ?? 0) + 1;
    if (code === 'PEER_TIMEOUT') this.silenceDetections++;
  }
}
