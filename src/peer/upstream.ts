/**
 * @file upstream.ts
 * @brief The child side of the overlay: one parent per stripe, and the repair of holes.
 *
 * How it works:
 * - `apply(view, parents)`: for every stripe whose parent changed, UNSUBSCRIBE from the old
 *   one and SUBSCRIBE to the new one from the next sequence of that stripe we lack, so a new
 *   parent replays what we missed from its ring buffer (nothing lost on failover).
 * - A parent that dies (`onParentGone`) orphans its stripes: we tell the coordinator
 *   (SUSPECT) and note the time; the first chunk from the next parent closes the recovery.
 * - `tick`: the repair scan. A sequence is missing when a later chunk of its stripe is stored
 *   (or the stream moved two stripes' worth past it); it is fetched from the stripe's parent,
 *   then the coordinator, then other members, at most FETCH_TRIES times before it is lost.
 */
import { EventEmitter } from 'node:events';
import type { Session } from './session';
import type { ChunkStore } from './store';
import type { ViewMessage } from './membership';
import type { Logger } from '../log';
import { FETCH_RETRY_MS, FETCH_TRIES, LAG_CHUNKS, LAG_PERIODS, SUBSCRIBE_RETRY_MS } from '../constants';

/** Per-stripe upstream state. */
interface StripeState {
  /** Id of our parent in this stripe ('' when unplaced). */
  parent: string;
  /** Time the stripe was orphaned (for the first-chunk recovery figure), or 0. */
  orphanedMs: number;
  /** Time the stripe was orphaned, until a new parent accepts it (re-attach figure), or 0. */
  detachedMs: number;
  /** Retry time of a refused or failed subscription, or 0. */
  retryAtMs: number;
  /** Since when the parent lags the source by LAG_CHUNKS of this stripe or more, or 0. */
  laggingSinceMs: number;
  /** Highest sequence received in this stripe. */
  lastSeq: number;
}

/** Options of the upstream. */
export interface UpstreamOptions {
  /** Our own id (IP). */
  selfId: string;
  /** Our chunks (what we hold and what we miss). */
  store: ChunkStore;
  /** Logger. */
  log: Logger;
  /** Returns an open session to a member, dialing it if needed. */
  sessionTo: (id: string) => Promise<Session>;
  /** The session to the coordinator, if open. */
  coordinator: () => Session | null;
  /** Ids of the other live members (repair holders). */
  members: () => string[];
  /** Newest sequence a neighbour holds, from its heartbeats (-1 when unknown). */
  remoteMaxSeq: (id: string) => number;
}

/** Events: `reattached` (ms, failure to a new parent's SUBSCRIBED), `recovered` (ms, failure to its first chunk), `lost` (seq). */
export class Upstream extends EventEmitter {
  private stripes: StripeState[] = [];
  private K = 1;
  private readonly fetches = new Map<number, { tries: number; atMs: number; holder: string }>();

  /** @param opts Identity, store, dialer, coordinator and member lookups. */
  constructor(private readonly opts: UpstreamOptions) {
    super();
  }

  /**
   * @brief Follows a new view.
   * @param view The view.
   * @param parents Our parent in each stripe ('' when unplaced).
   */
  apply(view: ViewMessage, parents: string[]): void {
    this.K = view.stripes;
    if (this.opts.store.firstSeq === null) this.opts.store.startAt(Math.max(0, view.liveSeq));
    for (let s = 0; s < view.stripes; s++) {
      const st = (this.stripes[s] ??= { parent: '', orphanedMs: 0, detachedMs: 0, retryAtMs: 0, lastSeq: -1, laggingSinceMs: 0 });
      if (st.parent === parents[s]) continue;
      const old = st.parent;
      st.laggingSinceMs = 0;
      st.parent = parents[s];
      if (old) void this.opts.sessionTo(old).then((x) => x.send({ type: 'unsubscribe', stripe: s })).catch(() => undefined);
      if (st.parent) this.subscribe(s);
    }
  }

  /** @brief Forgets every parent (we became the root: the coordinator subscribes to nobody). */
  reset(): void {
    for (const st of this.stripes) { st.parent = ''; st.orphanedMs = 0; st.detachedMs = 0; st.retryAtMs = 0; }
  }

  /** @brief Our parents as (id, stripes). */
  links(): { id: string; stripes: number[] }[] {
    const by = new Map<string, number[]>();
    this.stripes.forEach((st, s) => { if (st.parent) by.set(st.parent, [...(by.get(st.parent) ?? []), s]); });
    return [...by].map(([id, stripes]) => ({ id, stripes }));
  }

  /** @brief A chunk arrived from `from`. */
  onChunk(from: string, seq: number): void {
    const st = this.stripes[seq % this.K];
    if (!st) return;
    if (seq > st.lastSeq) st.lastSeq = seq;
    if (st.orphanedMs && st.parent === from) {
      this.emit('recovered', Date.now() - st.orphanedMs);
      st.orphanedMs = 0;
    }
    this.fetches.delete(seq);
  }

  /**
   * @brief Whether a CHUNK from `from` is acceptable: only our parent of its stripe, or the
   * holder we asked for it (FETCH), may send us a chunk.
   * @param from Sender id. @param seq Chunk sequence.
   */
  accepts(from: string, seq: number): boolean {
    return this.stripes[seq % this.K]?.parent === from || this.fetches.get(seq)?.holder === from;
  }

  /** @brief A parent accepted our subscription: the stripe is attached again. */
  onSubscribed(from: string, stripe: number): void {
    const st = this.stripes[stripe];
    if (!st || st.parent !== from) return;
    st.retryAtMs = 0;
    if (st.detachedMs) {
      this.emit('reattached', Date.now() - st.detachedMs);
      st.detachedMs = 0;
    }
  }

  /** @brief A subscription was refused (no free slot yet): retry shortly. */
  onRefused(from: string, stripe: number): void {
    const st = this.stripes[stripe];
    if (st && st.parent === from) st.retryAtMs = Date.now() + SUBSCRIBE_RETRY_MS;
  }

  /** @brief A neighbour died or left: orphan its stripes and tell the coordinator. */
  onParentGone(id: string): void {
    let orphaned = false;
    for (const st of this.stripes) {
      if (st.parent !== id) continue;
      orphaned = true;
      st.parent = ''; // a later view naming it again (it came back) subscribes afresh
      if (!st.orphanedMs) st.orphanedMs = Date.now();
      if (!st.detachedMs) st.detachedMs = Date.now();
    }
    if (orphaned) this.opts.coordinator()?.send({ type: 'suspect', id });
  }

  /** @brief A holder does not have `seq`: try the next one at once. */
  onMissing(from: string, seq: number): void {
    const f = this.fetches.get(seq);
    if (f && f.holder === from) f.atMs = 0;
  }

  /** @brief Retries subscriptions and runs the repair scan. */
  tick(now: number, periodMs = 2000): void {
    this.stripes.forEach((st, s) => {
      if (st.parent && st.retryAtMs && now >= st.retryAtMs) this.subscribe(s);
      this.checkLag(st, now, periodMs, st.parent ? this.opts.remoteMaxSeq(st.parent) : -1);
    });
    const store = this.opts.store;
    for (const seq of store.missing()) {
      const st = this.stripes[seq % this.K];
      const overdue = (st && st.lastSeq > seq) || store.maxSeq >= seq + 2 * this.K;
      if (!overdue) continue;
      const f = this.fetches.get(seq) ?? { tries: 0, atMs: 0, holder: '' };
      if (now < f.atMs) continue;
      if (f.tries >= FETCH_TRIES) {
        this.fetches.delete(seq);
        store.giveUp(seq);
        this.opts.log.warn({ seq }, 'chunk lost: no holder had it');
        this.emit('lost', seq);
        continue;
      }
      const holder = this.holderFor(seq, f.tries);
      f.tries++;
      f.atMs = now + FETCH_RETRY_MS;
      f.holder = holder ?? '';
      this.fetches.set(seq, f);
      if (holder) void this.opts.sessionTo(holder).then((x) => x.send({ type: 'fetch', seq })).catch(() => { f.atMs = 0; });
    }
  }

  /**
   * A slow parent (it holds chunks of the stripe but delivers them late: its own newest
   * sequence, from its heartbeats, is LAG_CHUNKS chunks of the stripe ahead of what it gave us,
   * for LAG_PERIODS periods) is reported; the coordinator, which still hears it, moves us away
   * from that edge. A parent that is itself behind is not blamed: moving would not help.
   */
  private checkLag(st: StripeState, now: number, periodMs: number, parentMaxSeq: number): void {
    const ahead = st.lastSeq >= 0 && parentMaxSeq - st.lastSeq >= LAG_CHUNKS * this.K;
    if (!st.parent || !ahead) {
      st.laggingSinceMs = 0;
      return;
    }
    st.laggingSinceMs ||= now;
    if (now - st.laggingSinceMs < LAG_PERIODS * periodMs) return;
    this.opts.log.warn({ parent: st.parent, lastSeq: st.lastSeq, parentMaxSeq }, 'parent too slow: asking to be moved');
    this.opts.coordinator()?.send({ type: 'suspect', id: st.parent });
    st.laggingSinceMs = now; // ask again after another LAG_PERIODS if nothing changed
  }

  private holderFor(seq: number, tries: number): string | undefined {
    const parent = this.stripes[seq % this.K]?.parent;
    const coord = this.opts.coordinator()?.id;
    const others = this.opts.members().filter((m) => m !== parent && m !== coord);
    const order = [parent, coord, ...others].filter((x): x is string => !!x && x !== this.opts.selfId);
    return order.length ? order[tries % order.length] : undefined;
  }

  private subscribe(s: number): void {
    const st = this.stripes[s];
    st.retryAtMs = 0;
    const parent = st.parent;
    const store = this.opts.store;
    const from = st.lastSeq >= 0 ? st.lastSeq + this.K : nextInStripe(store.firstSeq ?? 0, s, this.K);
    this.opts.sessionTo(parent).then((x) => {
      if (this.stripes[s].parent === parent) x.send({ type: 'subscribe', stripe: s, fromSeq: from });
    }).catch((err: Error) => {
      this.opts.log.debug({ parent, stripe: s, err: err.message }, 'cannot reach parent; will retry');
      if (this.stripes[s].parent === parent) {
        st.retryAtMs = Date.now() + SUBSCRIBE_RETRY_MS * 4;
        if (!st.orphanedMs) st.orphanedMs = Date.now();
      }
    });
  }
}

/** @brief First sequence >= from that belongs to stripe s of K. */
export function nextInStripe(from: number, s: number, K: number): number {
  const r = ((from % K) + K) % K;
  return from + ((s - r + K) % K);
}
