/**
 * @file placement.ts
 * @brief Where a node goes in a stripe tree: the placement policy of the forest.
 *
 * How it works: `place(c, t)` puts a node c (a joiner, or an orphan with its whole subtree) in
 * stripe t: the shallowest member with a spare edge, or the place of the shallowest guest (a
 * member of another home), whichever keeps depth lower, so interior nodes stay near the root
 * and leaves at the bottom. Home members of a stripe are its interior (fan-out K keeps the trees
 * log_K N deep); a member fed on a borrowed edge lends in that stripe only as a last resort. When
 * nothing outside c's subtree can take it, a descendant of c with room moves out first and c
 * goes under it (`lift`); only then does c stay unplaced, tried again by `retry` whenever
 * capacity comes back. The trees and their indexes are in stripeTrees.ts; the operations that
 * call this in forest.ts.
 */
import { StripeTrees, FNode, SCAN_LIMIT } from './stripeTrees';

/** The placement policy over the stripe trees. */
export abstract class Placement extends StripeTrees {
  /**
   * Places `c` (and its subtree) in stripe t. A home member of t (interior) goes under the root
   * or another home member with a spare edge, or takes the place of the shallowest guest (a
   * member of another home) that such a node feeds, whichever is shallower: the guest goes under
   * c, with the guest's own children while c has room (edges a guest lent to t come back), or,
   * when c has no room, under the best spare edge. Only when neither exists does c borrow any
   * spare edge. A guest of t takes the best spare edge, home members of t first; when there is
   * none and it has room itself, it takes a guest's place and feeds that guest. Else unplaced.
   */
  protected place(c: FNode, t: number): boolean {
    const fits = (p: FNode): boolean => p !== c && !this.inSubtree(p, c, t) && !this.isAvoided(p, c);
    const cSpare = this.spareOf(c, t) > 0;
    const guestOk = (g: FNode): boolean => g !== c && fits(g.parent[t]!) && !this.inSubtree(g, c, t) && (!cSpare || !this.isAvoided(c, g));
    const displace = (g: FNode, host: FNode): true => {
      const gp = g.parent[t]!;
      this.unlink(g, t);
      this.link(c, gp, t);
      this.link(g, host, t);
      if (host === c && c.home === t) {
        for (const k of [...g.kids[t]]) {
          if (this.spareOf(c, t) <= 0) break;
          this.unlink(k, t);
          this.link(k, c, t);
        }
      }
      this.unplaced[t].delete(c);
      return true;
    };
    const attach = (p: FNode): true => {
      this.link(c, p, t);
      this.unplaced[t].delete(c);
      return true;
    };
    const hostFor = (g: FNode): FNode | null => (cSpare && !this.isAvoided(c, g) ? c
      : this.best(this.spare[t], t, false, (q) => q !== c && q !== g && !this.inSubtree(q, g, t) && !this.isAvoided(q, g)
        && !this.borrowed[t].has(q) && this.depth(q, t) + 1 + g.height[t] <= bound));
    const bound = this.depthBound();
    const h = c.height[t];
    if (c.home === t) {
      const p = this.best(this.spare[t], t, false, fits, true);
      const dp = p ? this.depth(p, t) : Infinity;
      const g = this.best(this.guests[t], t, true, guestOk);
      if (g && this.depth(g, t) < dp + 1) {
        const host = hostFor(g);
        if (host) return displace(g, host);
      }
      if (p) return attach(p);
    }
    // A guest (or an interior node with nowhere better): the best spare edge within the depth
    // bound; else the place of a shallower guest, that guest going under c or another spare edge.
    // A member fed on a borrowed edge lends in that stripe only as a last resort (chains deepen).
    const any = this.best(this.spare[t], t, false, (q) => fits(q) && !this.borrowed[t].has(q));
    const da = any ? this.depth(any, t) + 1 + h : Infinity;
    if (any && da <= bound) return attach(any);
    const g = this.best(this.guests[t], t, true, guestOk);
    if (g && this.depth(g, t) + h < da) {
      const host = hostFor(g);
      if (host) return displace(g, host);
    }
    const last = any ?? this.best(this.spare[t], t, false, fits);
    if (last) return attach(last);
    if (this.lift(c, t)) return true;
    this.unplaced[t].add(c);
    return false;
  }

  /**
   * When no edge outside c's subtree takes c (every one left is avoided for c, or all the
   * capacity lies inside its own subtree, as after a broken edge near the root): a descendant k
   * of c with room is lifted out, with the branch it hangs from (its ancestor a below c, the
   * nearest that some spare edge outside may take), and c goes under k.
   */
  private lift(c: FNode, t: number): boolean {
    const queue = [...c.kids[t]];
    for (let i = 0; i < queue.length && i < SCAN_LIMIT; i++) {
      const k = queue[i];
      queue.push(...k.kids[t]);
      if (this.spareOf(k, t) <= 0 || this.isAvoided(k, c)) continue;
      for (let a = k; a !== c; a = a.parent[t]!) {
        const q = this.best(this.spare[t], t, false, (x) => x !== c && !this.inSubtree(x, c, t) && !this.isAvoided(x, a));
        if (!q) continue;
        this.unlink(a, t);
        this.link(a, q, t);
        this.link(c, k, t);
        this.unplaced[t].delete(c);
        return true;
      }
    }
    return this.swapIn(c, t, [c, ...queue].filter((k) => this.spareOf(k, t) > 0));
  }

  /**
   * The last resort: c takes the place of a node x outside its subtree whose parent may feed c,
   * and x (with its own subtree) goes under c or a descendant of c with room. Scans members: rare.
   */
  private swapIn(c: FNode, t: number, hosts: FNode[]): boolean {
    let seen = 0;
    for (const x of this.nodes.values()) {
      if (++seen > SCAN_LIMIT) break;
      const p = x.parent[t];
      if (x === c || x.root || !p || this.isAvoided(p, c) || this.inSubtree(x, c, t) || !Number.isFinite(this.depth(x, t))) continue;
      const k = hosts.find((h) => !this.isAvoided(h, x) && this.spareOf(h, t) > 0);
      if (!k) continue;
      this.unlink(x, t);
      this.link(c, p, t);
      this.link(x, k, t);
      this.unplaced[t].delete(c);
      return true;
    }
    return false;
  }


  /** Places orphans again, the tallest subtrees first (they get the shallowest places). */
  protected placeOrphans(orphans: [FNode, number][]): void {
    orphans.sort((a, b) => b[0].height[b[1]] - a[0].height[a[1]]);
    for (const [o, t] of orphans) if (this.nodes.get(o.id) === o) this.place(o, t);
  }

  /**
   * Once a period (rebalance), for what the bounded searches left unplaced: a scan of every
   * member for the shallowest spare edge that may take it. The heaps are searched SCAN_LIMIT
   * entries deep, which in a large overlay with almost no spare edge (equal slots = K) can miss
   * the few there are; this finds any. O(N) per unplaced pair, and only while there is one.
   */
  protected rescue(): void {
    for (let t = 0; t < this.stripes; t++) {
      for (const c of [...this.unplaced[t]]) {
        if (c.parent[t] || this.nodes.get(c.id) !== c) { this.unplaced[t].delete(c); continue; }
        let best: FNode | null = null;
        let bestDepth = Infinity;
        for (const q of this.nodes.values()) {
          if (q === c || this.spareOf(q, t) <= 0 || this.isAvoided(q, c) || this.inSubtree(q, c, t)) continue;
          const d = this.depth(q, t);
          if (d < bestDepth) { best = q; bestDepth = d; }
        }
        if (!best) continue;
        this.link(c, best, t);
        this.unplaced[t].delete(c);
      }
    }
  }

  /**
   * Tries again the (member, stripe) pairs that found no parent (capacity may have come back),
   * then takes borrowed edges back where home members of the stripe have room again.
   */
  protected retry(): void {
    for (let t = 0; t < this.stripes; t++) {
      for (const n of [...this.unplaced[t]]) if (!n.parent[t]) this.place(n, t);
      for (const g of [...this.borrowed[t]]) {
        const p = this.best(this.spare[t], t, false, (q) => !this.inSubtree(q, g, t) && !this.isAvoided(q, g), true);
        if (!p) break;
        this.unlink(g, t);
        this.link(g, p, t);
      }
    }
  }
}
