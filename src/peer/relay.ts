/**
 * @file relay.ts
 * @brief The parent side of the overlay: this peer's children, their cursors, their queues.
 *
 * How it works: a child subscribes to one stripe with the first sequence it wants. Only a
 * member the view names as our child in that stripe is served; a SUBSCRIBE that arrives before
 * our UPDATE says so (the two travel apart) is held for SUBSCRIBE_HOLD_MS, then refused
 * (NOT_CHILD). The relay keeps one cursor per (child, stripe) and pumps: every buffered chunk of
 * that stripe at or after the cursor goes out in order, then the cursor moves past it; a
 * sequence the store lacks is waited for (we may be repairing it) until a later chunk of its
 * stripe is stored or it is lost, then skipped (the child repairs it with FETCH). Backpressure: a chunk for a child whose queue is full is skipped too, and a child
 * whose queue stays full `slowReceiverMs` (SLOW_RECEIVER_MS) is dropped, so a reader that stopped reading cannot
 * grow our memory. Restriction 3: never more than `slots` edges (child, stripe) at once.
 */
import type { Session } from './session';
import type { ChunkStore, StoredChunk } from './store';
import type { Ledger } from './stats';
import type { Logger } from '../log';
import { nextInStripe } from './stripes';
import { RefuseReason } from '../protocol/peer';
import { FETCH_PER_PEER_PER_S, FETCH_PER_S, SUBSCRIBE_HOLD_MS } from '../constants';

/** Most SUBSCRIBEs held at once (a stranger cannot grow this). */
const MAX_HELD = 64;

/** One child and its stripes. */
interface Child {
  /** Next sequence to send, per subscribed stripe. */
  cursors: Map<number, number>;
  /** Since when its queue is over the bound, or 0. */
  fullSince: number;
}

/** Options of the relay. */
export interface RelayOptions {
  /** Where chunks are read from. */
  store: ChunkStore;
  /** The ledger. */
  stats: Ledger;
  /** Logger. */
  log: Logger;
  /** Clock, ms. */
  now: () => number;
  /** Edge cap (restriction 3). */
  slots: number;
  /** A child whose queue stays full this long is dropped (SLOW_RECEIVER), ms. */
  slowReceiverMs: number;
  /** Stripes K of the overlay now. */
  stripes: () => number;
  /** Whether the view makes `id` our child in stripe `s`. */
  isChild: (id: string, s: number) => boolean;
  /** The open session to `id`. */
  session: (id: string) => Session | undefined;
  /** Watches (or stops watching) the link to a child. */
  watch: (id: string, reason: 'child', on: boolean) => void;
}

/** The children of this peer. */
export class Relay {
  private readonly children = new Map<string, Child>();
  private readonly held = new Map<string, { id: string; stripe: number; fromSeq: number; untilMs: number }>();
  private fetchWindow = { start: 0, total: 0, per: new Map<string, number>() };

  /** @param opts Store, authority, sessions, slot cap. */
  constructor(private readonly opts: RelayOptions) {}

  /** @brief Edges (child, stripe) in use. */
  edges(): number {
    let n = 0;
    for (const c of this.children.values()) n += c.cursors.size;
    return n;
  }

  /** @brief The current children and their stripes. */
  list(): { id: string; stripes: number[] }[] {
    return [...this.children].map(([id, c]) => ({ id, stripes: [...c.cursors.keys()].sort() }));
  }

  /**
   * @brief Handles SUBSCRIBE from `id`.
   * @return 'accepted', 'held' (waiting for our view), or 'refused' (no slot left).
   */
  subscribe(id: string, stripe: number, fromSeq: number): 'accepted' | 'held' | 'refused' {
    if (!this.opts.isChild(id, stripe)) {
      if (this.held.size >= MAX_HELD) this.refuse(id, stripe, RefuseReason.NOT_CHILD);
      else this.held.set(`${id}|${stripe}`, { id, stripe, fromSeq, untilMs: this.opts.now() + SUBSCRIBE_HOLD_MS });
      return 'held';
    }
    const child = this.children.get(id);
    if (!child?.cursors.has(stripe) && this.edges() >= this.opts.slots) {
      this.refuse(id, stripe, RefuseReason.SLOTS_FULL);
      return 'refused';
    }
    const c = child ?? { cursors: new Map<number, number>(), fullSince: 0 };
    this.children.set(id, c);
    this.opts.watch(id, 'child', true);
    const start = this.startOf(stripe, fromSeq);
    c.cursors.set(stripe, start);
    this.opts.session(id)?.send({ type: 'subscribed', stripe, fromSeq: start });
    this.pump(id, c, stripe);
    return 'accepted';
  }

  /** @brief Handles UNSUBSCRIBE (or the view moved the child away). */
  unsubscribe(id: string, stripe: number): void {
    this.held.delete(`${id}|${stripe}`);
    const c = this.children.get(id);
    if (!c) return;
    c.cursors.delete(stripe);
    if (c.cursors.size === 0) this.forget(id);
  }

  /** @brief Forgets a child whose link closed. */
  drop(id: string): void {
    for (const [k, h] of this.held) if (h.id === id) this.held.delete(k);
    if (this.children.has(id)) this.forget(id);
  }

  /** @brief Whether `id` is our child in some stripe, or waits to be (its SUBSCRIBE is held). */
  isChildAnywhere(id: string): boolean {
    if (this.children.has(id)) return true;
    for (const h of this.held.values()) if (h.id === id) return true;
    return false;
  }

  /**
   * @brief Answers a FETCH: the chunk if we hold it and the bounds allow (FETCH_PER_PEER_PER_S
   * per member, FETCH_PER_S in all, the member's queue not full), MISSING otherwise.
   */
  serveFetch(id: string, seq: number): void {
    const s = this.opts.session(id);
    if (!s) return;
    const now = this.opts.now();
    if (now - this.fetchWindow.start >= 1_000) this.fetchWindow = { start: now, total: 0, per: new Map() };
    const w = this.fetchWindow;
    const mine = w.per.get(id) ?? 0;
    const c = this.opts.store.get(seq);
    if (!c || mine >= FETCH_PER_PEER_PER_S || w.total >= FETCH_PER_S
      || !s.sendChunk({ type: 'chunk', seq, originMs: c.originMs, hash: c.hash, sig: c.sig, data: c.data })) {
      s.send({ type: 'missing', seq });
      return;
    }
    w.per.set(id, mine + 1);
    w.total++;
    this.opts.stats.chunkBytesSent += c.data.byteLength;
  }

  /**
   * @brief Our view changed: children it moved elsewhere are released (their slots free at
   * once), held subscriptions it now allows are served.
   */
  viewChanged(): void {
    for (const [id, c] of [...this.children]) {
      for (const s of [...c.cursors.keys()]) if (!this.opts.isChild(id, s)) this.unsubscribe(id, s);
    }
    for (const [k, h] of [...this.held]) {
      if (!this.opts.isChild(h.id, h.stripe)) continue;
      this.held.delete(k);
      this.subscribe(h.id, h.stripe, h.fromSeq);
    }
  }

  /** @brief Pushes a newly stored chunk to the children of its stripe. */
  onStored(chunk: StoredChunk): void {
    const stripe = chunk.seq % this.opts.stripes();
    for (const [id, c] of this.children) if (c.cursors.has(stripe)) this.pump(id, c, stripe);
  }

  /** @brief Refuses expired held subscriptions; drops children that stopped reading. */
  tick(now: number): void {
    for (const [k, h] of this.held) {
      if (now < h.untilMs) continue;
      this.held.delete(k);
      this.refuse(h.id, h.stripe, RefuseReason.NOT_CHILD);
    }
    for (const [id, c] of this.children) {
      const s = this.opts.session(id);
      if (!s) continue;
      if (c.fullSince && now - c.fullSince > this.opts.slowReceiverMs) {
        this.opts.log.warn({ code: 'SLOW_RECEIVER', child: id, queued: s.queuedBytes }, 'a child stopped reading: dropped');
        s.close('SLOW_RECEIVER');
      } else if (c.fullSince && s.queuedBytes === 0) c.fullSince = 0;
    }
  }

  /** The first sequence to send: what the child asked for, within what we can still serve. */
  private startOf(stripe: number, fromSeq: number): number {
    const K = this.opts.stripes();
    const store = this.opts.store;
    const oldest = store.seqsFrom(0)[0] ?? store.maxSeq + 1;
    if (fromSeq < 0) {
      const newest = store.seqsFrom(0).filter((s) => s % K === stripe).pop();
      return newest ?? nextInStripe(store.maxSeq + 1, stripe, K);
    }
    return nextInStripe(Math.min(Math.max(fromSeq, oldest), store.maxSeq + 1), stripe, K);
  }

  private pump(id: string, c: Child, stripe: number): void {
    const s = this.opts.session(id);
    let cursor = c.cursors.get(stripe);
    if (!s || cursor === undefined) return;
    const K = this.opts.stripes();
    const store = this.opts.store;
    for (let seq = nextInStripe(cursor, stripe, K); seq <= store.maxSeq; seq += K) {
      const chunk = store.get(seq);
      if (!chunk) {
        if (store.has(seq)) break; // still being checked: wait for it, keep the order
        // Not here while a chunk of another stripe is: it may still come (our own repair of it, or
        // a slower path). Wait for it, so our children get it the moment we do, rather than skip
        // it and leave each child to find the hole a whole stripe cycle later; skip only once a
        // later chunk of this stripe is here or it is lost.
        if (store.awaits(seq) && !store.hasLaterInStripe(seq, K)) break;
        cursor = seq + K;
        continue;
      }
      const sent = s.sendChunk({ type: 'chunk', seq, originMs: chunk.originMs, hash: chunk.hash, sig: chunk.sig, data: chunk.data });
      if (sent) this.opts.stats.chunkBytesSent += chunk.data.byteLength;
      else {
        this.opts.stats.sendsSkipped++;
        c.fullSince ||= this.opts.now();
      }
      cursor = seq + K;
    }
    c.cursors.set(stripe, Math.max(cursor, c.cursors.get(stripe) ?? cursor));
  }

  private refuse(id: string, stripe: number, reason: number): void {
    this.opts.session(id)?.send({ type: 'refused', stripe, reason });
  }

  private forget(id: string): void {
    this.children.delete(id);
    this.opts.watch(id, 'child', false);
  }
}
