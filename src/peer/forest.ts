/**
 * @file forest.ts
 * @brief The placement of the overlay, kept incrementally: who feeds whom in every stripe.
 *
 * How it works (SplitStream-style forest, held by the coordinator, the root of every stripe; the
 * trees and their indexes are in stripeTrees.ts, where a node goes in placement.ts, the
 * operations here):
 * - Chunk `seq` travels in stripe `seq mod K`. Each member has one home stripe (the one with
 *   the fewest home members at its join), where it is placed shallow so it can forward.
 * - Balance (c): a member holds at most `target` edges (child, stripe), never more than its slots
 *   (restriction 3): with enough slots every member uploads K edges of 1/K stream, one stream,
 *   its fair share; the root (the source) feeds one child per stripe. The K spare edges left
 *   rotate (`rebalance`): a leaf moves from the most loaded member to the least loaded one.
 * - Placing a node c (a joiner, or an orphan with its whole subtree) in stripe t: the
 *   shallowest member with a spare edge (A), or the place of the shallowest leaf (B: c takes the
 *   leaf's parent edge and the leaf goes under c, or under the best spare edge), whichever
 *   keeps depth lower: interior nodes stay near the root and leaves at the bottom, so depth
 *   stays within ceil(log_T N) + 2 under churn (a deep hole is filled by promoting a shallow leaf).
 * - Edges reported broken (`avoid`) and demoted members (cap 0) are skipped until they expire.
 * Work per change: O(moved edges x depth x log N); only `rebalance` scans all members, once a period.
 */
import { MAX_SLOTS } from '../constants';
import { FNode, EdgeChange, ForestOptions } from './stripeTrees';
import { Placement } from './placement';
export type { EdgeChange, ForestOptions } from './stripeTrees';

/** The forest of K stripe trees: the operations that change it, and the placement policy. */
export class Forest extends Placement {
  /** Home members per stripe. */
  private readonly homeCount = new Array<number>(this.stripes).fill(0);
  /** Interior capacity per stripe: the slots of its home members, each capped at K (a joiner's home is the stripe with the least). */
  private readonly homeSlots = new Array<number>(this.stripes).fill(0);

  /**
   * @brief Adds a member and places it in every stripe.
   * @param id Member id. @param slots Its slots. @param now Clock, ms. @param home Home stripe (chosen when omitted).
   * @return The edges that changed.
   */
  add(id: string, slots: number, now: number, home?: number): EdgeChange[] {
    this.now = now;
    if (this.nodes.has(id)) return [];
    const h = home ?? this.homeFor(slots);
    const n = this.node(id, slots, h, false);
    this.nodes.set(id, n);
    this.countHome(n, 1);
    this.hist[Math.min(slots, MAX_SLOTS)]++;
    this.retarget();
    for (const t of this.order(n)) this.place(n, t);
    this.offerSpare(n);
    this.retry();
    return this.flush();
  }

  /**
   * @brief Removes a member; its orphans (with their subtrees) are placed again.
   * @param id Member id. @param now Clock, ms. @return The edges that changed.
   */
  remove(id: string, now: number): EdgeChange[] {
    this.now = now;
    const n = this.nodes.get(id);
    if (!n || n.root) return [];
    const orphans = this.detachAll(n);
    this.nodes.delete(id);
    this.countHome(n, -1);
    this.hist[Math.min(n.slots, MAX_SLOTS)]--;
    for (const u of this.unplaced) u.delete(n);
    for (const b of this.borrowed) b.delete(n);
    this.demoted.delete(n);
    this.retarget();
    this.placeOrphans(orphans);
    this.retry();
    return this.flush();
  }

  /** @brief A child reported its link to `parent` broken: move it off that edge for `ms`. @return The edges that changed. */
  avoid(parent: string, child: string, now: number, ms: number): EdgeChange[] {
    this.now = now;
    const c = this.nodes.get(child);
    if (!c || !this.nodes.has(parent)) return [];
    this.avoided.set(`${parent}>${child}`, now + ms);
    for (let t = 0; t < this.stripes; t++) {
      if (c.parent[t]?.id !== parent) continue;
      this.unlink(c, t);
      this.place(c, t);
    }
    this.retry();
    return this.flush();
  }

  /** @brief Keeps a member out of every parent position for `ms` (slow, or sent bad data). @return The edges that changed. */
  demote(id: string, now: number, ms: number): EdgeChange[] {
    this.now = now;
    const n = this.nodes.get(id);
    if (!n || n.root || n.demotedUntil > now) return [];
    // Never demote below what feeds everyone: on a saturated machine every parent looks slow.
    if (this.supply(MAX_SLOTS) - n.slots < this.size * this.stripes - this.stripes) return [];
    n.demotedUntil = now + ms;
    this.demoted.add(n);
    this.retarget(); // the others may have to hold more
    // It leaves its places (its interior place is filled by promotion) and comes back as a leaf.
    const orphans = this.detachAll(n);
    this.countHome(n, -1);
    n.homeWhenFree = n.home;
    n.home = -1;
    this.placeOrphans(orphans);
    for (let t = 0; t < this.stripes; t++) this.place(n, t);
    this.retry();
    return this.flush();
  }

  /**
   * @brief Periodic step: expire avoided edges and demotions, place the unplaced, and move up to
   * `maxMoves` leaves from the most loaded member to the least loaded one.
   * @return The edges that changed.
   */
  rebalance(now: number, maxMoves = 1): EdgeChange[] {
    this.now = now;
    for (const [e, until] of this.avoided) if (until <= now) this.avoided.delete(e);
    for (const n of [...this.demoted]) {
      if (n.demotedUntil > now) continue;
      n.demotedUntil = 0;
      this.demoted.delete(n);
      n.home = n.homeWhenFree; // interior again when it is next placed there
      this.countHome(n, 1);
      this.retarget();
      this.offerSpare(n);
    }
    this.retry();
    this.rescue();
    for (let i = 0; i < maxMoves && this.rotateOne(); i++);
    return this.flush();
  }

  /**
   * @brief Takeover: member `id` becomes the root (the old root is gone); orphans are placed again.
   * @return The edges that changed.
   */
  reroot(id: string, now: number): EdgeChange[] {
    this.now = now;
    const n = this.nodes.get(id);
    if (!n || n.root) return [];
    // Its places as a member are filled first, as a failure's are (the old root still stands).
    const mine = this.detachAll(n);
    for (const u of this.unplaced) u.delete(n);
    for (const b of this.borrowed) b.delete(n);
    this.countHome(n, -1);
    this.hist[Math.min(n.slots, MAX_SLOTS)]--;
    const old = this.root;
    n.root = true;
    n.home = -1;
    this.root = n;
    const orphans = this.detachAll(old); // one per stripe: the top of each tree, placed under us
    this.nodes.delete(old.id);
    this.retarget();
    this.offerSpare(n);
    this.placeOrphans([...orphans, ...mine].filter(([o]) => o !== n && o !== old));
    this.retry();
    return this.flush();
  }

  /**
   * @brief Rebuilds a forest from a replica (takeover): members and edges as the old root held
   * them; an edge that breaks a rule (unknown end, over capacity, a cycle) is left out and its
   * child placed afresh by `settle`.
   * @param opts Root (the old one), stripes, load time constant. @param members Every member with
   * its slots and home. @param edges Every edge. @param now Clock, ms.
   * @return The forest; call `settle` for the placements it still owes.
   */
  static restore(opts: ForestOptions, members: Iterable<{ id: string; slots: number; home: number }>,
    edges: Iterable<{ stripe: number; child: string; parent: string }>, now: number): Forest {
    const f = new Forest(opts);
    f.now = now;
    for (const m of members) {
      if (f.nodes.has(m.id)) continue;
      const home = m.slots > 0 && m.home >= 0 && m.home < f.stripes ? m.home : -1;
      const n = f.node(m.id, m.slots, home, false);
      f.nodes.set(m.id, n);
      f.countHome(n, 1);
      f.hist[Math.min(m.slots, MAX_SLOTS)]++;
    }
    f.retarget();
    for (const e of edges) {
      const c = f.nodes.get(e.child);
      const p = f.nodes.get(e.parent);
      if (c && p && !c.root && e.stripe < f.stripes && !c.parent[e.stripe] && f.spareOf(p, e.stripe) > 0 && !f.inSubtree(p, c, e.stripe)) f.link(c, p, e.stripe);
    }
    for (const n of f.nodes.values()) {
      f.offerSpare(n);
      for (let t = 0; t < f.stripes; t++) if (!n.root && !n.parent[t]) f.unplaced[t].add(n);
    }
    f.moved.clear();
    return f;
  }

  /** @brief Places what is still unplaced (after `restore`). @param now Clock, ms. @return The edges that changed. */
  settle(now: number): EdgeChange[] {
    this.now = now;
    this.retry();
    return this.flush();
  }

  /**
   * The home of a joiner with `slots`: the stripe with the least interior capacity (then the
   * fewest home members). None for a member that cannot branch (fewer than 2 slots while there
   * are 2 stripes or more): as interior it would make its home stripe a chain, so it is a leaf
   * everywhere and lends its slot to any stripe. With one stripe and one slot each, a chain is
   * the only tree there is.
   */
  private homeFor(slots: number): number {
    if (slots <= 0 || (slots < 2 && this.stripes > 1)) return -1;
    let best = 0;
    for (let t = 1; t < this.stripes; t++) {
      const d = this.homeSlots[t] - this.homeSlots[best] || this.homeCount[t] - this.homeCount[best];
      if (d < 0) best = t;
    }
    return best;
  }

  /** Counts `n` in (+1) or out of (-1) its home stripe's members and interior capacity. */
  private countHome(n: FNode, sign: 1 | -1): void {
    if (n.home < 0) return;
    this.homeCount[n.home] += sign;
    this.homeSlots[n.home] += sign * Math.min(n.slots, this.stripes);
  }

  /** Home stripe first (placed as interior), then the others. */
  private order(n: FNode): number[] {
    const all = Array.from({ length: this.stripes }, (_, t) => t);
    return n.home >= 0 ? [n.home, ...all.filter((t) => t !== n.home)] : all;
  }

  /**
   * Detaches a node from its parents and children; returns the orphans to place again. Where
   * it was interior (its home stripe), the hole is filled at once by promotion: the deepest
   * home member that feeds only guests takes its place and adopts its interior children (the
   * guests it fed are placed again, at the bottom), so a failure does not deepen the tree.
   */
  private detachAll(n: FNode): [FNode, number][] {
    const orphans: [FNode, number][] = [];
    for (let t = 0; t < this.stripes; t++) {
      const up = n.parent[t];
      // The replacement is chosen while the tree is whole: it may lie in n's own subtree.
      const z = up && !n.root && n.home === t && [...n.kids[t]].some((k) => k.home === t)
        ? this.deepestFrontier(t, this.depth(n, t), n) : null;
      if (z) {
        // z frees every edge it holds (its guests here, what it lent to other stripes) for n's children.
        for (let u = 0; u < this.stripes; u++) for (const g of [...z.kids[u]]) { this.unlink(g, u); orphans.push([g, u]); }
        this.unlink(z, t);
      }
      const kids = [...n.kids[t]];
      for (const k of kids) this.unlink(k, t);
      this.unlink(n, t);
      if (!z || !up) {
        for (const k of kids) orphans.push([k, t]);
        continue;
      }
      this.link(z, up, t);
      for (const k of kids) {
        if (k.home === t && this.spareOf(z, t) > 0 && !this.isAvoided(z, k)) this.link(k, z, t);
        else orphans.push([k, t]);
      }
    }
    return orphans;
  }

  /** Moves one leaf from the most loaded member to the least loaded one with a spare edge. */
  private rotateOne(): boolean {
    let hi: FNode | null = null;
    let lo: FNode | null = null;
    for (const n of this.nodes.values()) {
      if (n.root) continue;
      const l = this.loadOf(n);
      if (this.spareOf(n, 0) > 0 && (!lo || l < this.loadOf(lo))) lo = n;
      if (n.kids.some((ks, t) => [...ks].some((k) => k.home !== t && k.kids[t].size === 0)) && (!hi || l > this.loadOf(hi))) hi = n;
    }
    if (!hi || !lo || hi === lo || this.loadOf(hi) - this.loadOf(lo) < 0.5) return false;
    const bound = this.depthBound();
    for (let t = 0; t < this.stripes; t++) {
      if (!Number.isFinite(this.depth(lo, t)) || this.depth(lo, t) + 1 > bound) continue;
      for (const k of hi.kids[t]) {
        if (k === lo || k.home === t || k.kids[t].size > 0 || this.isAvoided(lo, k) || this.inSubtree(lo, k, t)) continue;
        this.unlink(k, t);
        this.link(k, lo, t);
        return true;
      }
    }
    return false;
  }
}