/**
 * @file forest.ts
 * @brief The placement of the overlay, kept incrementally: who feeds whom in every stripe.
 *
 * How it works (SplitStream-style forest, held by the coordinator, the root of every stripe):
 * - Chunk `seq` travels in stripe `seq mod K`. Each member has one home stripe (the one with
 *   the fewest home members at its join), where it is placed shallow so it can forward.
 * - Balance (c): a member holds at most `target` edges (child, stripe) over all stripes, never
 *   more than its slots (restriction 3). `target` is the least T >= K whose capacity feeds
 *   everyone: with enough slots every member uploads K edges of 1/K stream, one stream, its
 *   fair share; the root (the source) feeds exactly one child per stripe. The K spare edges
 *   that remain rotate (`rebalance`): one leaf moves from the most loaded member (a load
 *   average of edges held) to the least loaded one, so bytes sent even out over time.
 * - Placing a node c (a joiner, or an orphan with its whole subtree) in stripe t: the
 *   shallowest member with a spare edge (A), or the place of the shallowest leaf (B: c takes the
 *   leaf's parent edge and the leaf goes under c, or under the best spare edge), whichever
 *   keeps depth lower: interior nodes stay near the root and leaves at the bottom, so depth
 *   stays within ceil(log_T N) + 2 under churn (a deep hole is filled by promoting a shallow leaf).
 * - Edges reported broken (`avoid`) and demoted members (cap 0) are skipped until they expire.
 * Candidates live in lazy heaps per stripe (keyed by depth, then load) checked when popped;
 * heights per stripe are kept along ancestor chains. Work per change: O(moved edges x depth x
 * log N); nothing here scans all members except `rebalance`'s one pass per rebalance period.
 * The changes of one operation come back as EdgeChange rows (net of intermediate moves).
 */
import { MinHeap } from '../util/heap';
import { MAX_SLOTS } from '../constants';

/** One edge whose parent changed: `from`/`to` are ids, '' for none. */
export interface EdgeChange { stripe: number; child: string; from: string; to: string }

/** A member as placement knows it. */
interface FNode {
  id: string; slots: number; home: number; root: boolean;
  /** Edges held over all stripes. */
  used: number;
  /** Load average of `used`, at `loadAt`. */
  load: number; loadAt: number;
  parent: (FNode | null)[]; kids: Set<FNode>[]; height: number[];
  demotedUntil: number;
  /** Its home while it is demoted (a leaf everywhere meanwhile). */
  homeWhenFree: number;
  /** Bit t set while an entry of this node is in stripe t's spare (resp. guest) heap. */
  spareMask: number; guestMask: number; frontierMask: number;
}

/** A heap entry: the node and the key it was pushed with (h 0 when the stripe is its home). */
interface Entry { n: FNode; h: number; d: number; l: number }

/** Construction options. */
export interface ForestOptions {
  /** The root (coordinator, source). */
  rootId: string;
  /** Its slots. */
  rootSlots: number;
  /** Stripes K. */
  stripes: number;
  /** Time constant of the load average, ms. */
  tauMs: number;
}

/** Candidates examined per heap query before giving up on the heap (bounds a pathological pop). */
const SCAN_LIMIT = 256;

/** The forest of K stripe trees. */
export class Forest {
  /** Stripes K. */
  readonly stripes: number;
  private root: FNode;
  private readonly nodes = new Map<string, FNode>();
  private readonly spare: MinHeap<Entry>[] = [];
  private readonly guests: MinHeap<Entry>[] = [];
  private readonly frontier: MinHeap<Entry>[] = [];
  private readonly unplaced: Set<FNode>[] = [];
  /** Per stripe: children fed by a guest of that stripe (borrowed edges, taken back when home members have room). */
  private readonly borrowed: Set<FNode>[] = [];
  private readonly avoided = new Map<string, number>();
  private readonly hist = new Array<number>(MAX_SLOTS + 1).fill(0);
  private readonly homeCount: number[];
  private readonly demoted = new Set<FNode>();
  private target: number;
  private now = 0;
  private readonly moved = new Map<string, { stripe: number; child: string; from: string }>();

  /** @param opts Root, stripes, load time constant. */
  constructor(private readonly opts: ForestOptions) {
    this.stripes = opts.stripes;
    this.target = opts.stripes;
    this.homeCount = new Array<number>(opts.stripes).fill(0);
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

  /**
   * @brief Adds a member and places it in every stripe.
   * @param id Member id. @param slots Its slots. @param now Clock, ms. @param home Home stripe (chosen when omitted).
   * @return The edges that changed.
   */
  add(id: string, slots: number, now: number, home?: number): EdgeChange[] {
    this.now = now;
    if (this.nodes.has(id)) return [];
    const h = slots <= 0 ? -1 : home ?? this.homeCount.indexOf(Math.min(...this.homeCount));
    const n = this.node(id, slots, h, false);
    this.nodes.set(id, n);
    if (h >= 0) this.homeCount[h]++;
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
    if (n.home >= 0) this.homeCount[n.home]--;
    this.hist[Math.min(n.slots, MAX_SLOTS)]--;
    for (const u of this.unplaced) u.delete(n);
    for (const b of this.borrowed) b.delete(n);
    this.demoted.delete(n);
    this.retarget();
    this.placeOrphans(orphans);
    this.retry();
    return this.flush();
  }

  /**
   * @brief A child reported its link to `parent` broken: move it off that edge for `ms`.
   * @return The edges that changed.
   */
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

  /**
   * @brief Keeps a member out of every parent position for `ms` (slow, or sent bad data).
   * @return The edges that changed.
   */
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
    if (n.home >= 0) this.homeCount[n.home]--;
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
      if (n.home >= 0) this.homeCount[n.home]++;
      this.retarget();
      this.offerSpare(n);
    }
    this.retry();
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
    if (n.home >= 0) this.homeCount[n.home]--;
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
   * @param opts Root (the old one), stripes, load time constant.
   * @param members Every member with its slots and home.
   * @param edges Every edge.
   * @param now Clock, ms.
   * @return The forest; call `settle` for the placements it still owes.
   */
  static restore(opts: ForestOptions, members: Iterable<{ id: string; slots: number; home: number }>,
    edges: Iterable<{ stripe: number; child: string; parent: string }>, now: number): Forest {
    const f = new Forest(opts);
    f.now = now;
    for (const m of members) {
      if (f.nodes.has(m.id)) continue;
      const home = m.slots > 0 && m.home >= 0 && m.home < f.stripes ? m.home : -1;
      f.nodes.set(m.id, f.node(m.id, m.slots, home, false));
      if (home >= 0) f.homeCount[home]++;
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

  // ---------------------------------------------------------------- internals

  private node(id: string, slots: number, home: number, root: boolean): FNode {
    const K = this.stripes;
    return {
      id, slots, home, root, used: 0, load: 0, loadAt: this.now, demotedUntil: 0, homeWhenFree: -1, spareMask: 0, guestMask: 0, frontierMask: 0,
      parent: new Array<FNode | null>(K).fill(null), kids: Array.from({ length: K }, () => new Set<FNode>()), height: new Array<number>(K).fill(0),
    };
  }

  /** Home stripe first (placed as interior), then the others. */
  private order(n: FNode): number[] {
    const all = Array.from({ length: this.stripes }, (_, t) => t);
    return n.home >= 0 ? [n.home, ...all.filter((t) => t !== n.home)] : all;
  }

  private rootEdges(): number { return this.root.kids.reduce((a, k) => a + k.size, 0); }

  /** Edges `n` may still take in stripe t (the root: one child per stripe). */
  private spareOf(n: FNode, t: number): number {
    if (n.root) return 1 - n.kids[t].size;
    if (n.demotedUntil > this.now) return 0;
    return Math.min(n.slots, this.target) - n.used;
  }

  /** The least T >= K whose capacity (root K + sum of min(slots, T)) covers N x K edges. */
  private retarget(): void {
    const K = this.stripes;
    const need = this.size * K - K;
    let T = K;
    while (T < MAX_SLOTS && this.supply(T) < need) T++;
    const grew = T > this.target;
    this.target = T;
    if (grew) for (const n of this.nodes.values()) if (n.slots > n.used) this.offerSpare(n);
  }

  /** Edges the members offer when each holds at most T (demoted members offer none). */
  private supply(T: number): number {
    let total = 0;
    for (let s = 1; s <= MAX_SLOTS; s++) total += this.hist[s] * Math.min(s, T);
    for (const n of this.demoted) total -= Math.min(n.slots, T);
    return total;
  }

  private loadOf(n: FNode): number {
    return n.load + (n.used - n.load) * (1 - Math.exp(-(this.now - n.loadAt) / this.opts.tauMs));
  }

  private setUsed(n: FNode, used: number): void {
    n.load = this.loadOf(n);
    n.loadAt = this.now;
    n.used = used;
  }

  private depth(n: FNode, t: number): number {
    let d = 0;
    for (let x: FNode | null = n; !x.root; x = x.parent[t]) {
      if (!x.parent[t] || ++d > this.nodes.size) return Infinity;
    }
    return d;
  }

  /** Whether `a` lies in the subtree of `c` in stripe t (c included). */
  private inSubtree(a: FNode, c: FNode, t: number): boolean {
    for (let x: FNode | null = a, i = 0; x && i <= this.nodes.size; x = x.parent[t], i++) if (x === c) return true;
    return false;
  }

  private isAvoided(p: FNode, c: FNode): boolean {
    const until = this.avoided.get(`${p.id}>${c.id}`);
    return until !== undefined && until > this.now;
  }

  private link(c: FNode, p: FNode, t: number): void {
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

  private unlink(c: FNode, t: number): void {
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

  private flush(): EdgeChange[] {
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

  private offerSpare(n: FNode): void {
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

  /** The deepest home member of t feeding no home member, deeper than `than`, other than `not`. */
  private deepestFrontier(t: number, than: number, not: FNode): FNode | null {
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
   * Pops the best valid entry of a heap for which `ok` holds; entries that fail `ok`, or whose
   * node is in a detached subtree, are kept; dead or full ones are dropped (offered again later).
   * `homeOnly` stops at the first entry whose home is not the stripe (the heap orders them last).
   */
  private best(heap: MinHeap<Entry>, t: number, guest: boolean, ok: (n: FNode) => boolean, homeOnly = false): FNode | null {
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

  /**
   * Places `c` (and its subtree) in stripe t. A home member of t (interior) goes under the root
   * or another home member with a spare edge, or takes the place of the shallowest guest (a
   * member of another home) that such a node feeds, whichever is shallower: the guest goes under
   * c, with the guest's own children while c has room (edges a guest lent to t come back), or,
   * when c has no room, under the best spare edge. Only when neither exists does c borrow any
   * spare edge. A guest of t takes the best spare edge, home members of t first; when there is
   * none and it has room itself, it takes a guest's place and feeds that guest. Else unplaced.
   */
  private place(c: FNode, t: number): boolean {
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
    this.unplaced[t].add(c);
    return false;
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

  /** Places orphans again, the tallest subtrees first (they get the shallowest places). */
  private placeOrphans(orphans: [FNode, number][]): void {
    orphans.sort((a, b) => b[0].height[b[1]] - a[0].height[a[1]]);
    for (const [o, t] of orphans) if (this.nodes.get(o.id) === o) this.place(o, t);
  }

  /**
   * Tries again the (member, stripe) pairs that found no parent (capacity may have come back),
   * then takes borrowed edges back where home members of the stripe have room again.
   */
  private retry(): void {
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
