/**
 * @file channel.ts
 * @brief One channel of the streaming server: its clients and its push loop.
 *
 * How it works: the loop takes the current chunk, pushes it to every client of the channel
 * (each on a new connection, see push.ts), advances the chunk index (wrapping), then sleeps
 * `period * ROUND_SLEEP_FRACTION` minus the time the round took, like the course's server.
 * The index advances with or without clients (live TV), so a client that joins starts at the
 * chunk being transmitted now.
 *
 * Pushes of one round run concurrently, each bounded by `pushTimeoutMs`, so a slow client
 * costs at most that bound and never delays the others' bytes. Spec fault rule: a failed
 * push marks the client; a second consecutive failure removes it; a success clears the mark.
 * A failure of our own host (EMFILE, ENOBUFS, ...) is no client's fault and counts for nobody.
 * The loop never stops on a push failure, except with `fragile`: then, like the course's
 * server, the first refused push stops the channel for good (CHANNEL_STOPPED).
 */
import type { Logger } from '../log';
import type { Metrics } from '../metrics/index';
import type { ContentChunk } from '../content/chunks';
import { ROUND_SLEEP_FRACTION } from '../constants';
import { push, LOCAL_ERRORS, type PushError } from './push';
import type { Transport } from '../transport/transport';

/** Options of a channel. */
export interface ChannelOptions {
  /** Channel number. */
  id: number;
  /** Chunks in play order (at least one). */
  chunks: ContentChunk[];
  /** Client data port (9091). */
  dataPort: number;
  /** Maximum direct clients. */
  maxClients: number;
  /** Chunk period, seconds. */
  periodS: number;
  /** Time limit of one push, ms. */
  pushTimeoutMs: number;
  /** Logger. */
  log: Logger;
  /** Optional metrics. */
  metrics?: Metrics;
  /**
   * The course server's behaviour instead of the specification's: the first refused push stops
   * this channel for good (the client stays counted). For tests of crash survival.
   */
  fragile?: boolean;
  /** How pushes reach clients (TCP unless a test says otherwise). */
  transport?: Transport;
  /** Source address of the pushes (the server's own address; undefined for a wildcard bind). */
  localAddress?: string;
}

/** A channel's clients and push loop. */
export class Channel {
  /** Channel number. */
  readonly id: number;
  /** Client IPs in join order (the `11C` order). */
  private readonly clients: string[] = [];
  /** IPs whose last push failed (removed on the next failure). */
  private readonly failedOnce = new Set<string>();
  /** Index of the next chunk to push. */
  private index = 0;
  /** Cancels the sleep and in-flight pushes on close. */
  private readonly abort = new AbortController();
  /** The running loop (resolved when closed). */
  private loop: Promise<void> | null = null;
  /** Set when a fragile channel stopped for good. */
  stopped = false;
  private readonly opts: ChannelOptions;

  /** @brief Creates a stopped channel. @param opts Content, limits, timing, log. */
  constructor(opts: ChannelOptions) {
    this.opts = opts;
    this.id = opts.id;
  }

  /** @brief The client IPs in join order. @return A copy. */
  list(): string[] {
    return [...this.clients];
  }

  /** @brief Whether `ip` is a client. @param ip Client IP. */
  has(ip: string): boolean {
    return this.clients.includes(ip);
  }

  /**
   * @brief Adds a client if there is room.
   * @param ip Client IP (not already a client).
   * @return true when added, false when the channel is full.
   */
  add(ip: string): boolean {
    if (this.clients.length >= this.opts.maxClients) return false;
    this.clients.push(ip);
    this.failedOnce.delete(ip);
    this.gauge();
    return true;
  }

  /** @brief Removes a client if present. @param ip Client IP. @return true when it was there. */
  remove(ip: string): boolean {
    const i = this.clients.indexOf(ip);
    this.failedOnce.delete(ip);
    if (i < 0) return false;
    this.clients.splice(i, 1);
    this.gauge();
    return true;
  }

  /** @brief Starts the push loop (once). */
  start(): void {
    this.loop ??= this.run();
  }

  /** @brief Stops the loop, cancelling the sleep and in-flight pushes. */
  async close(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  /** The loop: round, sleep, until closed. */
  private async run(): Promise<void> {
    const { periodS, chunks, log, metrics } = this.opts;
    const label = { channel: String(this.id) };
    while (!this.abort.signal.aborted && !this.stopped) {
      const t0 = performance.now();
      const chunk = chunks[this.index];
      const seq = this.index;
      this.index = (this.index + 1) % chunks.length;
      const targets = this.list();
      await Promise.all(targets.map((ip) => this.pushTo(ip, chunk)));
      if (this.abort.signal.aborted || this.stopped) break;
      const took = (performance.now() - t0) / 1000;
      metrics?.rounds.inc(label);
      metrics?.roundSeconds.observe(label, took);
      log.debug({ channel: this.id, chunk: chunk.name, index: seq, clients: targets.length, seconds: took }, 'round');
      await this.sleep(Math.max(0, periodS * ROUND_SLEEP_FRACTION - took) * 1000);
    }
  }

  /** Pushes one chunk to one client and applies the skip-then-remove rule. */
  private async pushTo(ip: string, chunk: ContentChunk): Promise<void> {
    const { dataPort, pushTimeoutMs, log, metrics } = this.opts;
    const label = { channel: String(this.id) };
    try {
      await push({ host: ip, port: dataPort, data: chunk.data, timeoutMs: pushTimeoutMs, signal: this.abort.signal, transport: this.opts.transport, localAddress: this.opts.localAddress });
      this.failedOnce.delete(ip);
      metrics?.sentBytes.inc({ peer: ip }, chunk.data.length);
    } catch (err) {
      const e = err as PushError;
      if (e.code !== 'PUSH_FAILED') throw err;
      if (e.kind === 'aborted' || !this.has(ip)) return;
      if (LOCAL_ERRORS.has(e.kind)) {
        log.error({ channel: this.id, ip, code: 'LOCAL_ERROR', cause: e.kind }, 'push failed on our own host: not counted against the client');
        return;
      }
      metrics?.failedPushes.inc(label);
      if (this.opts.fragile && e.kind === 'ECONNREFUSED') {
        this.stopped = true;
        log.error({ channel: this.id, ip, code: 'CHANNEL_STOPPED', cause: e.kind }, 'refused push: this channel stops for good (--fragile, as the course server)');
        return;
      }
      if (this.failedOnce.has(ip)) {
        this.remove(ip);
        log.warn({ channel: this.id, ip, chunk: chunk.name, code: e.code, cause: e.kind }, 'client removed after two failed pushes');
      } else {
        this.failedOnce.add(ip);
        log.warn({ channel: this.id, ip, chunk: chunk.name, code: e.code, cause: e.kind }, 'push failed, client skipped');
      }
    }
  }

  /** A sleep that close() cancels. */
  private sleep(ms: number): Promise<void> {
    const signal = this.abort.signal;
    if (signal.aborted || ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const onAbort = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Publishes the client count. */
  private gauge(): void {
    this.opts.metrics?.channelClients.set({ channel: String(this.id) }, this.clients.length);
  }
}
