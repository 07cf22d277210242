/**
 * @file upstream.ts
 * @brief The child side of the overlay: one parent per stripe, and the repair of holes.
 *
 * How it works:
 * - `apply(parents)`: for every stripe whose parent changed, UNSUBSCRIBE from the old one and
 *   SUBSCRIBE to the new one from the next sequence of that stripe we lack, so a new parent
 *   replays what we missed from its ring buffer (nothing lost on failover). The link to a parent
 *   is watched (heartbeats, silence kills it).
 * - A parent that dies (`parentGone`) orphans its stripes: we tell the coordinator (SUSPECT,
 *   LINK_DIED) and note the time; the new parent's SUBSCRIBED closes the re-attach figure.
 * - A parent that holds chunks of a stripe it does not deliver (its heartbeats' newest
 *   sequence runs LAG_CHUNKS of the stripe ahead of ours for LAG_PERIODS periods) is reported as
 *   SLOW; a parent that is itself behind is not blamed.
 * - `tick`: the repair scan. A sequence is missing when a later chunk of its stripe is stored (or
 *   the stream moved two stripes' worth past it); it is fetched from the stripe's parent, the
 *   coordinator, the other parents, the successors, in turn: every FETCH_RETRY_MS for FETCH_TRIES
 *   tries, then once a period. It is lost only when the stream has moved BUFFER_CHUNKS past it
 *   (out of every ring buffer).
 */
import type { ChunkStore } from './store';
import type { Ledger } from './stats';
import type { Logger } from '../log';
import type { Session } from './session';
import { nextInStripe } from './stripes';
import { MemberRef, RefuseReason, SuspectReason } from '../protocol/peer';
import { BUFFER_CHUNKS, FETCH_RETRY_MS, FETCH_TRIES, LAG_CHUNKS, LAG_PERIODS, LATE_CHUNK_MS, SUBSCRIBE_HOLD_MS, SUBSCRIBE_RETRY_MS, TRANSIT_WINDOW_MS } from '../constants';

/** Per-stripe state. */
interface StripeState {
  /** Our parent ('' when unplaced). */
  parent: MemberRef | null;
  /** Time the stripe lost its parent, until a new one accepts it (re-attach figure), or 0. */
  detachedMs: number;
  /** Retry time of a refused or failed subscription, or 0. */
  retryAtMs: number;
  /** Since when the parent lags, or 0. */
  laggingSinceMs: number;
  /** Highest sequence received in this stripe. */
  lastSeq: number;
  /** Origin time (the source's clock) of the newest chunk of this stripe we verified and stored, or 0. */
  storedOriginMs: number;
  /** Its sequence, or -1. */
  storedSeq: number;
  /** NOT_CHILD refusals from this parent in a row (its view does not name us). */
  refusals: number;
}

/** NOT_CHILD refusals in a row (each after the parent held us SUBSCRIBE_HOLD_MS) before we report the parent. */
const REFUSALS_TO_REPORT = 2;

/** Options of the upstream. */
export interface UpstreamOptions {
  /** Our id. */
  self: string;
  /** Our chunks. */
  store: ChunkStore;
  /** The ledger. */
  stats: Ledger;
  /** Logger. */
  log: Logger;
  /** Clock, ms. */
  now: () => number;
  /** An open session to a member, dialing it when needed. */
  dial: (ref: MemberRef) => Promise<Session>;
  /** The open session to `id`, if any. */
  session: (id: string) => Session | undefined;
  /** Watches the link to a parent. */
  watch: (id: string, reason: 'parent', on: boolean) => void;
  /** Members that hold chunks beyond our parents: the coordinator first, then the successors. */
  holders: () => MemberRef[];
  /** Tells the coordinator about a parent (SUSPECT). */
  suspect: (id: string, reason: number) => void;
  /** When the current source's key came (its clock is not the old source's: the transit baseline starts again), ms. */
  sourceSinceMs: () => number;
}

/** The parents of this peer, and its repair scan. */
export class Upstream {
  private stripes: StripeState[] = [];
  private K = 1;
  private readonly fetches = new Map<number, { tries: number; atMs: number; holder: string }>();
  /** Members that sent or may still send us chunks (former parents, holders asked), until when. */
  private readonly senders = new Map<string, number>();
  /** Least (store time - origin time) of a chunk, this window and the one before (see onStored). */
  private readonly transit = { cur: Infinity, prev: Infinity, sinceMs: 0 };

  /** @param opts Identity, store, sessions, holders. */
  constructor(private readonly opts: UpstreamOptions) {}

  /**
   * @brief Follows the view's parents.
   * @param parents Our parent per stripe (null when unplaced).
   */
  apply(parents: (MemberRef | null)[]): void {
    const now = this.opts.now();
    this.K = parents.length;
    for (let s = 0; s < parents.length; s++) {
      const st = (this.stripes[s] ??= { parent: null, detachedMs: 0, retryAtMs: 0, laggingSinceMs: 0, lastSeq: -1, storedOriginMs: 0, storedSeq: -1, refusals: 0 });
      const next = parents[s];
      if ((st.parent?.id ?? '') === (next?.id ?? '')) continue;
      const old = st.parent;
      st.parent = next;
      st.laggingSinceMs = 0;
      st.refusals = 0;
      if (old) {
        this.senders.set(old.id, now + LATE_CHUNK_MS);
        this.opts.session(old.id)?.send({ type: 'unsubscribe', stripe: s });
        if (!this.stripes.some((x) => x.parent?.id === old.id)) this.opts.watch(old.id, 'parent', false);
      }
      // A planned move (rebalance, a parent moved away) is no recovery: only a stripe orphaned by
      // a failure (parentGone) counts its time to the next parent.
      if (next) this.subscribe(s);
    }
    this.stripes.length = parents.length;
  }

  /** @brief Forgets every parent (we are the root now, or we left). */
  reset(): void {
    for (const st of this.stripes) if (st.parent) this.opts.watch(st.parent.id, 'parent', false);
    this.stripes = [];
  }

  /** @brief Our parents as (id, stripes). */
  links(): { ref: MemberRef; stripes: number[] }[] {
    const by = new Map<string, { ref: MemberRef; stripes: number[] }>();
    this.stripes.forEach((st, s) => {
      if (!st.parent) return;
      const e = by.get(st.parent.id) ?? { ref: st.parent, stripes: [] };
      e.stripes.push(s);
      by.set(st.parent.id, e);
    });
    return [...by.values()];
  }

  /** @brief Whether `from` may send us chunk `seq`: its stripe's parent, or the holder we asked. */
  accepts(from: string, seq: number): boolean {
    return this.stripes[seq % this.K]?.parent?.id === from || this.fetches.get(seq)?.holder === from;
  }

  /**
   * @brief Whether a chunk from `from` is late rather than a violation: `from` was a parent of ours
   * (of any stripe) or a holder we asked within LATE_CHUNK_MS (a throttled link delivers what it
   * queued long after we moved or got the chunk elsewhere).
   */
  wasParent(from: string): boolean {
    return (this.senders.get(from) ?? 0) > this.opts.now();
  }

  /**
   * @brief A chunk was verified and stored: its stripe's newest origin time, and the transit
   * baseline (the least time from a push at the source to our store, in our clock minus the
   * source's: clock offset plus the fastest path, measured over the last one to two windows).
   */
  onStored(seq: number, originMs: number): void {
    const now = this.opts.now();
    const tr = this.transit;
    if (this.opts.sourceSinceMs() > tr.sinceMs) Object.assign(tr, { prev: Infinity, cur: Infinity, sinceMs: now });
    else if (now - tr.sinceMs >= TRANSIT_WINDOW_MS) Object.assign(tr, { prev: tr.cur, cur: Infinity, sinceMs: now });
    tr.cur = Math.min(tr.cur, now - originMs);
    const st = this.stripes[seq % this.K];
    if (st && seq > st.storedSeq) Object.assign(st, { storedSeq: seq, storedOriginMs: originMs });
  }

  /** @brief A chunk arrived. */
  onChunk(seq: number): void {
    const st = this.stripes[seq % this.K];
    if (st && seq > st.lastSeq) st.lastSeq = seq;
    this.fetches.delete(seq);
  }

  /**
   * @brief A link to `id` opened, alone or in place of one that closed as a duplicate: a
   * SUBSCRIBE to it still unanswered may have been lost on the old link (both ends dialed at
   * once, as a joiner and a member that gets it as a parent do), so it is sent again now rather
   * than at its retry time.
   */
  linkOpened(id: string): void {
    this.stripes.forEach((st, s) => {
      if (st.parent?.id === id && st.retryAtMs) this.subscribe(s);
    });
  }

  /** @brief A parent accepted our subscription: the stripe is attached again. */
  onSubscribed(from: string, stripe: number): void {
    const st = this.stripes[stripe];
    if (!st || st.parent?.id !== from) return;
    st.retryAtMs = 0;
    st.refusals = 0;
    if (st.detachedMs) {
      this.opts.stats.reattached(this.opts.now() - st.detachedMs);
      st.detachedMs = 0;
    }
  }

  /**
   * @brief A subscription was refused: retry shortly (our parent's view may lag ours). A parent
   * that keeps refusing us as a stranger (REFUSALS_TO_REPORT in a row: its view lost the move) is
   * reported (SUSPECT REFUSED): the coordinator sends that parent its whole view, rather than
   * leave the stripe unfed until the lag rule sees it.
   */
  onRefused(from: string, stripe: number, reason: number): void {
    const st = this.stripes[stripe];
    if (!st || st.parent?.id !== from) return;
    st.retryAtMs = this.opts.now() + (reason === RefuseReason.SLOTS_FULL ? SUBSCRIBE_RETRY_MS : SUBSCRIBE_RETRY_MS * 2);
    if (reason !== RefuseReason.NOT_CHILD) {
      st.refusals = 0;
      return;
    }
    if (++st.refusals < REFUSALS_TO_REPORT) return;
    st.refusals = 0;
    this.opts.log.warn({ parent: from, stripe }, 'parent refuses us as its child: reported');
    this.opts.suspect(from, SuspectReason.REFUSED);
  }

  /** @brief The link to `id` died: orphan its stripes and tell the coordinator. */
  parentGone(id: string): void {
    let orphaned = false;
    for (const st of this.stripes) {
      if (st.parent?.id !== id) continue;
      orphaned = true;
      st.detachedMs ||= this.opts.now();
      st.retryAtMs = this.opts.now() + SUBSCRIBE_RETRY_MS; // the same parent again if the view keeps it
    }
    if (orphaned) this.opts.suspect(id, SuspectReason.LINK_DIED);
    const f = this.fetches;
    for (const x of f.values()) if (x.holder === id) x.atMs = 0;
  }

  /** @brief A holder does not have `seq`: ask the next one at once. */
  onMissing(from: string, seq: number): void {
    const f = this.fetches.get(seq);
    if (f && f.holder === from) f.atMs = 0;
  }

  /** @brief Retries subscriptions, checks lag, runs the repair scan. */
  tick(now: number, periodMs: number): void {
    for (const [id, until] of this.senders) if (until <= now) this.senders.delete(id);
    // Every stripe behind at once, from two parents or more: our own link is the slow one, no
    // parent is to blame. One parent feeding every stripe cannot be told from our link: it is.
    const behind = this.stripes.map((st) => this.isBehind(st, now, periodMs));
    const parents = new Set(this.stripes.map((st) => st.parent?.id));
    const selfSlow = this.K > 1 && parents.size > 1 && behind.every((b) => b);
    this.stripes.forEach((st, s) => {
      if (st.parent && st.retryAtMs && now >= st.retryAtMs) this.subscribe(s);
      this.checkLag(st, behind[s] && !selfSlow, now, periodMs);
    });
    const store = this.opts.store;
    for (const seq of store.missing()) {
      const st = this.stripes[seq % this.K];
      const overdue = (st && st.lastSeq > seq) || store.maxSeq >= seq + 2 * this.K;
      if (!overdue) continue;
      const f = this.fetches.get(seq) ?? { tries: 0, atMs: 0, holder: '' };
      if (now < f.atMs) continue;
      // Lost only once it has left every ring buffer (nobody can hold it any more): a holder cut
      // off or a link throttled for seconds is asked again, once a period, until then.
      if (store.maxSeq - seq >= BUFFER_CHUNKS) {
        this.fetches.delete(seq);
        store.giveUp(seq);
        this.opts.log.warn({ seq, tries: f.tries }, 'chunk lost: no holder had it');
        continue;
      }
      const holder = this.holderFor(seq, f.tries);
      if (holder) this.senders.set(holder.id, now + LATE_CHUNK_MS);
      f.tries++;
      f.atMs = now + (f.tries < FETCH_TRIES ? FETCH_RETRY_MS : Math.max(FETCH_RETRY_MS, periodMs));
      f.holder = holder?.id ?? '';
      this.fetches.set(seq, f);
      if (holder) void this.opts.dial(holder).then((x) => x.send({ type: 'fetch', seq }), () => { f.atMs = 0; });
    }
  }

  /**
   * Whether a stripe trails the stream by LAG_CHUNKS chunks of it: the newest chunk we hold of
   * the other stripes (verified, from other parents) is that far ahead, or its parent's own
   * heartbeats say it holds that much more than it sent us, or that many chunk periods passed
   * since the newest chunk of the stripe we stored left the source (its origin time moved into
   * our clock by the transit baseline, see onStored). The first sees a throttled link (its
   * heartbeats queue behind its chunks in the same stream); the second serves a one-stripe
   * overlay; the third a parent that feeds us every stripe (nothing of ours is ahead of it).
   */
  private isBehind(st: StripeState, now: number, periodMs: number): boolean {
    if (!st.parent || st.lastSeq < 0) return false;
    const parentMax = this.opts.session(st.parent.id)?.remoteMaxSeq ?? -1;
    const edge = this.K > 1 ? this.opts.store.maxSeq : -1;
    if (Math.max(parentMax, edge) - st.lastSeq >= LAG_CHUNKS * this.K) return true;
    const base = Math.min(this.transit.cur, this.transit.prev);
    return st.storedSeq >= 0 && Number.isFinite(base) && now - (st.storedOriginMs + base) >= LAG_CHUNKS * this.K * periodMs;
  }

  /** A stripe behind for LAG_PERIODS periods: its parent is reported slow (the coordinator moves us). */
  private checkLag(st: StripeState, behind: boolean, now: number, periodMs: number): void {
    if (!st.parent || !behind) {
      st.laggingSinceMs = 0;
      return;
    }
    st.laggingSinceMs ||= now;
    if (now - st.laggingSinceMs < LAG_PERIODS * periodMs) return;
    this.opts.log.warn({ parent: st.parent.id, lastSeq: st.lastSeq, newest: this.opts.store.maxSeq }, 'parent too slow: asking to be moved');
    this.opts.suspect(st.parent.id, SuspectReason.SLOW);
    st.laggingSinceMs = now;
  }

  private holderFor(seq: number, tries: number): MemberRef | undefined {
    const parent = this.stripes[seq % this.K]?.parent;
    const seen = new Set<string>([this.opts.self]);
    const order: MemberRef[] = [];
    for (const r of [parent, ...this.opts.holders(), ...this.stripes.map((x) => x.parent)]) {
      if (r && !seen.has(r.id)) { seen.add(r.id); order.push(r); }
    }
    return order.length ? order[tries % order.length] : undefined;
  }

  private subscribe(s: number): void {
    const st = this.stripes[s];
    const parent = st.parent;
    if (!parent) return;
    st.retryAtMs = 0;
    const store = this.opts.store;
    const from = st.lastSeq >= 0 ? st.lastSeq + this.K : nextInStripe(store.firstSeq ?? 0, s, this.K);
    this.opts.watch(parent.id, 'parent', true);
    this.opts.dial(parent).then((x) => {
      if (this.stripes[s]?.parent?.id !== parent.id) return;
      x.send({ type: 'subscribe', stripe: s, fromSeq: from });
      // Unanswered (lost on a link that closed as a duplicate, say) it is sent again: a parent
      // answers within SUBSCRIBE_HOLD_MS, SUBSCRIBED or REFUSED.
      st.retryAtMs = this.opts.now() + SUBSCRIBE_HOLD_MS + SUBSCRIBE_RETRY_MS * 4;
    }, (err: Error) => {
      this.opts.log.debug({ parent: parent.id, stripe: s, err: err.message }, 'cannot reach parent; will retry');
      if (this.stripes[s]?.parent?.id === parent.id) st.retryAtMs = this.opts.now() + SUBSCRIBE_RETRY_MS * 4;
    });
  }
}
