/**
 * @file status.ts
 * @brief The JSON a peer serves on GET /status (the seed's two management lists and more).
 *
 * Every counter comes from the peer's ledger (src/peer/stats.ts) and describes the current run
 * of the overlay process only; `members` lists what this peer knows (the coordinator: the whole
 * membership; a member: its coordinator, successors, parents and children).
 */
import type { PerType } from './stats';

/** One overlay neighbour and the chunk bytes exchanged with it. */
export interface LinkStatus {
  /** "IP:port" of the neighbour (the server's control address for the direct peer's upstream). */
  addr: string;
  /** Chunk bytes sent to it (downstream) or received from it (upstream). */
  bytes: number;
  /** Stripes carried on this link. */
  stripes: number[];
}

/** A member as this peer knows it. */
export interface MemberStatus {
  /** Member id (its IP). */
  id: string;
  /** Its IP address. */
  ip: string;
  /** Its P2P port. */
  p2pPort: number;
  /** Its HTTP port (/status, /metrics). */
  httpPort: number;
  /** How many others may connect to it (restriction 3), when known. */
  slots: number;
  /** Its parent per stripe as the coordinator placed it ('' unplaced); on the coordinator only. */
  parents?: string[];
}

/** What the player child reports (absent without a player). */
export interface PlayerFigures {
  /** Chunks shown and deleted. */
  played: number;
  /** Times playback ran dry waiting for the next chunk. */
  stalls: number;
  /** Chunks deleted without being shown. */
  skipped: number;
  /** Current playback speed (1 = normal). */
  speed: number;
  /** Distance to the newest chunk, seconds of video. */
  behindS: number;
}

/** GET /status. */
export interface PeerStatus {
  /** The peer's IP. */
  id: string;
  /** The channel joined. */
  channel: number;
  /** True when the server pushes to this peer (it holds a direct slot). */
  direct: boolean;
  /** Its role in the overlay: `coordinator` (also the source when direct), `member`, or between roles. */
  role: 'starting' | 'joining' | 'member' | 'coordinator' | 'leaving' | 'closed';
  /** "IP:port" of the coordinator. */
  coordinator: string | null;
  /** Epoch of the last UPDATE (member) or publication (coordinator). */
  epoch: number;
  /** Downstream slots (restriction 3), set once at start. */
  slots: number;
  /** Stripes K of the overlay (0 before joining). */
  stripes: number;
  /** TCP port of the P2P listener. */
  p2pPort: number;
  /** TCP port of this HTTP endpoint. */
  httpPort: number;
  /** Process id of the overlay process. */
  pid: number;
  /** Process id of the holder that owns the data port (null without one: a swarm, systemd). */
  holderPid: number | null;
  /** Who sends to this peer. */
  upstream: LinkStatus[];
  /** Everyone this peer sends to. */
  downstream: LinkStatus[];
  /** Chunk bytes sent to other peers. */
  bytesSent: number;
  /** Chunk bytes received, from peers and from the server's pushes. */
  bytesReceived: number;
  /** Bytes of control frames sent (everything but chunk data). */
  controlBytesSent: number;
  /** Bytes of control frames received. */
  controlBytesReceived: number;
  /** Chunk bytes/s sent over the last few seconds. */
  rateSent: number;
  /** Chunk bytes/s received over the last few seconds. */
  rateReceived: number;
  /** Highest sequence stored, or null before the first chunk. */
  lastSeq: number | null;
  /** First sequence this peer wants (its join point in this run), or null before. */
  firstSeq: number | null;
  /** Chunks verified and stored. */
  chunksReceived: number;
  /** Sequences given up as lost. */
  chunksLost: number;
  /** Chunks received again while already stored. */
  duplicates: number;
  /** Chunks whose hash or source signature failed: never stored. */
  rejected: number;
  /** Chunk sends skipped because a child's queue was full. */
  sendsSkipped: number;
  /** Files waiting to be shown, in play order. */
  pending: string[];
  /** Chunks the player has shown and deleted (0 without a player). */
  played: number;
  /** Times playback ran dry (0 without a player). */
  stalls: number;
  /** The player's figures, null without a player. */
  player: PlayerFigures | null;
  /** Failed chunk writes (the chunks were still kept in memory and relayed). */
  diskErrors: number;
  /** Message of the last failed write ('' when none). */
  lastDiskError: string;
  /** Stripes re-attached to a new parent after a failure. */
  reattaches: number;
  /** Failure -> a new parent accepted the stripe (SUBSCRIBED), last one, ms. */
  lastReattachMs: number | null;
  /** ... worst one, ms. */
  maxReattachMs: number;
  /** Watched links closed for silence (PEER_TIMEOUT). */
  silenceDetections: number;
  /** Chunk tasks whose worker thread died (each retried once). */
  workerFailures: number;
  /** Depth of the deepest stripe tree (the coordinator only; null elsewhere). */
  maxDepth: number | null;
  /** (member, stripe) pairs the coordinator could not place yet (null: not the coordinator). */
  unplaced: number | null;
  /** Messages received, refused (sender not allowed) and ignored (late) per type. */
  messages: { rx: PerType; refused: PerType; ignored: PerType };
  /** The members this peer knows. */
  members: MemberStatus[];
}
