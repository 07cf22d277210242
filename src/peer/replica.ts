/**
 * @file replica.ts
 * @brief A successor's copy of the whole membership, kept from the coordinator's REPLICA messages.
 *
 * A full REPLICA replaces the copy; a delta applies only to the epoch it names in `since` (a gap
 * returns 'gap' and the successor asks for a RESYNC). On takeover, `toMembership` rebuilds the
 * coordinator's state from it: the forest as the old coordinator held it, re-rooted at us, so
 * only the edges of the old root and of our old place move. Pure: no network, no timers.
 */
import type { MemberRef, Msg } from '../protocol/peer';
import { Forest } from './forest';
import { Membership } from './membership';

/** A successor's replica. */
export class Replica {
  /** Epoch of the last REPLICA applied (0: none). */
  epoch = 0;
  /** Stripes K. */
  stripes = 0;
  /** The coordinator it mirrors. */
  root = '';
  private readonly members = new Map<string, { ref: MemberRef; slots: number; home: number }>();
  private readonly edges = new Map<string, string>();

  /**
   * @brief Applies a REPLICA from coordinator `from`.
   * @return 'ok', or 'gap' when a delta does not follow our epoch.
   */
  apply(m: Msg<'replica'>, from: string): 'ok' | 'gap' {
    if (!m.full && (m.since !== this.epoch || from !== this.root)) return 'gap';
    if (m.full) {
      this.members.clear();
      this.edges.clear();
      this.root = from;
    }
    this.stripes = m.stripes;
    for (const o of m.ops) {
      if (o.op === 'member') this.members.set(o.ref.id, { ref: o.ref, slots: o.slots, home: o.home });
      else if (o.op === 'gone') {
        this.members.delete(o.id);
        for (let s = 0; s < this.stripes; s++) this.edges.delete(`${s}|${o.id}`);
      } else if (o.parent) this.edges.set(`${o.stripe}|${o.child}`, o.parent);
      else this.edges.delete(`${o.stripe}|${o.child}`);
    }
    this.epoch = m.epoch;
    return 'ok';
  }

  /** @brief Whether `id` is a member of the replicated membership. */
  has(id: string): boolean {
    return this.members.has(id);
  }

  /** @brief Whether the replica holds a membership. */
  get ready(): boolean {
    return this.epoch > 0 && this.stripes > 0;
  }

  /** @brief The members it holds. */
  refs(): MemberRef[] {
    return [...this.members.values()].map((m) => m.ref);
  }

  /**
   * @brief The coordinator's state for `self` taking the role over from the replica's root.
   * @param self Our ref. @param slots Our slots. @param tauMs Load time constant. @param now Clock, ms.
   * @return The membership (our old place and the old root's children moved: see `changes`).
   */
  toMembership(self: MemberRef, slots: number, tauMs: number, now: number): Membership {
    const forest = Forest.restore({ rootId: this.root, rootSlots: slots, stripes: this.stripes, tauMs },
      [...this.members.values()].map((m) => ({ id: m.ref.id, slots: m.slots, home: m.home })),
      [...this.edges].map(([k, parent]) => {
        const [s, child] = k.split('|');
        return { stripe: Number(s), child, parent };
      }), now);
    forest.settle(now);
    forest.reroot(self.id, now);
    const m = new Membership({ self, slots, stripes: this.stripes, tauMs, epoch: this.epoch }, forest);
    for (const x of this.members.values()) if (x.ref.id !== self.id) m.adopt(x.ref, x.slots);
    return m;
  }
}
