/**
 * @file view.ts
 * @brief What a member knows of the overlay: its coordinator and successors, the source's key,
 * and its own parents and children per stripe. Pure state, fed by the coordinator's UPDATEs.
 *
 * How it works: a full UPDATE replaces everything; a delta applies to the epoch it names in
 * `since` only (a member that missed one returns 'gap' and asks for a RESYNC). The source's
 * keys are kept as the current one and the one before it, so chunks signed just before a
 * takeover still verify. `knows(id)` answers "is this a member I deal with" for the dispatch
 * table (coordinator, successors, parents, children). Nothing here touches the network.
 */
import type { MemberRef, Msg } from '../protocol/peer';

/** What applying an UPDATE changed. */
export interface ViewChange {
  /** Stripes whose parent changed. */
  parents: number[];
  /** Children no longer ours, as (stripe, id). */
  childrenGone: [number, string][];
  /** The coordinator changed (a takeover or an abdication). */
  coordinator: boolean;
}

/** A member's view. */
export class View {
  /** Epoch of the last UPDATE applied (0: none). */
  epoch = 0;
  /** The coordinator (the source, root of every stripe). */
  coordinator: MemberRef | null = null;
  /** The members that take the role over, in order. */
  successors: MemberRef[] = [];
  /** The source's id. */
  sourceId = '';
  /** The source's public keys: the current one first, then the previous one. */
  keys: Buffer[] = [];
  /** When the current key arrived, ms (a chunk failing a brand-new key is not blamed on its relay). */
  keySinceMs = 0;
  /** Stripes K (0 before the first UPDATE). */
  stripes = 0;
  /** The chunk period the coordinator measures, ms. */
  periodMs = 0;
  /** The source's newest sequence at the last full UPDATE (a joiner starts there). */
  liveSeq = -1;
  /** Our parent per stripe. */
  parents: (MemberRef | null)[] = [];
  /** Our children per stripe. */
  children: Set<string>[] = [];

  /**
   * @brief Applies an UPDATE.
   * @param u The update.
   * @param now Clock, ms (when a new source key took effect).
   * @return The changes, 'gap' when a delta does not follow our epoch, 'stale' when older.
   */
  apply(u: Msg<'update'>, now = 0): ViewChange | 'gap' | 'stale' {
    if (!u.full && u.since !== this.epoch) return u.epoch <= this.epoch ? 'stale' : 'gap';
    if (u.full && u.epoch < this.epoch && u.coordinator.id === this.coordinator?.id) return 'stale';
    const change: ViewChange = { parents: [], childrenGone: [], coordinator: u.coordinator.id !== this.coordinator?.id };
    if (u.full || u.stripes !== this.stripes) {
      for (let s = 0; s < this.stripes; s++) for (const c of this.children[s] ?? []) change.childrenGone.push([s, c]);
      const old = this.parents;
      this.stripes = u.stripes;
      this.parents = new Array<MemberRef | null>(u.stripes).fill(null);
      this.children = Array.from({ length: u.stripes }, () => new Set<string>());
      for (let s = 0; s < u.stripes; s++) if (old[s]) change.parents.push(s);
    }
    this.epoch = u.epoch;
    this.coordinator = u.coordinator;
    this.successors = u.successors;
    this.periodMs = u.periodMs;
    if (u.full) this.liveSeq = u.liveSeq;
    if (u.source && (u.source.id !== this.sourceId || !this.keys[0]?.equals(u.source.key))) {
      this.sourceId = u.source.id;
      this.keys = [u.source.key, ...this.keys.slice(0, 1)];
      this.keySinceMs = now;
    }
    for (const p of u.parents) {
      if (p.stripe >= this.stripes) continue;
      const before = this.parents[p.stripe];
      if ((before?.id ?? '') !== (p.parent?.id ?? '') || before?.p2pPort !== p.parent?.p2pPort) {
        this.parents[p.stripe] = p.parent;
        if (!change.parents.includes(p.stripe)) change.parents.push(p.stripe);
      } else if (u.full && !change.parents.includes(p.stripe) && p.parent) {
        change.parents.push(p.stripe);
      }
    }
    for (const c of u.children) {
      if (c.stripe >= this.stripes) continue;
      if (c.add) {
        this.children[c.stripe].add(c.id);
        change.childrenGone = change.childrenGone.filter(([s, id]) => !(s === c.stripe && id === c.id));
      } else if (this.children[c.stripe].delete(c.id)) change.childrenGone.push([c.stripe, c.id]);
    }
    return change;
  }

  /** @brief Forgets the overlay (we left, or start over); the source's keys stay (old chunks still verify). */
  reset(): void {
    this.epoch = 0;
    this.coordinator = null;
    this.successors = [];
    this.parents = [];
    this.children = [];
    this.stripes = 0;
  }

  /** @brief Whether `id` is our child in stripe `s`. */
  isChild(id: string, s: number): boolean {
    return this.children[s]?.has(id) ?? false;
  }

  /** @brief Whether `id` is our parent in stripe `s`. */
  isParent(id: string, s: number): boolean {
    return this.parents[s]?.id === id;
  }

  /** @brief Whether `id` is a successor named in the view. */
  isSuccessor(id: string): boolean {
    return this.successors.some((s) => s.id === id);
  }

  /** @brief Whether we deal with `id`: the coordinator, a successor, a parent or a child. */
  knows(id: string): boolean {
    return this.coordinator?.id === id || this.isSuccessor(id) || this.parents.some((p) => p?.id === id)
      || this.children.some((c) => c.has(id));
  }

  /** @brief Where to reach `id` if the view names it. */
  refOf(id: string): MemberRef | undefined {
    if (this.coordinator?.id === id) return this.coordinator;
    return this.successors.find((s) => s.id === id) ?? this.parents.find((p) => p?.id === id) ?? undefined;
  }
}
