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
  channel: number;
  /** True when the server pushes to this peer. */
  direct: boolean;
  /** `source` injects the server's chunks into the overlay (the coordinator). */
  role: 'source' | 'relay';
  /** "IP:port" of the coordinator. */
  coordinator: string | null;
  epoch: number; slots: number; p2pPort: number; httpPort: number;
  /** Who sends to this peer (the server appears as "IP:port" of its push source). */
  upstream: LinkStatus[];
  /** Everyone this peer sends to. */
  downstream: LinkStatus[];
  bytesSent: number; bytesReceived: number;
  /** Bytes/s over the last few seconds. */
  rateSent: number; rateReceived: number;
  lastSeq: number | null; firstSeq: number | null;
  chunksReceived: number; chunksLost: number; duplicates: number; corrupt: number;
  /** Files waiting to be shown, in play order. */
  pending: string[];
  played: number; stalls: number;
  diskErrors: number; lastDiskError: string;
  recoveries: number; lastRecoveryMs: number | null;
  workerFailures: number;
  members: MemberStatus[];
}
