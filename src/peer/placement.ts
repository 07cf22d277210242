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
  const avoid = input.avoid ?? new Set<string>();
  const byId = new Map(members.map((m) => [m.id, m]));
  byId.set(root.id, root);
  /** Edges used so far per member, across stripes. */
  const used = new Map<string, number>();
  const cap = (id: string, s: number): number =>
    id === root.id ? rootShare(root.slots, stripes, s) : byId.get(id)!.slots;
  const result: Placement = [];
  for (let s = 0; s < stripes; s++) {
    const parents = new Map<string, string>();
    const usedHere = new Map<string, number>();
    const depth = new Map<string, number>([[root.id, 0]]);
    const spare = (id: string): number =>
      id === root.id ? cap(id, s) - (usedHere.get(id) ?? 0) : cap(id, s) - (used.get(id) ?? 0);
    const attach = (child: string, parent: string): void => {
      parents.set(child, parent);
      usedHere.set(parent, (usedHere.get(parent) ?? 0) + 1);
      if (parent !== root.id) used.set(parent, (used.get(parent) ?? 0) + 1);
      depth.set(child, depth.get(parent)! + 1);
    };
    const ok = (parent: string, child: string): boolean =>
      spare(parent) > 0 && !avoid.has(`${parent}>${child}`);
    // 1. Interior skeleton: home members breadth first under the root.
    const interior = members.filter((m) => m.home === s && m.slots > 0);
    const queue: string[] = [root.id];
    let head = 0;
    const interiorSet = new Set<string>([root.id]);
    for (const m of interior) {
      while (head < queue.length && spare(queue[head]) <= 0) head++;
      let p: string | undefined;
      for (let i = head; i < queue.length && !p; i++) if (ok(queue[i], m.id)) p = queue[i];
      if (!p) continue; // no interior room: placed as a leaf below
      attach(m.id, p);
      queue.push(m.id);
      interiorSet.add(m.id);
    }
    // 2. Leaves: previous parent when still valid, else the interior node that sent least.
    const prev = input.previous?.[s];
    const leaves = members.filter((m) => !parents.has(m.id));
    const pending: PlacementMember[] = [];
    for (const m of leaves) {
      const p = prev?.get(m.id);
      if (p && interiorSet.has(p) && p !== m.id && ok(p, m.id)) attach(m.id, p);
      else pending.push(m);
    }
    if (input.rebalanceBytes !== undefined) {
      const moved = rotateOneLeaf(parents, interiorSet, byId, spare, input.rebalanceBytes);
      if (moved) {
        usedHere.set(moved.parent, usedHere.get(moved.parent)! - 1);
        if (moved.parent !== root.id) used.set(moved.parent, used.get(moved.parent)! - 1);
        pending.unshift(byId.get(moved.child)!);
      }
    }
    const byBalance = (a: string, b: string): number =>
      (byId.get(a)!.sent - byId.get(b)!.sent) || (depth.get(a)! - depth.get(b)!) || (a < b ? -1 : 1);
    // `sent` is fixed during one decision, so each candidate list is sorted once and scanned
    // from the first node that still has a spare edge (O(N log N) instead of O(N^2)).
    const sortedInterior = [...interiorSet].sort(byBalance);
    let first = 0;
    let borrowable: string[] | null = null;
    for (const m of pending) {
      while (first < sortedInterior.length && spare(sortedInterior[first]) <= 0) first++;
      let p: string | undefined;
      for (let i = first; i < sortedInterior.length && !p; i++) {
        if (ok(sortedInterior[i], m.id)) p = sortedInterior[i];
      }
      if (!p) {
        // 3. Borrow a spare edge from any member already in the tree (never the child itself).
        borrowable ??= [...depth.keys()].filter((c) => c !== root.id).sort(byBalance);
        p = borrowable.find((c) => c !== m.id && ok(c, m.id));
      }
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
