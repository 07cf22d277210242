/**
 * @file stripeTrees.ts
 * @brief The K stripe trees of the overlay as data: edges, heights, loads, candidate heaps.
 *
 * How it works (under forest.ts's policy): a member holds at most `target` edges over all stripes
 * (the least T >= K whose capacity, root K + sum of min(slots, T), feeds everyone: a slot
 * histogram) and keeps a load average of them. Candidates live in lazy heaps per stripe (keyed by
 * depth, then load) checked when popped: spare edges, guests (placed away from home), the frontier
 * (home members feeding no home member). Heights per stripe are kept along ancestor chains.
 * `link`/`unlink` note each edge's first parent; `flush` returns an operation's changes.
 */
import { MinHeap } from '../util/heap';
import { MAX_SLOTS } from '../constants';

/** One edge whose parent changed: `from`/`to` are ids, '' for none. */
export interface EdgeChange {
  /** Stripe of the edge. */ stripe: number;
  /** Member fed by the edge. */ child: string;
  /** Its parent before ('' for none). */ from: string;
  /** Its parent now ('' for none). */ to: string;
}

/** A member as placement knows it. */
export interface FNode {
  /** Member id. */ id: string;
  /** Upload slots (edges it can feed). */ slots: number;
  /** Home stripe, where it is interior (-1 for none). */ home: number;
  /** Whether it is the root. */ root: boolean;
  /** Edges held over all stripes. */ used: number;
  /** Load average of `used`, at `loadAt`. */ load: number;
  /** Clock of `load`, ms. */ loadAt: number;
  /** Parent per stripe (null when unplaced there). */ parent: (FNode | null)[];
  /** Children per stripe. */ kids: Set<FNode>[];
  /** Height of its subtree per stripe (0 for a leaf). */ height: number[];
  /** Clock until which it is demoted, ms (0 when not). */ demotedUntil: number;
  /** Its home while it is demoted (a leaf everywhere meanwhile). */ homeWhenFree: number;
  /** Bit t set while an entry of this node is in stripe t's spare heap. */ spareMask: number;
  /** Bit t set while an entry of this node is in stripe t's guest heap. */ guestMask: number;
  /** Bit t set while an entry of this node is in stripe t's frontier heap. */ frontierMask: number;
}

/** A heap entry: the node and the key it was pushed with (h 0 when the stripe is its home). */
interface Entry {
  /** The node. */ n: FNode;
  /** 0 when the stripe is its home (or it is the root), else 1. */ h: number;
  /** Its depth when pushed. */ d: number;
  /** Its load when pushed. */ l: number;
}

/** Construction options. */
export interface ForestOptions {
  /** The root (coordinator, source). */ rootId: string;
  /** Its slots. */ rootSlots: number;
  /** Stripes K. */ stripes: number;
  /** Time constant of the load average, ms. */ tauMs: number;
}

/** Candidates examined per heap query before giving up on the heap (bounds a pathological pop). */
export const SCAN_LIMIT = 256;

/** The K stripe trees and their indexes; the operations that change them are in Forest. */
export abstract class StripeTrees {
  /** Stripes K. */
  readonly stripes: number;
  /** The root (coordinator, source). */
  protected root: FNode;
  /** Every member and the root, by id. */
  protected readonly nodes = new Map<string, FNode>();
  /** Per stripe: members with a spare edge (home members first, then shallowest, least loaded). */
  protected readonly spare: MinHeap<Entry>[] = [];
  /** Per stripe: guests placed there (shallowest first), places a home member may take. */
  protected readonly guests: MinHeap<Entry>[] = [];
  private readonly frontier: MinHeap<Entry>[] = [];
  /** Per stripe: members without a parent there. */
  protected readonly unplaced: Set<FNode>[] = [];
  /** Per stripe: children fed by a guest of that stripe (borrowed edges, taken back when home members have room). */
  protected readonly borrowed: Set<FNode>[] = [];
  /** Edges reported broken, `parent>child`, with the clock until which they are avoided. */
  protected readonly avoided = new Map<string, number>();
  /** Members per slot count (MAX_SLOTS and more in the last bin). */
  protected readonly hist = new Array<number>(MAX_SLOTS + 1).fill(0);
  /** Members demoted now. */
  protected readonly demoted = new Set<FNode>();
  private target: number;
  /** Clock of the current operation, ms. */
  protected now = 0;
  /** Edges moved by the current operation, with the parent each had before it. */
  protected readonly moved = new Map<string, { stripe: number; child: string; from: string }>();

  /** @param opts Root, stripes, load time constant. */
  constructor(private readonly opts: ForestOptions) {
    this.stripes = opts.stripes;
    this.target = opts.stripes;
    for (let t = 0; t < opts.stripes; t++) {
      // Home members of the stripe first (their edges are meant for it: fan-out K keeps the
      // trees log_K N deep), then the shallowest, then the least loaded.
      this.spare.push(new MinHeap<Entry>((a, b) => (a.h - b.h || a.d - b.d || a.l - b.l || (a.n.id < b.n.id ? -1 : 1)) < 0));
      this.guests.push(new MinHeap<Entry>((a, b) => (a.d - b.d || (a.n.id < b.n.id ? -1 : 1)) < 0));
      // Home members feeding no home member (the interior's last level), deepest first.
      this.frontier.push(new MinHeap<Entry>((a, b) => (b.d - a.d || (a.n.id < b.n.id ? -1 : 1)) < 0));
      this.unplaced.push(new Set());
      this.borrowed.push(new Set());
    }
    this.root = this.node(opts.rootId, opts.rootSlots, -1, true);
    this.nodes.set(this.root.id, this.root);
    this.offerSpare(this.root);
  }

  /** @brief The root's id. */
  get rootId(): string { return this.root.id; }
  /** @brief Members other than the root. */
  get size(): number { return this.nodes.size - 1; }
  /** @brief Most edges a member may hold now (balance target, capped by its slots). */
  get edgeTarget(): number { return this.target; }
  /** @brief Whether `id` is the root or a member. @param id Member id. */
  has(id: string): boolean { return this.nodes.has(id); }
  /** @brief Slots and home of a member. @param id Member id. */
  info(id: string): { slots: number; home: number } | undefined {
    const n = this.nodes.get(id);
    return n && { slots: n.slots, home: n.home };
  }
  /** @brief Parent of `id` in stripe `s` ('' when none). */
  parentOf(id: string, s: number): string { return this.nodes.get(id)?.parent[s]?.id ?? ''; }
  /** @brief Children of `id` in stripe `s`. */
  childrenOf(id: string, s: number): string[] { return [...(this.nodes.get(id)?.kids[s] ?? [])].map((k) => k.id); }
  /** @brief Edges `id` holds over all stripes. */
  edgesOf(id: string): number { const n = this.nodes.get(id); return n ? (n.root ? this.rootEdges() : n.used) : 0; }
  /** @brief Depth of `id` in stripe `s` (root 0; Infinity when unplaced). */
  depthOf(id: string, s: number): number { const n = this.nodes.get(id); return n ? this.depth(n, s) : Infinity; }
  /** @brief Deepest level of any stripe. */
  maxDepth(): number { return Math.max(0, ...this.root.height); }
  /** @brief (member, stripe) pairs without a parent. */
  unplacedCount(): number { return this.unplaced.reduce((n, u) => n + u.size, 0); }
  /** @brief Depth every member should stay within: ceil(log_T (N+1)) + 2 (none for a chain). */
  depthBound(): number {
    const f = this.target;
    return f < 2 ? Infinity : Math.ceil(Math.log(this.nodes.size) / Math.log(f) - 1e-9) + 2;
  }
  /** @brief Every member (not the root) with its slots and home. */
  *members(): IterableIterator<{ id: string; slots: number; home: number }> {
    for (const n of this.nodes.values()) if (!n.root) yield { id: n.id, slots: n.slots, home: n.home };
  }
  /** @brief Every edge. */
  *edges(): IterableIterator<{ stripe: number; child: string; parent: string }> {
    for (const n of this.nodes.values()) for (let t = 0; t < this.stripes; t++) if (n.parent[t]) yield { stripe: t, child: n.id, parent: n.parent[t]!.id };
  }

  /** @brief A new node, unplaced everywhere. @param id Id. @param slots Slots. @param home Home stripe. @param root Whether it is the root. */
  protected node(id: string, slots: number, home: number, root: boolean): FNode {
    const K = this.stripes;
    return {
      id, slots, home, root, used: 0, load: 0, loadAt: this.now, demotedUntil: 0, homeWhenFree: -1, spareMask: 0, guestMask: 0, frontierMask: 0,
      parent: new Array<FNode | null>(K).fill(null), kids: Array.from({ length: K }, () => new Set<FNode>()), height: new Array<number>(K).fill(0),
    };
  }

  private rootEdges(): number { return this.root.kids.reduce((a, k) => a + k.size, 0); }

  /** @brief Edges `n` may still take in stripe t (the root: one child per stripe). */
  protected spareOf(n: FNode, t: number): number {
    if (n.root) return 1 - n.kids[t].size;
    if (n.demotedUntil > this.now) return 0;
    return Math.min(n.slots, this.target) - n.used;
  }

  /** @brief The least T >= K whose capacity (root K + sum of min(slots, T)) covers N x K edges. */
  protected retarget(): void {
    const K = this.stripes;
    const need = this.size * K - K;
    let T = K;
    while (T < MAX_SLOTS && this.supply(T) < need) T++;
    const grew = T > this.target;
    this.target = T;
    if (grew) for (const n of this.nodes.values()) if (n.slots > n.used) this.offerSpare(n);
  }

  /** @brief Edges the members offer when each holds at most T (demoted members offer none). */
  protected supply(T: number): number {
    let total = 0;
    for (let s = 1; s <= MAX_SLOTS; s++) total += this.hist[s] * Math.min(s, T);
    for (const n of this.demoted) total -= Math.min(n.slots, T);
    return total;
  }

  /** @brief Load average of the edges `n` holds, now. */
  protected loadOf(n: FNode): number {
    return n.load + (n.used - n.load) * (1 - Math.exp(-(this.now - n.loadAt) / this.opts.tauMs));
  }

  private setUsed(n: FNode, used: number): void {
    n.load = this.loadOf(n);
    n.loadAt = this.now;
    n.used = used;
  }

  /** @brief Depth of `n` in stripe t (root 0; Infinity when its chain does not reach the root). */
  protected depth(n: FNode, t: number): number {
    let d = 0;
    for (let x: FNode | null = n; !x.root; x = x.parent[t]) {
      if (!x.parent[t] || ++d > this.nodes.size) return Infinity;
    }
    return d;
  }

  /** @brief Whether `a` lies in the subtree of `c` in stripe t (c included). */
  protected inSubtree(a: FNode, c: FNode, t: number): boolean {
    for (let x: FNode | null = a, i = 0; x && i <= this.nodes.size; x = x.parent[t], i++) if (x === c) return true;
    return false;
  }

  /** @brief Whether the edge p -> c was reported broken and is still avoided. */
  protected isAvoided(p: FNode, c: FNode): boolean {
    const until = this.avoided.get(`${p.id}>${c.id}`);
    return until !== undefined && until > this.now;
  }

  /** @brief Makes `p` the parent of `c` in stripe t, keeping loads, heights and heaps up to date. */
  protected link(c: FNode, p: FNode, t: number): void {
    this.note(c, t);
    c.parent[t] = p;
    p.kids[t].add(c);
    if (!this.interiorParent(p, t)) this.borrowed[t].add(c);
    if (!p.root) this.setUsed(p, p.used + 1);
    this.fixHeights(p, t);
    if (c.home !== t) this.offerGuest(c, t);
    else this.offer(this.frontier[t], c, t, 'frontierMask');
    this.offerSpare(c);
  }

  /** @brief Detaches `c` from its parent in stripe t (its subtree stays with it). */
  protected unlink(c: FNode, t: number): void {
    const p = c.parent[t];
    if (!p) return;
    this.note(c, t);
    p.kids[t].delete(c);
    c.parent[t] = null;
    this.borrowed[t].delete(c);
    if (!p.root) this.setUsed(p, p.used - 1);
    this.fixHeights(p, t);
    this.offerSpare(p);
    if (c.home === t && p.home === t) this.offer(this.frontier[t], p, t, 'frontierMask');
  }

  /** Remembers the parent an edge had when the current operation started. */
  private note(c: FNode, t: number): void {
    const key = `${t}|${c.id}`;
    if (!this.moved.has(key)) this.moved.set(key, { stripe: t, child: c.id, from: c.parent[t]?.id ?? '' });
  }

  /** @brief Ends an operation. @return The edges it changed (net of intermediate moves). */
  protected flush(): EdgeChange[] {
    const out: EdgeChange[] = [];
    for (const m of this.moved.values()) {
      const to = this.nodes.has(m.child) ? this.parentOf(m.child, m.stripe) : '';
      if (to !== m.from) out.push({ ...m, to });
    }
    this.moved.clear();
    return out;
  }

  private fixHeights(from: FNode, t: number): void {
    for (let x: FNode | null = from; x; x = x.parent[t]) {
      let h = 0;
      for (const k of x.kids[t]) h = Math.max(h, k.height[t] + 1);
      if (h === x.height[t] && x !== from) break;
      x.height[t] = h;
    }
  }

  /** @brief Pushes `n` into the spare heap of every stripe where it is placed and has room. */
  protected offerSpare(n: FNode): void {
    for (let t = 0; t < this.stripes; t++) {
      if ((n.spareMask >> t) & 1 || this.spareOf(n, t) <= 0) continue;
      const d = this.depth(n, t);
      if (!Number.isFinite(d)) continue; // offered when it is placed there (link)
      n.spareMask |= 1 << t;
      this.spare[t].push({ n, h: n.root || n.home === t ? 0 : 1, d, l: this.loadOf(n) });
    }
  }

  /** Offers a guest of stripe t (placed there, home elsewhere) as a place a home member may take. */
  private offerGuest(n: FNode, t: number): void {
    this.offer(this.guests[t], n, t, 'guestMask');
  }

  /** Pushes `n` into a per-stripe heap unless it is there already or not placed in t. */
  private offer(heap: MinHeap<Entry>, n: FNode, t: number, mask: 'guestMask' | 'frontierMask'): void {
    if ((n[mask] >> t) & 1 || n.root) return;
    const d = this.depth(n, t);
    if (!Number.isFinite(d)) return;
    n[mask] |= 1 << t;
    heap.push({ n, h: 0, d, l: 0 });
  }

  /** @brief The deepest home member of t feeding no home member, deeper than `than`, other than `not`. */
  protected deepestFrontier(t: number, than: number, not: FNode): FNode | null {
    const heap = this.frontier[t];
    const bit = 1 << t;
    const kept: Entry[] = [];
    let found: FNode | null = null;
    for (let i = 0; i < SCAN_LIMIT && heap.size > 0; i++) {
      const e = heap.pop()!;
      const n = e.n;
      const valid = this.nodes.get(n.id) === n && !n.root && n.home === t && ![...n.kids[t]].some((k) => k.home === t);
      if (valid && n === not) { kept.push(e); continue; }
      if (!valid) { n.frontierMask &= ~bit; continue; }
      const d = this.depth(n, t);
      if (!Number.isFinite(d)) { kept.push(e); continue; } // in a detached subtree: not now
      if (d !== e.d) { heap.push({ ...e, d }); continue; }
      kept.push(e);
      if (d > than) found = n;
      break;
    }
    for (const e of kept) heap.push(e);
    return found;
  }

  /**
   * @brief Pops the best valid entry of a heap for which `ok` holds; entries that fail `ok`, or whose
   * node is in a detached subtree, are kept; dead or full ones are dropped (offered again later).
   * `homeOnly` stops at the first entry whose home is not the stripe (the heap orders them last).
   */
  protected best(heap: MinHeap<Entry>, t: number, guest: boolean, ok: (n: FNode) => boolean, homeOnly = false): FNode | null {
    const bit = 1 << t;
    const kept: Entry[] = [];
    let found: FNode | null = null;
    for (let i = 0; i < SCAN_LIMIT && heap.size > 0 && !found; i++) {
      if (homeOnly && heap.peek()!.h !== 0) break;
      const e = heap.pop()!;
      const n = e.n;
      const valid = this.nodes.get(n.id) === n && (guest
        ? !n.root && n.home !== t && n.parent[t] !== null && this.interiorParent(n.parent[t]!, t)
        : this.spareOf(n, t) > 0);
      if (!valid) { if (guest) n.guestMask &= ~bit; else n.spareMask &= ~bit; continue; }
      const d = this.depth(n, t);
      if (!Number.isFinite(d)) { kept.push(e); continue; } // in a detached subtree: keep its old key
      if (d !== e.d) { heap.push({ ...e, d, l: guest ? 0 : this.loadOf(n) }); continue; }
      kept.push(e);
      if (ok(n)) found = n;
    }
    for (const e of kept) heap.push(e);
    return found;
  }

  /** Whether `p` may carry an interior node of stripe t (the root, or a home member of t). */
  private interiorParent(p: FNode, t: number): boolean {
    return p.root || p.home === t;
  }
}
