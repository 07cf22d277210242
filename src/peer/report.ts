/**
 * @file report.ts
 * @brief Builds the /status document of a peer from its parts and its ledger.
 */
import type { Parts } from './options';
import type { Roles } from './roles';
import type { LinkStatus, MemberStatus, PeerStatus, PlayerFigures } from './status';
import type { MemberRef } from '../protocol/peer';
import { listPending } from '../content/folder';


/** What the composition root adds. */
export interface ReportExtras {
  /** The player's figures (null without one). */
  player: PlayerFigures | null;
  /** The holder's pid (null without one). */
  holderPid: number | null;
  /** The chunk folder. */
  dir: string;
  /** The server's control address (the direct peer's upstream). */
  server: string;
}

/**
 * @brief The /status document.
 * @param p The parts. @param roles The roles. @param x What the root adds.
 */
export async function buildStatus(p: Parts, roles: Roles, x: ReportExtras): Promise<PeerStatus> {
  const st = p.stats;
  const now = p.now();
  const r = st.rates;
  if (now - r.t >= 2_000) {
    const dt = (now - r.t) / 1000;
    Object.assign(r, { t: now, sent: (st.chunkBytesSent - r.lastSent) / dt, received: (st.chunkBytesReceived - r.lastReceived) / dt, lastSent: st.chunkBytesSent, lastReceived: st.chunkBytesReceived });
  }
  const coordinating = roles.role === 'coordinator';
  const m = p.coordinator.membership;
  const known = new Map<string, MemberRef>();
  const add = (ref: MemberRef | null | undefined): void => { if (ref) known.set(ref.id, ref); };
  if (coordinating && m) for (const x2 of m.members.values()) add(x2.ref);
  else [p.view.coordinator, ...p.view.successors, ...p.view.parents].forEach(add);
  const addr = (id: string): string => `${id}:${known.get(id)?.p2pPort ?? p.self.p2pPort}`;
  const upstream: LinkStatus[] = p.upstream.links().map((l) => ({ addr: `${l.ref.id}:${l.ref.p2pPort}`, bytes: p.connections.get(l.ref.id)?.chunkBytesReceived ?? 0, stripes: l.stripes }));
  if (p.source.direct) upstream.unshift({ addr: x.server, bytes: st.serverBytes, stripes: [] });
  const downstream: LinkStatus[] = p.relay.list().map((c) => ({ addr: addr(c.id), bytes: p.connections.get(c.id)?.chunkBytesSent ?? 0, stripes: c.stripes }));
  const members: MemberStatus[] = [...known.values()].map((ref) => ({
    id: ref.id, ip: ref.id, p2pPort: ref.p2pPort, httpPort: ref.httpPort, slots: m?.members.get(ref.id)?.slots ?? 0,
    ...(coordinating && m ? { parents: Array.from({ length: m.stripes }, (_, s) => m.forest.parentOf(ref.id, s)) } : {}),
  }));
  const coordinator = coordinating ? `${p.self.id}:${p.self.p2pPort}` : p.view.coordinator ? `${p.view.coordinator.id}:${p.view.coordinator.p2pPort}` : null;
  return {
    id: p.self.id, channel: p.channel, direct: p.source.direct, role: roles.role, coordinator,
    epoch: coordinating ? m?.epoch ?? 0 : p.view.epoch, slots: p.slots, stripes: coordinating ? m?.stripes ?? 0 : p.view.stripes,
    p2pPort: p.self.p2pPort, httpPort: p.self.httpPort, pid: process.pid, holderPid: x.holderPid,
    upstream, downstream,
    bytesSent: st.chunkBytesSent, bytesReceived: st.chunkBytesReceived, controlBytesSent: st.controlBytesSent, controlBytesReceived: st.controlBytesReceived,
    rateSent: r.sent, rateReceived: r.received,
    lastSeq: p.store.maxSeq >= 0 && p.store.firstSeq !== null && p.store.maxSeq >= p.store.firstSeq ? p.store.maxSeq : null,
    firstSeq: p.store.firstSeq, chunksReceived: st.chunksStored, chunksLost: st.lost, duplicates: st.duplicates, rejected: st.rejected,
    sendsSkipped: st.sendsSkipped, pending: await listPending(x.dir).catch(() => []),
    played: x.player?.played ?? 0, stalls: x.player?.stalls ?? 0, player: x.player,
    diskErrors: st.diskErrors, lastDiskError: st.lastDiskError, reattaches: st.reattaches, lastReattachMs: st.lastReattachMs,
    maxReattachMs: st.maxReattachMs, silenceDetections: st.silenceDetections, workerFailures: st.workerFailures,
    maxDepth: coordinating && m ? m.forest.maxDepth() : null,
    unplaced: coordinating && m ? m.forest.unplacedCount() : null,
    messages: { rx: st.rx, refused: st.refused, ignored: st.ignored }, members,
  };
}
