/**
 * @file coordinator.ts
 * @brief The simulated coordinator: the view (members in join order) and calls to placement.ts.
 *
 * It runs the project's own decision code unchanged: `chooseHome` at every join and `place`
 * with `previous` at every recompute (plus `rebalanceBytes` on the rotation timer). Member ids
 * are the peer indices as decimal strings; the root (source) is "0".
 *
 * chooseHome reads only `home` and `slots`, so it is given one summary member per stripe
 * (slots = the stripe's total home slots) instead of the whole view: the same answer in O(K)
 * rather than O(N) per join, which keeps a 100 000-peer bootstrap linear.
 */
import { chooseHome, place, Placement, PlacementMember } from '../src/peer/placement';

/** What one recompute changed, in subscriptions (member, stripe). */
export interface Recompute {
  /** Members of the previous placement whose parent changed (orphans and moved ones). */
  moves: number;
  /** First subscriptions of new members. */
  firstSubs: number;
  /** (member, stripe) pairs without a parent in this decision. */
  unplaced: number;
  /** Wall time of the `place` call, ms. */
  placeMs: number;
}

/** The coordinator's view and last decision. */
export class Coordinator {
  private members: PlacementMember[] = [];
  private readonly root: PlacementMember;
  private previous: Placement | undefined;
  private readonly load: number[];
  private dead = new Set<string>();
  /** Joined since the last recompute (credited the mean sent at that recompute). */
  private readonly newcomers = new Set<string>();
  /** Bytes credited to each member at join, as the real coordinator does. */
  private readonly base = new Map<string, number>();
  /** Parents per stripe by peer index, `parents[s * capacity + child]`, -1 = none. */
  readonly parents: Int32Array;

  /**
   * @brief A coordinator for peers 1..capacity-1 under root 0.
   * @param capacity Largest peer index + 1.
   * @param stripes Number of stripes K.
   * @param rootSlots Slots of the source.
   */
  constructor(private readonly capacity: number, private readonly stripes: number, rootSlots: number) {
    this.root = { id: '0', slots: rootSlots, home: -1, sent: 0 };
    this.load = new Array<number>(stripes).fill(0);
    this.parents = new Int32Array(capacity * stripes).fill(-1);
  }

  /** @brief Number of members in the view. */
  get size(): number {
    return this.members.length;
  }

  /**
   * @brief Adds a member at the end of the view, with its home from chooseHome.
   * @param p Peer index.
   * @param slots Its slots.
   */
  join(p: number, slots: number): void {
    const summary = this.load.map((l, s) => ({ id: `s${s}`, slots: l, home: s, sent: 0 }));
    const home = chooseHome(summary, this.stripes, slots);
    if (home >= 0) this.load[home] += slots;
    this.members.push({ id: String(p), slots, home, sent: 0 });
    this.newcomers.add(String(p));
  }

  /**
   * @brief Marks a member as failed; it leaves the view at the next recompute.
   * @param p Peer index.
   */
  leave(p: number): void {
    this.dead.add(String(p));
    this.base.delete(String(p));
  }

  /** @brief True when a failure is waiting for a recompute. */
  get pendingLeaves(): boolean {
    return this.dead.size > 0;
  }

  /**
   * @brief Runs placement.ts and updates `parents`.
   * @param sent Bytes sent per peer index (the balance input).
   * @param rebalanceBytes Rotation threshold, or undefined for a plain membership recompute.
   * @return What changed.
   */
  recompute(sent: Float64Array, rebalanceBytes?: number): Recompute {
    if (this.dead.size > 0) {
      this.members = this.members.filter((m) => {
        if (!this.dead.has(m.id)) return true;
        if (m.home >= 0) this.load[m.home] -= m.slots;
        return false;
      });
      this.dead.clear();
    }
    // As the real coordinator (membership.ts): a newcomer is credited the mean sent so far.
    if (this.newcomers.size > 0) {
      const old = this.members.filter((m) => !this.newcomers.has(m.id));
      const mean = old.length ? old.reduce((n, m) => n + sent[Number(m.id)] + (this.base.get(m.id) ?? 0), 0) / old.length : 0;
      for (const id of this.newcomers) this.base.set(id, mean);
      this.newcomers.clear();
    }
    for (const m of this.members) m.sent = sent[Number(m.id)] + (this.base.get(m.id) ?? 0);
    this.root.sent = sent[0];
    const t0 = performance.now();
    const next = place({
      root: this.root, members: this.members, stripes: this.stripes,
      previous: this.previous, rebalanceBytes,
    });
    const placeMs = performance.now() - t0;
    this.previous = next;
    const out: Recompute = { moves: 0, firstSubs: 0, unplaced: 0, placeMs };
    const N = this.capacity;
    for (let s = 0; s < this.stripes; s++) {
      const map = next[s];
      const row = this.parents.subarray(s * N, (s + 1) * N);
      const fresh = new Int32Array(N).fill(-1);
      for (const [child, parent] of map) fresh[Number(child)] = Number(parent);
      for (const m of this.members) {
        const c = Number(m.id);
        if (fresh[c] < 0) out.unplaced++;
        else if (fresh[c] !== row[c]) {
          if (row[c] < 0) out.firstSubs++;
          else out.moves++;
        }
      }
      row.set(fresh);
    }
    return out;
  }

  /**
   * @brief Slots of a member by peer index (for the restriction-3 check).
   * @return A lookup function.
   */
  slotsOf(): (p: number) => number {
    const bySlot = new Int32Array(this.capacity);
    for (const m of this.members) bySlot[Number(m.id)] = m.slots;
    return (p) => bySlot[p];
  }
}
