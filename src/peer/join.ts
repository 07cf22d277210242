/**
 * @file join.ts
 * @brief Finding the overlay: asking the server, JOIN through the peers it lists, redirects,
 * and the successor order when the coordinator is lost. Cancellable.
 *
 * How it works:
 * - `run()`: are we listed by the server (`11C`, a restarted overlay process of the direct
 *   peer still is)? Otherwise ask (`10C`, restriction 1). Then JOIN through, in order, the
 *   overlay we were in (the coordinator and successors saved in our folder, or of our last view),
 *   and the peers `11C` lists (their P2P port by convention); a member answers REDIRECT to its
 *   coordinator (followed up to MAX_HOPS), the coordinator answers with our first UPDATE. Nobody
 *   reachable and the server answered `10`: we found the overlay. Otherwise retry after half a
 *   period.
 * - `rejoin(old, successors)`: the coordinator is lost. JOIN it again first when it only went
 *   silent (a cut link is not a dead coordinator), then each successor in order; the first
 *   successor that is ourselves takes the role over ('takeover'). Nobody left: back to `run()`.
 * Replies reach us through the dispatch table while `awaits(id)` is true.
 */
import type { Session } from './session';
import type { ServerLink } from './serverLink';
import type { Source } from './source';
import type { Logger } from '../log';
import type { MemberRef, Msg } from '../protocol/peer';
import { sleep } from '../util/sleep';

/** Redirects followed from one listed peer. */
const MAX_HOPS = 3;

/** Options of the join part. */
export interface JoinOptions {
  /** Who we are. */
  self: MemberRef;
  /** The server. */
  link: ServerLink;
  /** Our slot state (direct or not). */
  source: Source;
  /** An open session to a member. */
  dial: (ref: MemberRef) => Promise<Session>;
  /** Where the overlay was, as far as we know (saved state or last view). */
  previous: () => { coordinator: MemberRef | null; successors: MemberRef[] };
  /** The join succeeded: the coordinator's first UPDATE, on its session. */
  joined: (s: Session, u: Msg<'update'>) => void;
  /** How long to wait for an answer to JOIN, ms. */
  replyTimeoutMs: number;
  /** The stream's period now, ms (retry pacing). */
  periodMs: () => number;
  /** Logger. */
  log: Logger;
}

/** The join loop. */
export class Join {
  private waiting: { id: string; resolve: (m: Msg<'update'> | Msg<'redirect'> | null) => void } | null = null;
  /** Peers we sent JOIN to lately, until when a late answer from them is no violation. */
  private readonly asked = new Map<string, number>();
  private readonly stop = new AbortController();

  /** @param opts Identity, server, dialer, previous overlay. */
  constructor(private readonly opts: JoinOptions) {}

  /** @brief Whether a JOIN to `id` waits for its answer (UPDATE or REDIRECT from it are ours). */
  awaits(id: string): boolean {
    return this.waiting?.id === id;
  }

  /** @brief Whether we sent JOIN to `id` lately (its answer after we gave up is late, not hostile). */
  askedLately(id: string, now: number): boolean {
    return (this.asked.get(id) ?? 0) > now;
  }

  /**
   * @brief An answer to our JOIN. An UPDATE is applied before anything else on that connection
   * (the REPLICA that may follow it in the same read is then from our coordinator).
   */
  reply(s: Session, m: Msg<'update'> | Msg<'redirect'>): void {
    if (this.waiting?.id !== s.id) return;
    if (m.type === 'update') this.opts.joined(s, m);
    this.waiting.resolve(m);
  }

  /** @brief Cancels every wait (the peer stops). */
  destroy(): void {
    this.stop.abort();
    this.waiting?.resolve(null);
  }

  /** @brief Finds the overlay. @return 'member' (joined) or 'founder' (we found it), or 'stopped'. */
  async run(): Promise<'member' | 'founder' | 'stopped'> {
    const { link, source, self } = this.opts;
    while (!this.stop.signal.aborted) {
      let listed: string[] = [];
      try {
        listed = await link.list();
        if (listed.includes(self.id) || (await link.join()) === 'ok') source.slotHeld();
        else source.direct = false;
        if (source.direct && !listed.includes(self.id)) listed = await link.list();
        this.opts.log.info({ direct: source.direct, listed }, 'server answered');
      } catch (err) {
        this.opts.log.warn({ code: (err as { code?: string }).code ?? 'SERVER_UNREACHABLE' }, 'server unreachable; retrying');
        await sleep(this.opts.periodMs() / 2, this.stop.signal);
        continue;
      }
      const prev = this.opts.previous();
      const candidates = [prev.coordinator, ...prev.successors, ...listed.map((ip) => this.refOf(ip))];
      if (await this.through(candidates)) return 'member';
      // Of the direct peers the server lists, the lowest id founds; the others wait for it (two
      // founders would be two sources, two numberings).
      if (source.direct && listed.every((ip) => ip >= self.id)) return 'founder';
      await sleep(this.opts.periodMs() / 2, this.stop.signal);
    }
    return 'stopped';
  }

  /**
   * @brief After losing the coordinator: the old one again when it only went silent (a cut link
   * is not a dead coordinator; a closed one is), then the successors in order.
   * @return 'member', 'takeover' (we are the first successor alive), 'server' (nobody left), 'stopped'.
   */
  async rejoin(old: MemberRef, successors: MemberRef[], retryOld: boolean): Promise<'member' | 'takeover' | 'server' | 'stopped'> {
    if (retryOld && (await this.through([old]))) return 'member';
    for (const s of successors) {
      if (this.stop.signal.aborted) return 'stopped';
      if (s.id === this.opts.self.id) return 'takeover';
      if (await this.through([s], old.id)) return 'member';
    }
    return this.stop.signal.aborted ? 'stopped' : 'server';
  }

  /**
   * @brief JOIN through these peers (and their redirects) until one answers with an UPDATE.
   * @param candidates Peers to ask, in order.
   * @param lost A coordinator we know is gone: a candidate that redirects us to it has not seen
   * the loss yet (its link dies a moment after ours); we ask it again for up to one reply
   * timeout instead of passing over it (two successors taking over at once).
   */
  async through(candidates: (MemberRef | null)[], lost = ''): Promise<boolean> {
    const tried = new Set<string>([this.opts.self.id]);
    for (const first of candidates) {
      let target = first;
      const until = Date.now() + this.opts.replyTimeoutMs;
      for (let hop = 0; target && hop < MAX_HOPS && !this.stop.signal.aborted; hop++) {
        if (tried.has(target.id)) break;
        tried.add(target.id);
        const answer = await this.ask(target);
        if (!answer) break;
        if (answer.m.type === 'update') return true;
        if (answer.m.to.id === lost && first && Date.now() < until) {
          await sleep(Math.max(20, this.opts.replyTimeoutMs / 10), this.stop.signal);
          tried.delete(target.id);
          hop--;
          continue;
        }
        target = answer.m.to;
        if (target.id === this.opts.self.id) break; // a direct peer defers to us: we found the overlay
        tried.delete(target.id);
      }
    }
    return false;
  }

  /** Sends JOIN to `ref` and waits for its UPDATE or REDIRECT. */
  private async ask(ref: MemberRef): Promise<{ m: Msg<'update'> | Msg<'redirect'> } | null> {
    let s: Session;
    try {
      s = await this.opts.dial(ref);
    } catch (err) {
      this.opts.log.debug({ peer: ref.id, code: (err as { code?: string }).code }, 'cannot reach this peer to join');
      return null;
    }
    const m = await new Promise<Msg<'update'> | Msg<'redirect'> | null>((resolve) => {
      const timer = setTimeout(() => done(null), this.opts.replyTimeoutMs);
      const onClose = (): void => done(null);
      const done = (x: Msg<'update'> | Msg<'redirect'> | null): void => {
        clearTimeout(timer);
        s.off('close', onClose);
        this.waiting = null;
        resolve(x);
      };
      this.waiting = { id: ref.id, resolve: done };
      if (this.asked.size > 64) this.asked.clear();
      this.asked.set(ref.id, Date.now() + 10 * this.opts.replyTimeoutMs);
      s.once('close', onClose);
      s.send({ type: 'join' });
    });
    return m ? { m } : null;
  }

  /** A listed IP with our own ports (the overlay's convention). */
  private refOf(ip: string): MemberRef {
    return { id: ip, p2pPort: this.opts.self.p2pPort, httpPort: this.opts.self.httpPort };
  }
}
