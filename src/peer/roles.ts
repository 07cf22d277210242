/**
 * @file roles.ts
 * @brief Who this peer is in the overlay, and every change of it: joining, member, coordinator.
 *
 * How it works (the state diagram of the report):
 * - `joining` runs the join part; it ends as `member` (the coordinator's first UPDATE) or as
 *   `coordinator` (we found the overlay: the server answered `10` and nobody else answered).
 * - A member applies the coordinator's UPDATEs to its view (parents -> upstream, children ->
 *   relay) and, as a successor, its REPLICAs to its replica. When its link to the coordinator
 *   closes, or the coordinator leaves, it rejoins (join part): the first successor alive takes
 *   the role over from its replica (`takeover`), the others JOIN it.
 * - A coordinator that hands the role to the slot holder (`abdicated`), or merges into another
 *   overlay (`mergeWith`: join it, then BYE ABDICATING tells its members where to go), becomes
 *   a member again. BYE ABDICATING naming us makes us take over from our replica.
 * JOINs that arrive while we are between roles are held and answered once we know.
 */
import type { Session } from './session';
import type { Parts } from './options';
import { Membership } from './membership';
import { ByeReason, MemberRef, Msg, ResyncWhat } from '../protocol/peer';
import { COORDINATOR_PROBE_MS, LOAD_TAU_MS } from '../constants';

/** Most JOINs held while we are between roles. */
const MAX_HELD_JOINS = 256;

/** The peer's role and its transitions. */
export class Roles {
  /** The current role. */
  role: 'starting' | 'joining' | 'member' | 'coordinator' | 'leaving' | 'closed' = 'starting';
  private readonly held = new Set<Session>();
  /** Coordinator links we probe, until when (probeCoordinator). */
  private readonly probes = new Map<string, number>();

  /** @param p The peer's parts. */
  constructor(private readonly p: Parts) {}

  /** @brief Starts looking for the overlay. */
  start(): void {
    this.role = 'joining';
    void this.runJoin();
  }

  /** @brief Whether we are between roles or gone (held JOINs, no rejoin). */
  get settled(): boolean {
    return this.role === 'member' || this.role === 'coordinator';
  }

  /** @brief The coordinator's first UPDATE after a JOIN of ours (the join part calls it). */
  joined(s: Session, u: Msg<'update'>): void {
    const p = this.p;
    if (this.role === 'coordinator' && p.coordinator.membership) {
      // A merge: our members go where we went.
      for (const id of p.coordinator.membership.members.keys()) p.connections.get(id)?.send({ type: 'bye', reason: ByeReason.ABDICATING, to: u.coordinator });
      p.coordinator.stop();
    }
    p.source.deactivate();
    this.role = 'member';
    p.view.reset();
    this.update(s, u);
    for (const h of this.held) if (h.state === 'open') h.send({ type: 'redirect', to: u.coordinator });
    this.held.clear();
  }

  /** @brief An UPDATE from our coordinator (or a successor taking over). */
  update(s: Session, u: Msg<'update'>): void {
    const p = this.p;
    if (this.role === 'coordinator') return;
    const ch = p.view.apply(u, p.now());
    if (ch === 'stale') return;
    if (ch === 'gap') return void s.send({ type: 'resync', what: ResyncWhat.UPDATE });
    this.role = 'member';
    if (p.store.firstSeq === null && p.view.liveSeq >= 0) p.store.startAt(p.view.liveSeq);
    p.period.suggest(u.periodMs);
    p.upstream.apply(p.view.parents);
    p.relay.viewChanged();
    p.connections.watch(u.coordinator.id, 'successor', u.successors.some((x) => x.id === p.self.id));
    p.saveState();
  }

  /** @brief A REPLICA from our coordinator (we are a successor). */
  replica(s: Session, r: Msg<'replica'>): void {
    if (this.p.replica.apply(r, s.id) === 'gap') s.send({ type: 'resync', what: ResyncWhat.REPLICA });
  }

  /** @brief Someone asks us to JOIN. */
  joinRequest(s: Session): void {
    const p = this.p;
    if (this.role === 'coordinator') return p.coordinator.onJoin(s);
    const coord = p.view.coordinator;
    if (this.role === 'member' && coord && p.connections.get(coord.id)) return void s.send({ type: 'redirect', to: coord });
    // Two direct peers looking for each other: the lower id founds. A redirect to itself tells it so.
    if (this.role === 'joining' && p.source.direct && s.remote?.direct && s.id < p.self.id) {
      return void s.send({ type: 'redirect', to: { id: s.id, p2pPort: s.remote.p2pPort, httpPort: s.remote.httpPort } });
    }
    if (this.held.size < MAX_HELD_JOINS) this.held.add(s);
    else s.close('CONNECTION_LIMIT');
  }

  /** @brief BYE from a peer. */
  bye(s: Session, m: Msg<'bye'>): void {
    const p = this.p;
    if (this.role === 'member' && p.view.coordinator?.id === s.id) {
      if (m.reason === ByeReason.ABDICATING && m.to) {
        if (m.to.id === p.self.id) return this.takeover(s.id);
        return this.goTo(m.to);
      }
      return void this.coordinatorLost(false);
    }
    this.gone(s.id);
  }

  /** @brief The link to `id` closed (or it left): every part forgets it; a lost coordinator is replaced. */
  linkClosed(id: string, code: string): void {
    const p = this.p;
    this.gone(id);
    if (code === 'PEER_TIMEOUT' && this.role === 'member' && p.view.coordinator && p.view.coordinator.id !== id) this.probeCoordinator(p.view.coordinator.id);
    // Asked again first after silence (a cut link is not a dead coordinator), or when the silence
    // was ours (we were stopped or starved: it dropped us, it lives). Otherwise a closed link is a
    // dead coordinator: its process crashed, and the successors know the view.
    if (this.role === 'member' && p.view.coordinator?.id === id) void this.coordinatorLost(code === 'PEER_TIMEOUT' || p.stalledLately());
  }

  /** @brief The coordinator handed the role to `to`: we join it. */
  abdicated(to: MemberRef): void {
    this.p.source.deactivate();
    this.goTo(to);
  }

  /** @brief The coordinator found another overlay in the server's list: join it (then `joined` moves our members). */
  mergeWith(ref: MemberRef): void {
    void this.p.join.through([ref]);
  }

  /** @brief Gracefully leaves: `12C`, BYE to everyone, one more period serving children, close. */
  async leave(): Promise<void> {
    const p = this.p;
    if (this.role === 'leaving' || this.role === 'closed') return;
    const was = this.role;
    this.role = 'leaving';
    p.join.destroy();
    if (p.source.direct) await p.link.leave().catch(() => undefined);
    if (was === 'member' || was === 'coordinator') {
      for (const s of p.connections.sessions()) s.send({ type: 'bye', reason: ByeReason.LEAVING, to: null });
      await new Promise((r) => setTimeout(r, p.period.ms));
    }
    p.coordinator.stop();
    this.role = 'closed';
  }

  /**
   * A neighbour went silent: the silence may be our own link's (down, cut off), which would have
   * cost us our membership too while our link to the coordinator, unwatched, still looks open
   * (its close waits in TCP's retransmissions). So we watch that link for COORDINATOR_PROBE_MS:
   * the coordinator answers our heartbeats, or the link is closed for silence and we rejoin.
   */
  private probeCoordinator(id: string): void {
    this.probes.set(id, this.p.now() + COORDINATOR_PROBE_MS); // a running probe of it is extended
    this.p.connections.watch(id, 'probe', true);
  }

  /** @brief The peer's tick: probes past their deadline end. */
  tick(now: number): void {
    for (const [id, until] of this.probes) {
      if (now < until) continue;
      this.probes.delete(id);
      this.p.connections.watch(id, 'probe', false);
    }
  }

  /** Every part forgets a peer that is gone. */
  private gone(id: string): void {
    const p = this.p;
    p.relay.drop(id);
    p.upstream.parentGone(id);
    if (this.role === 'coordinator') p.coordinator.onGone(id);
  }

  private async runJoin(): Promise<void> {
    const r = await this.p.join.run();
    if (r === 'founder' && this.role === 'joining') {
      const p = this.p;
      this.becomeCoordinator(new Membership({ self: p.self, slots: p.slots, stripes: p.stripes, tauMs: LOAD_TAU_MS }), false);
    }
  }

  /** Joins `to` (a new coordinator); back to the server if it does not answer. */
  private goTo(to: MemberRef): void {
    this.role = 'joining';
    void this.p.join.through([to]).then((ok) => { if (!ok && this.role === 'joining') void this.runJoin(); });
  }

  /** The coordinator is gone from our side: rejoin (`askOld`: the old one first), or take over. */
  private async coordinatorLost(askOld: boolean): Promise<void> {
    const p = this.p;
    const old = p.view.coordinator!;
    const successors = p.view.successors;
    this.role = 'joining';
    p.log.warn({ old: old.id, askOld }, 'coordinator lost: rejoining');
    const r = await p.join.rejoin(old, successors, askOld);
    if (this.role !== 'joining') return;
    if (r === 'takeover') this.takeover(old.id);
    else if (r === 'server') void this.runJoin();
  }

  /** We take the role over: from our replica of `from`, or afresh when we hold none. */
  private takeover(from: string): void {
    const p = this.p;
    const r = p.replica;
    const m = r.ready && r.root === from
      ? r.toMembership(p.self, p.slots, LOAD_TAU_MS, p.now())
      : new Membership({ self: p.self, slots: p.slots, stripes: p.view.stripes || p.stripes, tauMs: LOAD_TAU_MS, epoch: p.view.epoch });
    this.becomeCoordinator(m, true);
  }

  private becomeCoordinator(m: Membership, takeover: boolean): void {
    const p = this.p;
    this.role = 'coordinator';
    p.upstream.reset();
    p.view.reset();
    p.source.activate();
    if (!p.source.direct) p.source.wantSlot(() => this.role === 'coordinator');
    p.coordinator.start(m, takeover);
    for (const h of this.held) if (h.state === 'open') p.coordinator.onJoin(h);
    this.held.clear();
    p.relay.viewChanged();
    p.saveState();
  }
}
