/**
 * @file types.ts
 * @brief The part of GET /status the dashboards read (src/peer/status.ts is the contract).
 *
 * The UI depends on these fields only, so a fake peer in tests serves just them; the peer
 * sends more, which the UI ignores.
 */
import type { PeerStatus as FullStatus } from '../peer/status';

export type { LinkStatus, MemberStatus } from '../peer/status';

/** GET /status of a peer, as far as the dashboards read it. */
export type PeerStatus = Pick<FullStatus,
  'id' | 'channel' | 'direct' | 'role' | 'coordinator' | 'epoch' | 'slots' | 'p2pPort' | 'httpPort' |
  'upstream' | 'downstream' | 'bytesSent' | 'bytesReceived' | 'rateSent' | 'rateReceived' | 'lastSeq' |
  'chunksReceived' | 'chunksLost' | 'duplicates' | 'pending' | 'played' | 'stalls' | 'members'>;
