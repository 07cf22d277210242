/**
 * @file poller.ts
 * @brief Polls GET /status of a set of peers once a second and discovers more through `members`.
 *
 * One timer, owned, cleared by destroy(). Each round asks every known address (with a per-request
 * `AbortSignal.timeout`), keeps the latest good status per address, and adds the HTTP address of
 * every member a status lists, so pointing the dashboard at one peer is enough.
 */
import { EventEmitter } from 'node:events';
import type { PeerStatus } from './types';

/** Options of a Poller. */
export interface PollerOptions {
  /** Initial "HOST:PORT" addresses of peers' HTTP servers. */
  peers: string[];
  /** Round period, ms (default 1000). */
  intervalMs?: number;
  /** Per-request timeout, ms (default 800). */
  timeoutMs?: number;
  /** Largest number of addresses tracked (bounds discovery from strangers' member lists). */
  maxPeers?: number;
}

/** The state after a round: who answered, who did not. */
export interface PollRound {
  /** Latest status per answering address. */
  up: Map<string, PeerStatus>;
  /** Addresses that did not answer this round. */
  down: string[];
}

/**
 * @brief Fetches one status.
 * @param addr "HOST:PORT".
 * @param timeoutMs Request timeout, ms.
 * @return The parsed status.
 */
export async function fetchStatus(addr: string, timeoutMs: number): Promise<PeerStatus> {
  const res = await fetch(`http://${addr}/status`, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`HTTP ${res.status} from ${addr}`);
  return (await res.json()) as PeerStatus;
}

/** Polls peers; emits `round` (PollRound), `discovered` (addr), `up` (addr), `down` (addr). */
export class Poller extends EventEmitter {
  /** Every address tracked, in discovery order. */
  readonly addrs: string[];
  /** Latest status per answering address. */
  readonly up = new Map<string, PeerStatus>();
  private readonly opts: Required<PollerOptions>;
  private timer: NodeJS.Timeout | null = null;
  private busy = false;

  /** @brief Creates a stopped poller. @param opts Addresses and timings. */
  constructor(opts: PollerOptions) {
    super();
    this.opts = { intervalMs: 1000, timeoutMs: 800, maxPeers: 64, ...opts };
    this.addrs = [...new Set(opts.peers)];
  }

  /** @brief Starts polling: one round now, then one per interval. */
  start(): void {
    if (this.timer) return;
    void this.poll();
    this.timer = setInterval(() => void this.poll(), this.opts.intervalMs);
  }

  /**
   * @brief Runs one round (skipped if the previous is still running).
   * @return The round's result.
   */
  async poll(): Promise<PollRound> {
    if (this.busy) return { up: this.up, down: this.addrs.filter((a) => !this.up.has(a)) };
    this.busy = true;
    const down: string[] = [];
    try {
      await Promise.all(this.addrs.map(async (addr) => {
        try {
          const st = await fetchStatus(addr, this.opts.timeoutMs);
          if (!this.up.has(addr)) this.emit('up', addr);
          this.up.set(addr, st);
          for (const m of st.members ?? []) this.add(`${m.ip}:${m.httpPort}`);
        } catch {
          if (this.up.delete(addr)) this.emit('down', addr);
          down.push(addr);
        }
      }));
    } finally {
      this.busy = false;
    }
    const round = { up: this.up, down };
    this.emit('round', round);
    return round;
  }

  /** @brief Stops polling; safe to call twice. */
  destroy(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private add(addr: string): void {
    if (this.addrs.includes(addr) || this.addrs.length >= this.opts.maxPeers) return;
    this.addrs.push(addr);
    this.emit('discovered', addr);
  }
}
