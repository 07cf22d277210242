/**
 * @file placement.ts
 * @brief The overlay's placement decision: which member feeds which member in every stripe.
 *
 * How it works (SplitStream-style forest, computed by the coordinator, replicated in the view):
 * - The stream is cut into K stripes: chunk `seq` travels in stripe `seq mod K`.
 * - Every member with slots has one *home* stripe (chosen at join to even out the stripes'
 *   capacity). In its home stripe it is an interior node; in the others it is a leaf.
 * - Capacity is counted in edges (child, stripe): a member never has more edges than `slots`,
 *   so it never has more than `slots` downstream connections (restriction 3), and since every
 *   edge carries 1/K of the stream, a member uploads at most slots/K streams (balance, c).
 * - Per stripe, the interior skeleton is a complete tree of the home members under the root
 *   (the source), filled breadth first in view order: depth about log_slots(N/K).
 * - Every other member hangs as a leaf under an interior node with spare edges: its previous
 *   parent when still valid (stability), else the one that has sent the fewest bytes
 *   (so the nodes carrying one child fewer rotate over time and bytes sent even out).
 * - A leaf that finds no home node with spare edges borrows a spare edge of any member
 *   already in the tree (delivery before purity); a member that finds none is unplaced.
 * - `avoid` lists edges reported broken (a partition between two live peers); they are skipped.
 *
 * Complexity: O(K * N log N) per call (one sort per stripe), N members.
 */

/** A member as placement sees it. */
export interface PlacementMember {
  /** Stable id (the peer's IP). */
  id: string;
  /** Downstream slots (restriction 3). */
  slots: number;
  /** Home stripe, or -1 when the member has no slots (it only receives). */
  home: number;
  /** Bytes sent so far (balance input). */
  sent: number;
}

/** Parents per stripe: `parents[s].get(child) = parent id`. */
export type Placement = Map<string, string>[];

/** Input of one placement decision. */
export interface PlacementInput {
  /** Root of every stripe (the source). */
  root: PlacementMember;
  /** All other members, in view (join) order. */
  members: PlacementMember[];
  /** Number of stripes K (>= 1). */
  stripes: number;
  /** The previous decision, kept where still valid. */
  previous?: Placement;
  /** Edges not to use, as `parent>child`. */
  avoid?: Set<string>;
  /**
   * When set, move at most one kept leaf per stripe from the interior node that sent the most
   * to the one with a spare edge that sent the least, if they differ by more than this many
   * bytes (the periodic rotation that evens out bytes sent).
   */
  rebalanceBytes?: number;
}

/**
 * @brief Home stripe for a new member: the stripe whose home members have the fewest slots.
 * @param members Current members (their `home` fields are read).
 * @param stripes Number of stripes.
 * @param slots Slots of the newcomer.
 * @return The stripe index, or -1 when `slots` is 0.
 */
export function chooseHome(members: PlacementMember[], stripes: number, slots: number): number {
  if (slots <= 0) return -1;
  const load = new Array<number>(stripes).fill(0);
  for (const m of members) if (m.home >= 0 && m.home < stripes) load[m.home] += m.slots;
  let best = 0;
  for (let s = 1; s < stripes; s++) if (load[s] < load[best]) best = s;
  return best;
}

/**
 * @brief Edges the root offers to stripe `s`: its slots split evenly, at least one each.
 * @param rootSlots Root's slots.
 * @param stripes Number of stripes.
 * @param s Stripe index.
 */
export function rootShare(rootSlots: number, stripes: number, s: number): number {
  const slots = Math.max(rootSlots, stripes);
  return Math.floor(slots / stripes) + (s < slots % stripes ? 1 : 0);
}

/**
 * @brief Computes the forest.
 * @param input Root, members, stripes, previous decision, edges to avoid.
 * @return Parents per stripe; a member missing from `parents[s]` is unplaced in stripe s.
 */
export function place(input: PlacementInput): Placement {
  const { root, members, stripes } = input;
  const avoid = new Set(input.avoid ?? []);
  const byId = new Map(members.map((m) => [m.id, m]));
  byId.set(root.id, root);
  /** Edges used so far per member, across stripes. */
  const used = new Map<string, number>();
  const cap = (id: string, s: number): number =>
    id === root.id ? rootShare(root.slots, stripes, s) : byId.get(id)!.slots;
  const result: Placement = [];
  for (let s = 0; s < stripes; s++) {
    const parents = new Map<string, string>();
    const reserved = new Map<string, number>();
    const usedHere = new Map<string, number>();
    const depth = new Map<string, number>([[root.id, 0]]);
    const spare = (id: string): number =>
      id === root.id ? cap(id, s) - (usedHere.get(id) ?? 0) : cap(id, s) - (used.get(id) ?? 0);
    const attach = (child: string, parent: string): void => {
      if (input.previous?.[s]?.get(child) === parent) reserved.set(parent, (reserved.get(parent) ?? 1) - 1);
      parents.set(child, parent);
      usedHere.set(parent, (usedHere.get(parent) ?? 0) + 1);
      if (parent !== root.id) used.set(parent, (used.get(parent) ?? 0) + 1);
      depth.set(child, depth.get(parent)! + 1);
    };
    const ok = (parent: string, child: string): boolean =>
      spare(parent) > 0 && !avoid.has(`${parent}>${child}`);
    // 1. Interior skeleton: home members breadth first under the root. Previous interior
    //    edges are kept where the chain to the root survives (processed in previous-depth
    //    order), so a failure moves only its orphans, which take the shallowest spare edges.
    const prev = input.previous?.[s];
    const prevDepth = prev ? depths(input.previous!, s, root.id) : new Map<string, number>();
    const interior = members.filter((m) => m.home === s && m.slots > 0);
    const keptFirst = interior.map((m, i) => ({ m, i, d: prevDepth.get(m.id) ?? Infinity }))
      .sort((a, b) => (a.d - b.d) || (a.i - b.i)).map((x) => x.m);
    const queue: string[] = [root.id];
    let head = 0;
    const interiorSet = new Set<string>([root.id]);
    // Edges still owed to previous children (kept as soon as both ends are placed): an
    // orphan takes them last, so one failure does not push a chain of members around.
    if (prev) for (const [c, p] of prev) if (byId.has(c) && byId.has(p)) reserved.set(p, (reserved.get(p) ?? 0) + 1);
    const free = (id: string, child: string): boolean => ok(id, child) && spare(id) > (reserved.get(id) ?? 0);
    const keep = (m: PlacementMember): boolean => {
      const p = prev?.get(m.id);
      if (!(p && interiorSet.has(p) && ok(p, m.id))) return false;
      attach(m.id, p);
      queue.push(m.id);
      interiorSet.add(m.id);
      return true;
    };
    // Pass 1 keeps every still-valid edge; pass 2 places the orphans (and, below them, the
    // subtrees they carry, whose edges are kept again as soon as their parent is placed).
    const deferred = keptFirst.filter((m) => !keep(m));
    for (const m of deferred) {
      if (keep(m)) continue;
      let p: string | undefined;
      while (head < queue.length && spare(queue[head]) <= 0) head++;
      for (let i = head; i < queue.length && !p; i++) if (free(queue[i], m.id)) p = queue[i];
      for (let i = head; i < queue.length && !p; i++) if (ok(queue[i], m.id)) p = queue[i];
      if (!p) continue; // no interior room: placed as a leaf below
      attach(m.id, p);
      queue.push(m.id);
      interiorSet.add(m.id);
    }
    // 2. Leaves: previous parent when still valid, else the interior node that sent the
    //    fewest bytes, then has the fewest edges in use (a heap: O(N log N) per stripe).
    const pending: PlacementMember[] = [];
    for (const m of members) {
      if (parents.has(m.id)) continue;
      const p = prev?.get(m.id);
      if (p && interiorSet.has(p) && p !== m.id && ok(p, m.id)) attach(m.id, p);
      else pending.push(m);
    }
    if (input.rebalanceBytes !== undefined) {
      const moved = rotateOneLeaf(parents, interiorSet, byId, spare, input.rebalanceBytes);
      if (moved) {
        avoid.add(`${moved.parent}>${moved.child}`); // this decision only: it must move
        usedHere.set(moved.parent, usedHere.get(moved.parent)! - 1);
        if (moved.parent !== root.id) used.set(moved.parent, used.get(moved.parent)! - 1);
        pending.unshift(byId.get(moved.child)!);
      }
    }
    const load = (id: string): number => (id === root.id ? usedHere.get(id) ?? 0 : used.get(id) ?? 0);
    const before = (a: string, b: string): boolean =>
      (byId.get(a)!.sent - byId.get(b)!.sent || load(a) - load(b) || depth.get(a)! - depth.get(b)! || (a < b ? -1 : 1)) < 0;
    const heap = new MinHeap<string>(before);
    for (const id of interiorSet) if (spare(id) > 0) heap.push(id);
    let borrowable: string[] | null = null;
    for (const m of pending) {
      const skipped: string[] = [];
      let p: string | undefined;
      while (!p && heap.size > 0) {
        const c = heap.pop()!;
        if (spare(c) <= 0) continue;
        if (ok(c, m.id)) p = c;
        else skipped.push(c);
      }
      for (const c of skipped) heap.push(c);
      if (p) {
        attach(m.id, p);
        if (spare(p) > 0) heap.push(p);
        continue;
      }
      // 3. Borrow a spare edge from any member already in the tree (never the child itself).
      borrowable ??= [...depth.keys()].filter((c) => c !== root.id).sort((a, b) => (before(a, b) ? -1 : 1));
      p = borrowable.find((c) => c !== m.id && ok(c, m.id));
      if (p) attach(m.id, p);
    }
    result.push(parents);
  }
  return result;
}

/**
 * @brief Picks the kept leaf to move in a rebalance, and detaches it from `parents`.
 * @param parents This stripe's parents so far (modified: the moved leaf is removed).
 * @param interior Interior nodes of the stripe.
 * @param byId Members by id.
 * @param spare Spare edges of a member.
 * @param threshold Minimum difference of bytes sent that justifies a move.
 * @return The detached edge, or null when the stripe is balanced enough.
 */
function rotateOneLeaf(parents: Map<string, string>, interior: Set<string>,
  byId: Map<string, PlacementMember>, spare: (id: string) => number,
  threshold: number): { child: string; parent: string } | null {
  let giver: string | null = null;
  let taker: string | null = null;
  for (const id of interior) {
    const sent = byId.get(id)!.sent;
    if (spare(id) > 0 && (taker === null || sent < byId.get(taker)!.sent)) taker = id;
  }
  if (taker === null) return null;
  const hasLeaf = new Map<string, string>();
  for (const [child, p] of parents) if (!interior.has(child)) hasLeaf.set(p, child);
  for (const id of hasLeaf.keys()) {
    if (giver === null || byId.get(id)!.sent > byId.get(giver)!.sent) giver = id;
  }
  if (giver === null || byId.get(giver)!.sent - byId.get(taker)!.sent <= threshold) return null;
  const child = hasLeaf.get(giver)!;
  parents.delete(child);
  return { child, parent: giver };
}

/**
 * @brief Children of `id` in every stripe (what a parent expects to serve).
 * @param placement A placement.
 * @param id Member id.
 * @return For each stripe, the list of child ids.
 */
export function childrenOf(placement: Placement, id: string): string[][] {
  return placement.map((parents) => [...parents].filter(([, p]) => p === id).map(([c]) => c));
}

/**
 * @brief Depth of every placed member in stripe `s` (root = 0).
 * @param placement A placement.
 * @param s Stripe index.
 * @param rootId The root.
 */
export function depths(placement: Placement, s: number, rootId: string): Map<string, number> {
  const parents = placement[s];
  const out = new Map<string, number>([[rootId, 0]]);
  const walk = (id: string, seen: Set<string>): number => {
    const known = out.get(id);
    if (known !== undefined) return known;
    const p = parents.get(id);
    if (p === undefined || seen.has(id)) return Infinity;
    seen.add(id);
    const d = walk(p, seen) + 1;
    out.set(id, d);
    return d;
  };
  for (const id of parents.keys()) walk(id, new Set());
  return out;
}

/** A binary min-heap ordered by `before` (placement's candidate parents). */
class MinHeap<T> {
  private readonly items: T[] = [];
  /** @param before Strict order: true when a must come out before b. */
  constructor(private readonly before: (a: T, b: T) => boolean) {}
  /** @brief Number of items. */
  get size(): number {
    return this.items.length;
  }
  /** @brief Adds an item. */
  push(x: T): void {
    const a = this.items;
    a.push(x);
    for (let i = a.length - 1; i > 0;) {
      const up = (i - 1) >> 1;
      if (!this.before(a[i], a[up])) break;
      [a[i], a[up]] = [a[up], a[i]];
      i = up;
    }
  }
  /** @brief Removes and returns the first item. */
  pop(): T | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.before(a[l], a[m])) m = l;
        if (r < a.length && this.before(a[r], a[m])) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
}
