/**
 * @file types.ts
 * @brief The GET /status JSON as the dashboards read it (same contract as src/peer/status.ts).
 *
 * Kept local so the terminal UI depends on the wire contract, not on peer internals; the peer
 * may send more fields, which the UI ignores.
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

/** A member of the overlay as a peer lists it. */
export interface MemberStatus {
  /** Member id (its IP). */
  id: string;
  /** Its IP address. */
  ip: string;
  /** Its P2P port. */
  p2pPort: number;
  /** Its HTTP port (serves /status). */
  httpPort: number;
  /** How many others may connect to it (restriction 3). */
  slots: number;
}

/** GET /status of a peer. */
export interface PeerStatus {
  /** The peer's IP, e.g. "127.0.0.11". */
  id: string;
  /** Channel it watches. */
  channel: number;
  /** True when the server pushes to this peer directly. */
  direct: boolean;
  /** `source` injects the server's chunks into the overlay; `relay` only relays. */
  role: 'source' | 'relay';
  /** "IP:port" of the coordinator, null when unknown. */
  coordinator: string | null;
  /** Membership epoch. */
  epoch: number;
  /** Configured slots (restriction 3). */
  slots: number;
  /** P2P port. */
  p2pPort: number;
  /** HTTP port. */
  httpPort: number;
  /** Who sends to this peer. */
  upstream: LinkStatus[];
  /** Everyone this peer sends to. */
  downstream: LinkStatus[];
  /** Chunk bytes sent in total. */
  bytesSent: number;
  /** Chunk bytes received in total. */
  bytesReceived: number;
  /** Bytes/s sent over the last few seconds. */
  rateSent: number;
  /** Bytes/s received over the last few seconds. */
  rateReceived: number;
  /** Highest sequence received, null before the first chunk. */
  lastSeq: number | null;
  /** Chunks received and stored. */
  chunksReceived: number;
  /** Chunks given up as lost. */
  chunksLost: number;
  /** Chunks received twice. */
  duplicates: number;
  /** Files waiting to be shown, in play order. */
  pending: string[];
  /** Chunks shown by the player. */
  played: number;
  /** Player stalls. */
  stalls: number;
  /** The overlay members this peer knows. */
  members: MemberStatus[];
}
