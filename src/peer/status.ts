/**
 * @file status.ts
 * @brief The JSON a peer serves on GET /status (the seed's management options and more).
 */

/** One overlay neighbour and the chunk bytes exchanged with it. */
export interface LinkStatus {
  /** "IP:port" of the neighbour. */
  addr: string;
  /** Chunk bytes sent to it (downstream) or received from it (upstream). */
  bytes: number;
  /** Stripes carried on this link. */
  stripes: number[];
}

/** A member as listed in the view. */
export interface MemberStatus {
  /** Member id (its IP). */
  id: string;
  /** Its IP address. */
  ip: string;
  /** Its P2P port. */
  p2pPort: number;
  /** Its HTTP port (/status, /metrics). */
  httpPort: number;
  /** How many others may connect to it (restriction 3). */
  slots: number;
}

/** GET /status. */
export interface PeerStatus {
  /** The peer's IP. */
  id: string;
  /** The channel joined. */
  channel: number;
  /** True when the server pushes to this peer. */
  direct: boolean;
  /** `source` injects the server's chunks into the overlay (the coordinator). */
  role: 'source' | 'relay';
  /** "IP:port" of the coordinator. */
  coordinator: string | null;
  /** Epoch of the last membership view this peer holds (0 before any). */
  epoch: number;
  /** Downstream slots (restriction 3), set once at start. */
  slots: number;
  /** TCP port of the P2P listener. */
  p2pPort: number;
  /** TCP port of this HTTP endpoint. */
  httpPort: number;
  /** Who sends to this peer (the server appears as "IP:port" of its push source). */
  upstream: LinkStatus[];
  /** Everyone this peer sends to. */
  downstream: LinkStatus[];
  /** Chunk bytes sent to other peers since start. */
  bytesSent: number;
  /** Chunk bytes received since start, from peers and from the server's pushes. */
  bytesReceived: number;
  /** Chunk bytes/s sent over the last few seconds. */
  rateSent: number;
  /** Chunk bytes/s received over the last few seconds. */
  rateReceived: number;
  /** Highest sequence stored, or null before the first chunk. */
  lastSeq: number | null;
  /** First sequence stored since this peer joined (its join point), or null before. */
  firstSeq: number | null;
  /** Chunks verified and stored. */
  chunksReceived: number;
  /** Sequences given up as lost. */
  chunksLost: number;
  /** Chunks dropped as already stored or in flight. */
  duplicates: number;
  /** Chunks dropped because their hash did not match the announced one. */
  corrupt: number;
  /** Files waiting to be shown, in play order. */
  pending: string[];
  /** Chunks the player has shown and deleted (0 without a player). */
  played: number;
  /** Times playback ran dry waiting for the next chunk (0 without a player). */
  stalls: number;
  /** Failed chunk writes (the chunks were still kept in memory and relayed). */
  diskErrors: number;
  /** Message of the last failed write ('' when none). */
  lastDiskError: string;
  /** Times a stripe left without its parent received chunks again from its new parent. */
  recoveries: number;
  /** Duration of the last recovery, from orphaned to the first chunk of the new parent, ms (null before any). */
  lastRecoveryMs: number | null;
  /** Worst failure -> first chunk from the new parent, ms. */
  maxRecoveryMs: number;
  /** Failure -> a new parent accepted the stripe (SUBSCRIBED), last one, ms. */
  lastReattachMs: number | null;
  /** Failure -> a new parent accepted the stripe (SUBSCRIBED), worst one, ms. */
  maxReattachMs: number;
  /** Chunk tasks whose worker thread died (each retried once). */
  workerFailures: number;
  /** The members of the last view. */
  members: MemberStatus[];
}
