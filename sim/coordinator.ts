/**
 * @file coordinator.ts
 * @brief The simulator's adapter to the project's own membership: every decision is made by
 * src/peer/membership.ts and src/peer/forest.ts, exactly as the coordinator part of a peer makes
 * it (no copy of their logic); this file only translates peer indices to ids and follows the
 * moved edges into the simulator's arrays.
 *
 * Member ids are IP literals made from the peer index (the wire and the forest want IPs); the
 * root (source) is index 0. A join, a leave and a suspicion go to the Membership at once, as in
 * the peer; `publish()` drains it like the coordinator's publication (the UPDATEs and REPLICAs,
 * encoded with the real codec to count the control bytes) and reports what moved since the last
 * one. Timings (rebalance, load time constant) are the constants of src/constants.ts.
 */
import { Membership } from '../src/peer/membership';
import type { EdgeChange } from '../src/peer/forest';
import { encode } from '../src/protocol/peer';
import { AVOID_EDGE_MS, LOAD_TAU_MS, DEMOTE_MS } from '../src/constants';

/** What one publication changed, in subscriptions (member, stripe). */
export interface Recompute {
  /** Members of the previous placement whose parent changed (orphans and moved ones). */
  moves: number;
  /** First subscriptions of new members. */
  firstSubs: number;
  /** (member, stripe) pairs without a parent now. */
  unplaced: number;
  /** Wall time the membership spent on the changes since the last publication, ms. */
  placeMs: number;
  /** Bytes of the UPDATEs and REPLICAs this publication sends (the real codec). */
  controlBytes: number;
}

/** @brief The IP id of peer index p (10.x.y.z). */
export function idOf(p: number): string {
  return `10.${(p >>> 16) & 255}.${(p >>> 8) & 255}.${p & 255}`;
}

/** @brief The peer index of an IP id. */
export function indexOf(id: string): number {
  const [, a, b, c] = id.split('.').map(Number);
  return (a << 16) + (b << 8) + c;
}

/** The simulated coordinator: the real Membership behind peer indices. */
export class Coordinator {
  /** Parents per stripe by peer index, `parents[s * capacity + child]`, -1 = none. */
  readonly parents: Int32Array;
  /** The real membership. */
  readonly membership: Membership;
  private readonly slots = new Map<number, number>();
  private moves = 0;
  private firstSubs = 0;
  private spentMs = 0;

  /**
   * @brief A coordinator for peers 1..capacity-1 under root 0.
   * @param capacity Largest peer index + 1. @param stripes Stripes K. @param rootSlots Slots of the source.
   */
  constructor(private readonly capacity: number, stripes: number, rootSlots: number) {
    this.parents = new Int32Array(capacity * stripes).fill(-1);
    this.membership = new Membership({
      self: { id: idOf(0), p2pPort: 9092, httpPort: 9093 }, slots: rootSlots, stripes, tauMs: LOAD_TAU_MS,
      onEdges: (changes) => this.follow(changes),
    });
  }

  /** @brief Number of members. */
  get size(): number {
    return this.membership.members.size;
  }

  /** @brief A peer joins. @param p Peer index. @param slots Its slots. @param now Time, ms. */
  join(p: number, slots: number, now: number): void {
    this.slots.set(p, slots);
    this.timed(() => this.membership.join({ id: idOf(p), p2pPort: 9092, httpPort: 9093 }, slots, now));
  }

  /** @brief A failure is detected (its link to the coordinator is gone): the member is removed. */
  leave(p: number, now: number): void {
    this.slots.delete(p);
    this.timed(() => this.membership.remove(idOf(p), now));
  }

  /**
   * @brief A child suspects its parent, as SUSPECT reaches the peer's coordinator: moved off a
   * live parent (a cut link), the parent removed when its link is gone, demoted for bad data.
   */
  suspect(reporter: number, p: number, now: number, parentAlive: boolean, badData = false): void {
    this.timed(() => {
      if (!parentAlive) return this.leave(p, now);
      this.membership.avoid(idOf(p), idOf(reporter), now, AVOID_EDGE_MS);
      if (badData) this.membership.demote(idOf(p), now, DEMOTE_MS);
    });
  }

  /** @brief The rebalance period's step. @param now Time, ms. */
  rebalance(now: number): void {
    this.timed(() => this.membership.rebalance(now));
  }

  /**
   * @brief Publishes as the coordinator does, and reports what moved since the last publication.
   * @param liveSeq The source's newest chunk (joiners start there).
   */
  publish(liveSeq: number): Recompute {
    const pub = this.membership.drain({ liveSeq, periodMs: 2000, source: { id: idOf(0), key: Buffer.alloc(32) } });
    let controlBytes = 0;
    for (const u of pub.updates.values()) controlBytes += encode(u).reduce((n, b) => n + b.length, 0);
    for (const r of [...pub.replicas.values()].flat()) controlBytes += encode(r).reduce((n, b) => n + b.length, 0);
    const out: Recompute = { moves: this.moves, firstSubs: this.firstSubs, unplaced: this.membership.forest.unplacedCount(), placeMs: this.spentMs, controlBytes };
    this.moves = this.firstSubs = this.spentMs = 0;
    return out;
  }

  /** @brief Slots of a member by peer index (for the restriction-3 check). */
  slotsOf(): (p: number) => number {
    return (p) => this.slots.get(p) ?? 0;
  }

  private timed(f: () => unknown): void {
    const t0 = performance.now();
    f();
    this.spentMs += performance.now() - t0;
  }

  /** Follows moved edges into `parents`. */
  private follow(changes: EdgeChange[]): void {
    const N = this.capacity;
    for (const c of changes) {
      const child = indexOf(c.child);
      if (child <= 0 || child >= N) continue;
      if (c.from) this.moves++;
      else this.firstSubs++;
      this.parents[c.stripe * N + child] = c.to ? indexOf(c.to) : -1;
    }
  }
}
