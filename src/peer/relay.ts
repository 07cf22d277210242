/**
 * @file relay.ts
 * @brief The parent side of the overlay: this peer's children, their cursors, and the pushes.
 *
 * A child subscribes to one stripe with the first sequence it wants (`fromSeq`, or -1 for the
 * live edge). The relay keeps one cursor per (child, stripe) and `pump`s: every buffered chunk
 * of that stripe at or after the cursor is sent in order, then the cursor moves past it. A
 * sequence the store lacks while it holds a later one of the same stripe is skipped (the child
 * repairs it with FETCH). Restriction 3: a subscription that would take the peer past `slots`
 * edges (child, stripe) is refused, so distinct children never exceed `slots` either.
 */
import type { Session } from './session';
import { nextInStripe } from './upstream';
import type { ChunkStore, StoredChunk } from './store';

/** One child connection and its stripes. */
interface Child {
  /** The child's P2P session, over which its chunks are sent. */
  session: Session;
  /** Next sequence to send, per subscribed stripe. */
  cursors: Map<number, number>;
}

/** Options of the relay. */
export interface RelayOptions {
  /** The chunk store the pushes are read from. */
  store: ChunkStore;
  /** Edge cap (restriction 3). */
  slots: () => number;
  /** Number of stripes. */
  stripes: () => number;
  /** Called with (childId, bytes) after each chunk sent. */
  onSent?: (childId: string, bytes: number) => void;
}

/** The set of children of this peer. */
export class Relay {
  private readonly children = new Map<string, Child>();

  /** @param opts Store, slot cap, stripe count, byte callback. */
  constructor(private readonly opts: RelayOptions) {}

  /** @brief Edges (child, stripe) in use. */
  edges(): number {
    let n = 0;
    for (const c of this.children.values()) n += c.cursors.size;
    return n;
  }

  /**
   * @brief Handles SUBSCRIBE.
   * @param session The child's session.
   * @param stripe Stripe index.
   * @param fromSeq First sequence wanted, or -1 for the live edge.
   * @return true when accepted, false when no slot is free.
   */
  subscribe(session: Session, stripe: number, fromSeq: number): boolean {
    const existing = this.children.get(session.id);
    const already = existing?.session === session && existing.cursors.has(stripe);
    if (!already && this.edges() >= this.opts.slots()) return false;
    let child = existing;
    if (!child || child.session !== session) {
      child = { session, cursors: new Map() };
      this.children.set(session.id, child);
    }
    const K = this.opts.stripes();
    let start = fromSeq;
    if (start < 0) {
      // Live edge: the newest buffered chunk of this stripe, or the next one to come.
      const newest = this.opts.store.seqsFrom(0).filter((s) => s % K === stripe).pop();
      start = newest ?? nextInStripe(this.opts.store.maxSeq + 1, stripe, K);
    }
    child.cursors.set(stripe, start);
    session.send({ type: 'subscribed', stripe, fromSeq: start });
    this.pump(child, stripe);
    return true;
  }

  /** @brief Handles UNSUBSCRIBE (or a placement that moved the child away). */
  unsubscribe(childId: string, stripe: number): void {
    const child = this.children.get(childId);
    if (!child) return;
    child.cursors.delete(stripe);
    if (child.cursors.size === 0) this.children.delete(childId);
  }

  /** @brief Forgets a child whose session closed. */
  drop(session: Session): void {
    const child = this.children.get(session.id);
    if (child?.session === session) this.children.delete(session.id);
  }

  /** @brief Called for each newly stored chunk: pushes it to the children of its stripe. */
  onStored(chunk: StoredChunk): void {
    const stripe = chunk.seq % this.opts.stripes();
    for (const child of this.children.values()) if (child.cursors.has(stripe)) this.pump(child, stripe);
  }

  /** @brief The current children as (id, session, stripes). */
  list(): { id: string; session: Session; stripes: number[] }[] {
    return [...this.children].map(([id, c]) => ({ id, session: c.session, stripes: [...c.cursors.keys()].sort() }));
  }

  private pump(child: Child, stripe: number): void {
    const K = this.opts.stripes();
    let cursor = child.cursors.get(stripe);
    if (cursor === undefined) return;
    const store = this.opts.store;
    for (let seq = nextInStripe(cursor, stripe, K); seq <= store.maxSeq; seq += K) {
      const chunk = store.get(seq);
      if (!chunk) {
        if (store.has(seq)) break; // still being verified: wait for it, keep order
        continue;
      }
      child.session.send({ type: 'chunk', seq, hash: chunk.hash, originMs: chunk.originMs, data: chunk.data });
      this.opts.onSent?.(child.session.id, chunk.data.byteLength);
      cursor = seq + K;
    }
    if (cursor !== undefined) child.cursors.set(stripe, Math.max(cursor, child.cursors.get(stripe)!));
  }
}
