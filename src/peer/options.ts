/**
 * @file options.ts
 * @brief What a peer is built from: its options, its timings (defaults from src/constants.ts)
 * and the parts its roles and handlers share.
 *
 * How it works: everything a test or `relaytv swarm` varies is an option here, never a global:
 * the clock, every duration, the transport (TCP or in memory), where pushes come from (our own
 * data port, a holder, systemd), the chunk pool. A peer keeps no module-level state, so many
 * peers share one process.
 */
import type { ServerLink, PushPort } from './serverLink';
import type { Connections } from './connections';
import type { ChunkStore } from './store';
import type { Relay } from './relay';
import type { Upstream } from './upstream';
import type { View } from './view';
import type { Replica } from './replica';
import type { Join } from './join';
import type { Coordinator } from './coordinator';
import type { Source, PeriodEstimator } from './source';
import type { Ledger } from './stats';
import type { ChunkPool } from './pool';
import type { SourceKey } from './state';
import type { MemberRef } from '../protocol/peer';
import type { Transport } from '../transport/transport';
import type { Logger } from '../log';
import * as C from '../constants';

/** Every duration of a peer, ms (defaults from src/constants.ts; tests shorten them). */
export interface Timings {
  /** Period of the one timer that ticks every part. */
  tickMs: number;
  /** Heartbeat period on every session. */
  heartbeatMs: number;
  /** Silence after which a session is dead (PEER_TIMEOUT). */
  heartbeatTimeoutMs: number;
  /** Time a connection has to complete its handshake. */
  helloTimeoutMs: number;
  /** Time a dial has to connect. */
  dialTimeoutMs: number;
  /** Time a request (JOIN, SUBSCRIBE, the server's answer) has to be answered. */
  replyTimeoutMs: number;
  /** Least time between two views published by the coordinator. */
  publishMinMs: number;
  /** Period of the coordinator's rebalancing. */
  rebalanceMs: number;
  /** After a takeover, how long members have to re-announce themselves before the absent are dropped. */
  graceMs: number;
  /** Time a suspected member has to answer the coordinator's PING. */
  pingTimeoutMs: number;
  /** Period of the direct coordinator's poll of the server's list (`11C`). */
  listPollMs: number;
  /** Retry period of a coordinator without the server slot asking for it. */
  slotRetryMs: number;
  /** A child whose send queue stays full this long is dropped (SLOW_RECEIVER). */
  slowReceiverMs: number;
}

/** The documented defaults. */
export const DEFAULT_TIMINGS: Timings = {
  tickMs: C.TICK_MS, heartbeatMs: C.HEARTBEAT_MS, heartbeatTimeoutMs: C.HEARTBEAT_TIMEOUT_MS, helloTimeoutMs: C.HELLO_TIMEOUT_MS,
  dialTimeoutMs: C.DIAL_TIMEOUT_MS, replyTimeoutMs: C.CONTROL_TIMEOUT_MS, publishMinMs: C.PUBLISH_MIN_MS, rebalanceMs: C.REBALANCE_MS,
  graceMs: C.COORDINATOR_GRACE_MS, pingTimeoutMs: C.PING_TIMEOUT_MS, listPollMs: C.LIST_POLL_MS, slotRetryMs: C.SLOT_RETRY_MS,
  slowReceiverMs: C.SLOW_RECEIVER_MS,
};

/** Options of a peer. */
export interface PeerOptions {
  /** Our IP: our id, our listeners' address, our control connections' source. */
  ip: string;
  /** The server's control address and port. */
  serverHost: string;
  /** Its port. */
  serverPort: number;
  /** The address its pushes come from (default: serverHost). */
  serverIp?: string;
  /** Channel (0-9). */
  channel: number;
  /** How many other peers may connect to us (restriction 3). */
  slots: number;
  /** Chunk folder. */
  dir: string;
  /** Overlay port (the same on every peer by convention). */
  p2pPort: number;
  /** /status and /metrics port. */
  httpPort: number;
  /** The data port the server pushes to (when we listen ourselves). */
  dataPort: number;
  /** Stripes when we found the overlay (default: our slots, 1..MAX_STRIPES). */
  stripes?: number;
  /** First guess of the period, ms. */
  periodMs?: number;
  /** Logger. */
  log: Logger;
  /** Network (TCP unless in memory). */
  transport?: Transport;
  /** Where pushes come from (default: we listen on ip:dataPort). */
  pushes?: PushPort;
  /** A pool shared with other peers of this process; ours otherwise. */
  pool?: ChunkPool;
  /** The overlay key (`--overlay-key`), or none. */
  key?: Buffer;
  /** Durations. */
  timings?: Partial<Timings>;
  /** Clock, ms. */
  now?: () => number;
  /** The holder's pid, when one owns our data port. */
  holderPid?: number;
}

/** The parts of a peer, as the roles and handlers use them (one noun per file, see peer.ts). */
export interface Parts {
  /** Our identity as members know it. */
  self: MemberRef;
  /** Our channel. */
  channel: number;
  /** Our slots (restriction 3). */
  slots: number;
  /** Stripes when we found an overlay. */
  stripes: number;
  /** Logger. */
  log: Logger;
  /** Every counter (feeds /status and /metrics). */
  stats: Ledger;
  /** Clock, ms. */
  now: () => number;
  /** The chunk period as measured. */
  period: PeriodEstimator;
  /** Sessions with other peers. */
  connections: Connections;
  /** What a member knows of the overlay. */
  view: View;
  /** What a successor keeps of the coordinator's state. */
  replica: Replica;
  /** Our children. */
  relay: Relay;
  /** Our parents, and repair. */
  upstream: Upstream;
  /** Chunks: memory ring and folder. */
  store: ChunkStore;
  /** The course's server. */
  link: ServerLink;
  /** Numbering and signing of the server's pushes. */
  source: Source;
  /** The join loop. */
  join: Join;
  /** The coordinator role. */
  coordinator: Coordinator;
  /** Our source key (used while we are the source). */
  key: SourceKey;
  /** The source keys chunks are checked with. */
  keys(): Buffer[];
  /** Saves where the overlay is and our numbering. */
  saveState(): void;
  /**
   * Whether our own event loop stalled within the last heartbeat timeout (a SIGSTOP, a machine
   * that starved us): peers may have closed our links for silence that was ours.
   */
  stalledLately(): boolean;
}
