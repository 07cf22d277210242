/**
 * @file membership.ts
 * @brief The coordinator's membership view: members, epochs, and the placement it publishes.
 *
 * Held by the coordinator (the source, root of every stripe) and replicated to every member in
 * each VIEW, so any member can take the role over from the last view it received (the
 * next one in view order, direct members first). No sockets here: the peer publishes.
 */
import { chooseHome, place, Placement, PlacementMember } from './placement';
import type { PeerMessage, WireMember } from '../protocol/peer';

/** What the coordinator knows of a member. */
export interface MemberInfo extends WireMember {
  /** Highest sequence the member reported. */
  maxSeq: number;
  /** Bytes credited at join (the mean of the others then), added to `sent` for balance. */
  sentBase: number;
}

/** A VIEW message. */
export type ViewMessage = Extract<PeerMessage, { type: 'view' }>;

/** Options of a membership. */
export interface MembershipOptions {
  /** The coordinator itself (root of every stripe). */
  self: MemberInfo;
  /** Number of stripes K of the forest (>= 1; at most MAX_STRIPES on the wire). */
  stripes: number;
  /** Estimated chunk period (time between consecutive chunks), ms, announced in every VIEW. */
  periodMs: number;
  /** Epoch to start from (a new coordinator continues the old one's). */
  epoch?: number;
}

/** The membership view and its placement. */
export class Membership {
  /** Monotonic version of the view. */
  epoch: number;
  /** Members other than the coordinator, in join order. */
  readonly members = new Map<string, MemberInfo>();
  /** Current placement (parents per stripe). */
  placement: Placement = [];
  /** Broken edges reported by members, `parent>child` -> expiry time. */
  private readonly avoid = new Map<string, number>();
  /** Members demoted to leaves (reported slow by several children) -> expiry time. */
  private readonly demoted = new Map<string, number>();
  /** Recent slowness reports: member -> reporters. */
  private readonly slowReports = new Map<string, Set<string>>();

  /** @param opts Self, stripes, period, starting epoch. */
  constructor(private readonly opts: MembershipOptions) {
    this.epoch = opts.epoch ?? 0;
  }

  /** @brief The coordinator's own entry. */
  get self(): MemberInfo {
    return this.opts.self;
  }

  /**
   * @brief Adds a member (or refreshes one that reconnects, keeping its place and home).
   * @param info What the member said in HELLO.
   * @return true when the view changed.
   */
  join(info: Omit<MemberInfo, 'home' | 'sent' | 'sentBase'> & { sent?: number }): boolean {
    const known = this.members.get(info.id);
    if (known) {
      known.direct = info.direct;
      known.maxSeq = Math.max(known.maxSeq, info.maxSeq);
      return false;
    }
    const all = [...this.members.values()];
    const home = chooseHome(all.map(toPlacement), this.opts.stripes, info.slots);
    // A newcomer counts as having sent the mean so far: otherwise, with the least total first,
    // every orphan would be hung under it, and it holds none of the chunks they miss.
    const mean = all.length ? all.reduce((n, m) => n + m.sent + m.sentBase, 0) / all.length : 0;
    this.members.set(info.id, { ...info, home, sent: info.sent ?? 0, sentBase: mean });
    this.recompute();
    return true;
  }

  /** @brief Removes a member; returns true when it was there. */
  remove(id: string): boolean {
    if (!this.members.delete(id)) return false;
    this.recompute();
    return true;
  }

  /** @brief Records a heartbeat's figures. */
  update(id: string, sent: number, maxSeq: number, direct: boolean): void {
    const m = id === this.self.id ? this.self : this.members.get(id);
    if (!m) return;
    m.sent = sent;
    m.maxSeq = Math.max(m.maxSeq, maxSeq);
    m.direct = direct;
  }

  /**
   * @brief Marks the edge parent->child broken for `ms` and re-places the child.
   * @return true when the view changed.
   */
  avoidEdge(parent: string, child: string, now: number, ms: number): boolean {
    this.avoid.set(`${parent}>${child}`, now + ms);
    // Two children blaming the same live parent: the parent cannot forward (a slow uplink);
    // it is demoted to a leaf for `ms`, so its interior place goes to a member that can.
    const reporters = this.slowReports.get(parent) ?? new Set<string>();
    reporters.add(child);
    this.slowReports.set(parent, reporters);
    if (reporters.size >= 2 && parent !== this.self.id && this.spareAfterDemoting(parent) >= 0) {
      this.demoted.set(parent, now + ms);
      this.slowReports.delete(parent);
    }
    return this.recompute();
  }

  /**
   * @brief Periodic balance step: rotates at most one leaf per stripe.
   * @param thresholdBytes Minimum imbalance that justifies a move.
   * @param now Current time (expires avoided edges).
   * @return true when the view changed.
   */
  rebalance(thresholdBytes: number, now: number): boolean {
    for (const [edge, until] of this.avoid) if (until <= now) this.avoid.delete(edge);
    for (const [id, until] of this.demoted) if (until <= now) this.demoted.delete(id);
    this.slowReports.clear();
    return this.recompute(thresholdBytes);
  }

  /**
   * @brief Edges left over if `id` stopped forwarding: demoting it must not leave members
   * unplaced (on a saturated machine every parent looks slow, and demoting them all would
   * starve the forest).
   */
  private spareAfterDemoting(id: string): number {
    let capacity = Math.max(this.self.slots, this.opts.stripes);
    for (const m of this.members.values()) if (m.id !== id && !this.demoted.has(m.id)) capacity += m.slots;
    return capacity - this.opts.stripes * this.members.size;
  }

  /** @brief Highest sequence any member reported. */
  maxReportedSeq(): number {
    let max = this.self.maxSeq;
    for (const m of this.members.values()) max = Math.max(max, m.maxSeq);
    return max;
  }

  /** @brief The parent of `id` in stripe `s` ('' when unplaced). */
  parentOf(id: string, s: number): string {
    return this.placement[s]?.get(id) ?? '';
  }

  /**
   * @brief The VIEW to publish.
   * @param liveSeq The coordinator's newest sequence (joiners start there).
   * @param periodMs The chunk period as the coordinator measures it (default: the initial one).
   */
  toView(liveSeq: number, periodMs = this.opts.periodMs): ViewMessage {
    const list: WireMember[] = [this.self, ...this.members.values()].map(
      ({ id, p2pPort, httpPort, slots, home, direct, sent }) => ({ id, p2pPort, httpPort, slots, home, direct, sent }));
    const index = new Map(list.map((m, i) => [m.id, i]));
    const edges = this.placement.map((parents) =>
      [...parents].map(([c, p]) => [index.get(c)!, index.get(p)!] as [number, number]));
    return {
      type: 'view', epoch: this.epoch, stripes: this.opts.stripes, periodMs,
      liveSeq, coordinator: this.self.id, members: list, edges,
    };
  }

  private recompute(rebalanceBytes?: number): boolean {
    const next = place({
      root: toPlacement(this.self),
      members: [...this.members.values()].map((m) => (this.demoted.has(m.id) ? { ...toPlacement(m), slots: 0 } : toPlacement(m))),
      stripes: this.opts.stripes,
      previous: this.placement,
      avoid: new Set(this.avoid.keys()),
      rebalanceBytes,
    });
    const changed = next.length !== this.placement.length ||
      next.some((parents, s) => parents.size !== this.placement[s].size ||
        [...parents].some(([c, p]) => this.placement[s].get(c) !== p));
    if (changed) {
      this.placement = next;
      this.epoch++;
    }
    return changed;
  }
}

/** @brief A member as placement sees it. */
function toPlacement(m: MemberInfo): PlacementMember {
  return { id: m.id, slots: m.slots, home: m.home, sent: m.sent + m.sentBase };
}

/**
 * @brief Rebuilds a membership from a received view (coordinator takeover).
 * @param view The last view.
 * @param selfId The new coordinator.
 * @param dead Ids to leave out (the failed coordinator).
 */
export function membershipFromView(view: ViewMessage, selfId: string, dead: Set<string>): Membership {
  const me = view.members.find((m) => m.id === selfId)!;
  const mship = new Membership({
    self: { ...me, maxSeq: -1, sentBase: 0 }, stripes: view.stripes, periodMs: view.periodMs, epoch: view.epoch,
  });
  for (const m of view.members) {
    if (m.id === selfId || dead.has(m.id)) continue;
    mship.members.set(m.id, { ...m, maxSeq: -1, sentBase: 0 });
  }
  mship.rebalance(Number.POSITIVE_INFINITY, 0);
  return mship;
}
