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
  id: string; ip: string; p2pPort: number; httpPort: number; slots: number;
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
  /** @var PeerStatus::epoch
   * Epoch of the last membership view this peer holds (0 before any). */
  /** @var PeerStatus::slots
   * Downstream slots (restriction 3), set once at start. */
  /** @var PeerStatus::p2pPort
   * TCP port of the P2P listener. */
  /** @var PeerStatus::httpPort
   * TCP port of this HTTP endpoint. */
  epoch: number; slots: number; p2pPort: number; httpPort: number;
  /** Who sends to this peer (the server appears as "IP:port" of its push source). */
  upstream: LinkStatus[];
  /** Everyone this peer sends to. */
  downstream: LinkStatus[];
  /** @var PeerStatus::bytesSent
   * Chunk bytes sent to other peers since start. */
  /** @var PeerStatus::bytesReceived
   * Chunk bytes received since start, from peers and from the server's pushes. */
  bytesSent: number; bytesReceived: number;
  /** Bytes/s over the last few seconds. */
  rateSent: number; rateReceived: number;
  /** @var PeerStatus::lastSeq
   * Highest sequence stored, or null before the first chunk. */
  /** @var PeerStatus::firstSeq
   * First sequence stored since this peer joined (its join point), or null before. */
  lastSeq: number | null; firstSeq: number | null;
  /** @var PeerStatus::chunksReceived
   * Chunks verified and stored. */
  /** @var PeerStatus::chunksLost
   * Sequences given up as lost. */
  /** @var PeerStatus::duplicates
   * Chunks dropped as already stored or in flight. */
  /** @var PeerStatus::corrupt
   * Chunks dropped because their hash did not match the announced one. */
  chunksReceived: number; chunksLost: number; duplicates: number; corrupt: number;
  /** Files waiting to be shown, in play order. */
  pending: string[];
  /** @var PeerStatus::played
   * Chunks the player has shown and deleted (0 without a player). */
  /** @var PeerStatus::stalls
   * Times playback ran dry waiting for the next chunk (0 without a player). */
  played: number; stalls: number;
  /** @var PeerStatus::diskErrors
   * Failed chunk writes (the chunks were still kept in memory and relayed). */
  /** @var PeerStatus::lastDiskError
   * Message of the last failed write ('' when none). */
  diskErrors: number; lastDiskError: string;
  /** @var PeerStatus::recoveries
   * Times a stripe left without its parent received chunks again from its new parent. */
  /** @var PeerStatus::lastRecoveryMs
   * Duration of the last recovery, from orphaned to the first chunk of the new parent, ms (null before any). */
  recoveries: number; lastRecoveryMs: number | null;
  /** Worst failure -> first chunk from the new parent, ms. */
  maxRecoveryMs: number;
  /** Failure -> a new parent accepted the stripe (SUBSCRIBED), last and worst, ms. */
  lastReattachMs: number | null; maxReattachMs: number;
  /** Chunk tasks whose worker thread died (each retried once). */
  workerFailures: number;
  /** The members of the last view. */
  members: MemberStatus[];
}
