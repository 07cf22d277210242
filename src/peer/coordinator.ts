/**
 * @file coordinator.ts
 * @brief The coordinator role: owns the membership, publishes what changed, judges suspicions,
 * keeps the successors' replicas, and hands the role to the peer holding the server slot.
 *
 * How it works: JOIN, SUSPECT, BYE, RESYNC and closed member links change the Membership; the
 * changes of one PUBLISH_MIN_MS window go out together (one UPDATE per member touched, one
 * REPLICA per successor). A SUSPECT moves the reporter off the suspect at once; a suspect whose
 * link to us is gone is removed, one that is still connected must answer a PING within
 * PING_TIMEOUT_MS or be removed (a hung peer), two children reporting the same parent slow
 * demote it to a leaf, and bad data demotes at once. After a takeover, members that do not come
 * back within COORDINATOR_GRACE_MS are dropped. The server's `11C`, read every SLOT_RETRY_MS
 * while we lack the slot and every LIST_POLL_MS otherwise, is the only word on who is direct:
 * a member listed while we are not gets the role (`abdicate`), and a listed peer outside our
 * membership is another overlay to merge with (`mergeWith`).
 */
import type { Connections } from './connections';
import type { ServerLink } from './serverLink';
import type { Source } from './source';
import type { Logger } from '../log';
import { Membership, Header } from './membership';
import { ByeReason, MemberRef, ResyncWhat, SuspectReason } from '../protocol/peer';
import type { Session } from './session';
import { AVOID_EDGE_MS, DEMOTE_MS } from '../constants';

/** Timings of the role. */
export interface CoordinatorTimings {
  /** Least time between two publications, ms. */
  publishMinMs: number;
  /** Rebalance period, ms. */
  rebalanceMs: number;
  /** Time members get to come back after a takeover, ms. */
  graceMs: number;
  /** Time a suspect gets to answer a PING, ms. */
  pingTimeoutMs: number;
  /** `11C` period while we hold the slot, ms. */
  listPollMs: number;
  /** `11C` period while we lack it, ms. */
  slotRetryMs: number;
}

/** Options of the role. */
export interface CoordinatorOptions {
  /** Who we are. */
  self: MemberRef;
  /** Our slots. */
  slots: number;
  /** Sessions. */
  connections: Connections;
  /** The server. */
  link: ServerLink;
  /** Our slot and numbering. */
  source: Source;
  /** Logger. */
  log: Logger;
  /** Clock, ms. */
  now: () => number;
  /** Timings. */
  timings: CoordinatorTimings;
  /** Live sequence, period and source key of this moment. */
  header: () => Header;
  /** Our own children (as the root) changed. */
  rootChanged: () => void;
  /** We gave the role to `to` (a member holding the slot): join it. */
  abdicated: (to: MemberRef) => void;
  /** A listed peer outside our membership: join its overlay, then hand our members to it. */
  mergeWith: (ref: MemberRef) => void;
}

/** The coordinator role (inactive until `start`). */
export class Coordinator {
  /** The membership while we hold the role. */
  membership: Membership | null = null;
  private publishTimer: NodeJS.Timeout | null = null;
  private lastPublishMs = 0;
  private lastRebalanceMs = 0;
  private lastListMs = 0;
  private listing = false;
  private graceUntil = 0;
  private readonly pings = new Map<string, { nonce: number; deadline: number }>();
  private readonly slowReports = new Map<string, Set<string>>();
  private watched = new Set<string>();

  /** @param opts Identity, sessions, server, timings, callbacks. */
  constructor(private readonly opts: CoordinatorOptions) {}

  /** @brief Whether we hold the role. */
  get active(): boolean {
    return this.membership !== null;
  }

  /**
   * @brief Takes the role with this membership (a new one when we found the overlay, or one
   * rebuilt from our replica on a takeover: then members get COORDINATOR_GRACE_MS to come back).
   * @param m The membership. @param takeover Whether we replace a coordinator.
   */
  start(m: Membership, takeover: boolean): void {
    this.membership = m;
    this.graceUntil = takeover ? this.opts.now() + this.opts.timings.graceMs : 0;
    this.lastListMs = 0;
    this.opts.log.info({ epoch: m.epoch, members: m.members.size, takeover }, 'coordinator role taken');
    if (takeover) for (const x of m.members.values()) void this.opts.connections.dial(x.ref.id, x.ref.p2pPort).then((s) => this.publishSoon(s), () => undefined);
    this.publishSoon();
  }

  /** @brief Gives the role up (abdication, leave): nothing is published any more. */
  stop(): void {
    if (this.publishTimer) clearTimeout(this.publishTimer);
    this.publishTimer = null;
    for (const id of this.watched) this.opts.connections.watch(id, 'successor', false);
    this.watched.clear();
    this.membership = null;
    this.pings.clear();
  }

  /** @brief Whether `id` is the root's child in stripe `s` (the relay's authority while we coordinate). */
  isRootChild(id: string, s: number): boolean {
    return this.membership?.forest.parentOf(id, s) === this.opts.self.id;
  }

  /** @brief Up to `n` members (repair holders of the root after a takeover), the successors first. */
  someMembers(n: number): MemberRef[] {
    const m = this.membership;
    if (!m) return [];
    const succ = m.successors();
    const rest = [...m.members.values()].map((x) => x.ref).filter((r) => !succ.some((s) => s.id === r.id));
    return [...succ, ...rest].slice(0, n);
  }

  /** @brief Whether `id` is a member. */
  isMember(id: string): boolean {
    return this.membership?.members.has(id) ?? false;
  }

  /** @brief JOIN from a peer (its HELLO says who and how many slots). */
  onJoin(s: Session): void {
    const m = this.membership!;
    const r = s.remote!;
    const res = m.join({ id: r.id, p2pPort: r.p2pPort, httpPort: r.httpPort }, r.slots, this.opts.now());
    if (res === 'full') {
      this.opts.log.warn({ code: 'OVERLAY_FULL', peer: r.id }, 'membership at its bound: join refused');
      return s.close('OVERLAY_FULL');
    }
    this.opts.log.info({ member: r.id, slots: r.slots, members: m.members.size }, res === 'joined' ? 'member joined' : 'member reconnected');
    this.publishSoon();
  }

  /** @brief A member reports another one. */
  onSuspect(reporter: string, id: string, reason: number): void {
    const m = this.membership!;
    if (!m.members.has(id) && id !== this.opts.self.id) return;
    const now = this.opts.now();
    if (reason === SuspectReason.REFUSED) {
      // It lives and talks; its view, or the reporter's, lags ours: the next publication sends
      // both whole (the edge stays: avoiding it could leave a small overlay with nowhere to
      // place the reporter). A refusing root (ourselves) checks our forest: the reporter's lags.
      m.resyncMember(id);
      m.resyncMember(reporter);
      return this.publishSoon();
    }
    if (id === this.opts.self.id || !this.opts.connections.get(id)) {
      if (id !== this.opts.self.id && m.remove(id, now)) this.opts.log.info({ member: id, reporter }, 'member removed (its link is gone)');
    } else {
      m.avoid(id, reporter, now, AVOID_EDGE_MS);
      if (reason === SuspectReason.BAD_DATA) {
        this.opts.log.warn({ code: 'CHUNK_REJECTED', member: id, reporter }, 'member sent data that fails its checks: demoted');
        m.demote(id, now, DEMOTE_MS);
      } else if (reason === SuspectReason.SLOW) {
        const by = this.slowReports.get(id) ?? new Set<string>();
        by.add(reporter);
        this.slowReports.set(id, by);
        if (by.size >= 2) { m.demote(id, now, DEMOTE_MS); this.slowReports.delete(id); }
      } else if (!this.pings.has(id)) {
        const nonce = Math.floor(Math.random() * 0xffffffff);
        this.pings.set(id, { nonce, deadline: now + this.opts.timings.pingTimeoutMs });
        this.opts.connections.get(id)!.send({ type: 'ping', nonce });
      }
    }
    this.publishSoon();
  }

  /** @brief A PONG: the suspect lives (the reporter's link alone is cut; it was moved). */
  onPong(id: string, nonce: number): void {
    if (this.pings.get(id)?.nonce === nonce) this.pings.delete(id);
  }

  /** @brief A member leaves gracefully, or its link to us closed. */
  onGone(id: string): void {
    if (this.membership?.remove(id, this.opts.now())) this.publishSoon();
  }

  /** @brief A member (or successor) saw a gap in its UPDATEs (or REPLICAs). */
  onResync(id: string, what: number): void {
    if (what === ResyncWhat.REPLICA) this.membership!.resyncReplica(id);
    else this.membership!.resyncMember(id);
    this.publishSoon();
  }

  /**
   * @brief Hands the role to member `to` (it holds the server slot; its replica is fresh):
   * every member is told to go there, `to` takes over from its replica.
   */
  abdicate(to: MemberRef): void {
    const m = this.membership!;
    this.publishNow();
    this.opts.log.warn({ to: to.id }, 'a member holds the server slot: handing the coordinator role over');
    for (const id of m.members.keys()) this.opts.connections.get(id)?.send({ type: 'bye', reason: ByeReason.ABDICATING, to });
    this.stop();
    this.opts.abdicated(to);
  }

  /** @brief Rebalance, ping deadlines, grace sweep, the server's list. */
  tick(now: number): void {
    const m = this.membership;
    if (!m) return;
    for (const [id, p] of this.pings) {
      if (now < p.deadline) continue;
      this.pings.delete(id);
      this.opts.log.warn({ code: 'PEER_TIMEOUT', member: id }, 'suspect did not answer PING: removed');
      m.remove(id, now);
      this.opts.connections.get(id)?.close('PEER_TIMEOUT');
      this.publishSoon();
    }
    if (this.graceUntil && now > this.graceUntil) {
      this.graceUntil = 0;
      for (const id of [...m.members.keys()]) if (!this.opts.connections.get(id)) m.remove(id, now);
      this.publishSoon();
    }
    if (now - this.lastRebalanceMs >= this.opts.timings.rebalanceMs) {
      this.lastRebalanceMs = now;
      this.slowReports.clear();
      if (m.rebalance(now)) this.publishSoon();
    }
    const every = this.opts.source.direct ? this.opts.timings.listPollMs : this.opts.timings.slotRetryMs;
    if (!this.listing && now - this.lastListMs >= every) {
      this.lastListMs = now;
      this.listing = true;
      void this.readList().finally(() => { this.listing = false; });
    }
  }

  /** @brief Schedules one publication for the changes of this window (or sends one member its full view). */
  publishSoon(s?: Session): void {
    if (s && this.membership?.members.has(s.id)) this.membership.resyncMember(s.id);
    if (this.publishTimer || !this.membership) return;
    const delay = Math.max(0, this.lastPublishMs + this.opts.timings.publishMinMs - this.opts.now());
    this.publishTimer = setTimeout(() => {
      this.publishTimer = null;
      this.publishNow();
    }, delay);
  }

  /** Sends every UPDATE and REPLICA due now. */
  private publishNow(): void {
    const m = this.membership;
    if (!m) return;
    this.lastPublishMs = this.opts.now();
    const pub = m.drain(this.opts.header());
    const c = this.opts.connections;
    for (const [id, u] of pub.updates) if (!c.get(id)?.send(u)) m.undelivered(id);
    for (const [id, pages] of pub.replicas) if (!pages.every((r) => c.get(id)?.send(r))) m.resyncReplica(id);
    const succ = new Set(pub.replicas.keys());
    if (succ.size) {
      for (const id of this.watched) if (!succ.has(id)) c.watch(id, 'successor', false);
      for (const id of succ) c.watch(id, 'successor', true);
      this.watched = succ;
    }
    if (pub.rootChanged) this.opts.rootChanged();
  }

  /**
   * Reads `11C`: who is direct (succession), who holds the slot we lack, other overlays. Without
   * the slot, a member the server lists gets the role first (it has the pushes we lack), before
   * any listed peer outside the overlay is taken for another overlay to merge with: that may be
   * the coordinator we just replaced, which the server lists until a push to it fails.
   */
  private async readList(): Promise<void> {
    let listed: string[];
    try {
      listed = await this.opts.link.list();
    } catch {
      return;
    }
    const m = this.membership;
    if (!m) return;
    m.setDirect(new Set(listed));
    const self = this.opts.self;
    const direct = listed.includes(self.id);
    if (!direct && this.opts.source.direct) this.opts.source.direct = false;
    if (!this.opts.source.direct) this.opts.source.wantSlot(() => this.active);
    const others = listed.filter((ip) => ip !== self.id);
    const slotHolder = this.opts.source.direct ? undefined : others.map((ip) => m.members.get(ip)).find((x) => x !== undefined);
    if (slotHolder) return this.abdicate(slotHolder.ref);
    for (const ip of others) {
      if (m.members.has(ip)) continue;
      if (!this.opts.source.direct || ip < self.id) {
        this.opts.log.warn({ other: ip }, 'the server lists a peer outside this overlay: merging into its overlay');
        return this.opts.mergeWith({ id: ip, p2pPort: self.p2pPort, httpPort: self.httpPort });
      }
    }
  }
}
