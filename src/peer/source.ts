/**
 * @file source.ts
 * @brief The source role: server pushes become numbered, signed chunks; the server slot.
 *
 * How it works: the peer holding the server's push (direct) and the coordinator role is the
 * source. Each push is numbered by `numberPush` (a pure function of the previous push and the
 * push's accept time: +1 per period, so a restart or a takeover that missed pushes leaves
 * exactly their holes, and never a number at or below one already known), signed and stored by
 * the pool, then relayed. The numbering comes from what this peer received (its pushes, its own
 * saved state, chunks signed by a source), never from what members claim. A direct peer that is
 * not (yet) the source keeps its last pushes; taking the role over, it maps them onto the stream
 * by hash (`activate`): the push matching a stored chunk gives the numbering, the ones after it
 * are the chunks the old source never relayed. Direct or not is the server's word: `11C` lists
 * us, `10C` answered `10`, or pushes arrive; a source with no push for SILENT_SERVER_PERIODS
 * periods asks for the slot again (the watchdog), and a coordinator without the slot asks for it
 * every SLOT_RETRY_MS (`wantSlot`).
 */
import { createHash } from 'node:crypto';
import type { ChunkStore } from './store';
import type { Logger } from '../log';
import type { ServerLink } from './serverLink';
import type { SourceKey } from './state';
import { sharedBuffer } from './pool';
import { sleep } from '../util/sleep';
import { MAX_SEQ, RECENT_PUSHES, SILENT_SERVER_PERIODS, SLOT_RETRY_MS } from '../constants';

/**
 * @brief The sequence number of a push.
 * @param last The previous push (null: none known).
 * @param pushMs This push's accept time, ms.
 * @param periodMs The chunk period, ms.
 * @param floor The highest sequence already known (the result is above it).
 * @return last + the periods elapsed (at least 1); 0 with nothing known.
 */
export function numberPush(last: { seq: number; ms: number } | null, pushMs: number, periodMs: number, floor: number): number {
  const seq = last ? last.seq + Math.max(1, Math.round((pushMs - last.ms) / periodMs)) : 0;
  return Math.min(MAX_SEQ, Math.max(seq, floor + 1));
}

/** The median of the recent gaps between chunks: the stream's period (robust to a late push). */
export class PeriodEstimator {
  private readonly samples: number[] = [];
  /** @param periodMs The first guess, ms. */
  constructor(private periodMs: number) {}
  /** @brief The estimate, ms. */
  get ms(): number { return this.periodMs; }
  /** @brief Whether anything was measured yet. */
  get measured(): boolean { return this.samples.length > 0; }
  /** @brief Adds the gap between two consecutive chunks' origin times. @param dt The gap, ms. */
  add(dt: number): void {
    if (!(dt > 50 && dt < 60_000)) return;
    this.samples.push(dt);
    if (this.samples.length > 15) this.samples.shift();
    this.periodMs = [...this.samples].sort((a, b) => a - b)[this.samples.length >> 1];
  }
  /** @brief Adopts a period announced by the coordinator while we measured none. @param ms The period. */
  suggest(ms: number): void {
    if (!this.measured && ms >= 100 && ms <= 60_000) this.periodMs = ms;
  }
}

/** Options of the source. */
export interface SourceOptions {
  /** Where our own chunks go. */
  store: ChunkStore;
  /** The server. */
  link: ServerLink;
  /** The signing key. */
  key: SourceKey;
  /** The stream's period. */
  period: PeriodEstimator;
  /** Logger. */
  log: Logger;
  /** Clock, ms. */
  now: () => number;
  /** Called after each push we numbered (to save the numbering). */
  numbered: (last: { seq: number; ms: number }) => void;
  /** The numbering of an earlier run (null: none). */
  previous: { seq: number; ms: number } | null;
}

/** The source role and the server slot. */
export class Source {
  /** True while the server pushes to us (we hold a direct slot). */
  direct = false;
  /** True while we number and inject the pushes (we are the coordinator). */
  active = false;
  /** Our last numbered push. */
  last: { seq: number; ms: number } | null;
  private recent: { data: Buffer; ms: number }[] = [];
  private lastPushMs = 0;
  private asking = false;
  private readonly stop = new AbortController();

  /** @param opts Store, server, key, period, numbering of an earlier run. */
  constructor(private readonly opts: SourceOptions) {
    this.last = opts.previous;
  }

  /**
   * @brief The server's word that we hold a slot (`11C` lists us, or `10C` answered `10`). The
   * watchdog counts the silence from now: a slot that never brings a push is asked for again.
   */
  slotHeld(): void {
    this.direct = true;
    this.lastPushMs = this.opts.now();
  }

  /** @brief A push from the server. @param data Its bytes. @param ms Its accept time. */
  onPush(data: Buffer, ms: number): void {
    this.slotHeld();
    if (this.active) return this.inject(data, ms);
    this.recent.push({ data, ms });
    if (this.recent.length > RECENT_PUSHES) this.recent.shift();
  }

  /** @brief We are the coordinator now: the pushes we kept join the stream (by hash, else by time). */
  activate(): void {
    if (this.active) return;
    this.active = true;
    const store = this.opts.store;
    const known = new Map<string, number>();
    for (const seq of store.seqsFrom(0)) known.set(store.get(seq)!.hash.toString('hex'), seq);
    const newest = store.get(store.maxSeq);
    if (newest && (!this.last || newest.seq > this.last.seq)) this.last = { seq: newest.seq, ms: newest.originMs };
    const kept = this.recent;
    this.recent = [];
    // The newest push that is a chunk we hold gives the numbering; the ones before it are old,
    // the ones after it are what the old source never relayed.
    let from = 0;
    for (let i = kept.length - 1; i >= 0; i--) {
      const seq = known.get(createHash('sha256').update(kept[i].data).digest('hex'));
      if (seq === undefined) continue;
      this.last = { seq, ms: kept[i].ms };
      from = i + 1;
      break;
    }
    for (const p of kept.slice(from)) this.inject(p.data, p.ms);
  }

  /** @brief We are no longer the coordinator: pushes are kept, not injected. */
  deactivate(): void {
    this.active = false;
  }

  /**
   * @brief Asks the server for a slot (`10C`) every SLOT_RETRY_MS while `still()` holds and we have none.
   * @param still Whether we still want it.
   */
  wantSlot(still: () => boolean): void {
    if (this.asking) return;
    this.asking = true;
    void (async () => {
      while (still() && !this.direct && !this.stop.signal.aborted) {
        try {
          if ((await this.opts.link.join()) === 'ok') {
            this.slotHeld();
            this.opts.log.info('server slot taken');
          }
        } catch (err) {
          this.opts.log.debug({ code: (err as { code?: string }).code }, 'slot request failed');
        }
        if (!this.direct) await sleep(Math.min(SLOT_RETRY_MS, this.opts.period.ms / 4), this.stop.signal);
      }
      this.asking = false;
    })();
  }

  /** @brief The watchdog: a source the server stopped pushing to asks for its slot again. */
  tick(now: number): void {
    if (!this.active || !this.direct) return;
    if (now - this.lastPushMs <= SILENT_SERVER_PERIODS * this.opts.period.ms) return;
    this.opts.log.warn({ silentMs: now - this.lastPushMs }, 'no push from the server: asking for the slot again');
    this.direct = false;
    this.wantSlot(() => this.active);
  }

  /** @brief Stops the slot requests. */
  destroy(): void {
    this.stop.abort();
  }

  private inject(data: Buffer, ms: number): void {
    const store = this.opts.store;
    const seq = numberPush(this.last, ms, this.opts.period.ms, store.maxSeq);
    if (this.last && seq > this.last.seq + 1) this.opts.log.info({ from: this.last.seq, seq }, 'numbering resumed after a gap');
    this.last = { seq, ms };
    this.opts.numbered(this.last);
    const shared = sharedBuffer(data.length);
    data.copy(shared);
    void store.addOwn(seq, shared, ms, this.opts.key.privateDer);
  }
}
