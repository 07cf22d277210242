/**
 * @file player.ts
 * @brief The Player: feeds a folder's chunks to a backend in order, at a speed that keeps pace
 *        with live, and deletes each once shown.
 *
 * How it works: the FolderWatcher reports the folder's complete chunks; new names go into the
 * ordered `pending` queue, stamped with their arrival time, and are probed one at a time for
 * their duration (ffprobe; the nominal `chunkSeconds` when it cannot be read). `pump()` is the
 * one place decisions are made:
 *  - before the first chunk plays, wait until `buffer` chunks are pending;
 *  - keep PLAYER_LOOKAHEAD chunks handed to the backend (`inFlight`, in order, each once its
 *    duration is known), so it never runs dry while the next chunk is already here;
 *  - when a chunk starts, decidePace (pace.ts) picks its speed from the arrival rate and the
 *    backlog (PLAYER_SPEED_MIN..PLAYER_SPEED_MAX, pitch kept by the backend), and, only at the
 *    top speed with more than `maxBehind` chunks waiting, skips the oldest pending one: one per
 *    chunk started, never a backlog at once;
 *  - when the backend has nothing left to play, count one stall; playback resumes with the next
 *    chunk that arrives.
 * A chunk the backend reports as shown is deleted. A chunk arriving with a sequence number at or
 * below one already handed over is too late to play in order: deleted and counted as skipped.
 * If the external player dies, the chunks it held (undeleted) go back to the head of `pending`
 * and it is restarted after PLAYER_RESTART_DELAY_MS; too many restarts in a row without a chunk
 * shown emit `fatal` (BACKEND_FAILED). Over ~300 lines: the pace bookkeeping (arrivals,
 * durations, the playing chunk's clock) belongs with the queue it describes; the decision
 * itself is pace.ts, the probing probe.ts.
 */
import { EventEmitter } from 'node:events';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { PLAYER_LOOKAHEAD, PLAYER_MAX_FAILED_RESTARTS, PLAYER_RESTART_DELAY_MS } from '../constants';
import { relayError } from '../errors';
import type { Logger } from '../log';
import type { Backend } from './backend';
import { checkFolder, seqOfFileName } from './folder';
import { ArrivalWindow, decidePace } from './pace';
import { noDurationProbe, ProbeQueue, type DurationProbe, type ProbeItem } from './probe';
import { FolderWatcher } from './watcher';

/** Counters and pace figures reported after every change (and sent to the parent peer over IPC). */
export interface PlayerStats {
  /** Chunks shown and deleted. */
  played: number;
  /** Times playback ran dry waiting for the next chunk. */
  stalls: number;
  /** Chunks deleted without being shown (too far behind even at top speed, or arrived too late). */
  skipped: number;
  /** Times the external player died and was restarted. */
  restarts: number;
  /** File name being shown now, or null. */
  current: string | null;
  /** Playback speed now, factor of normal (PLAYER_SPEED_MIN..PLAYER_SPEED_MAX). */
  speed: number;
  /** Distance to live, s: video received and not yet shown (the rest of the current chunk included). */
  behindS: number;
  /** Chunks received and not yet shown, the current one included. */
  pending: number;
  /** Measured mean seconds between two chunk arrivals, or null until two arrived while playing. */
  cadenceS: number | null;
  /** Measured mean seconds of video per chunk (recent arrivals), or null until one was probed. */
  chunkS: number | null;
}

/** Events of a Player. */
export interface PlayerEvents {
  /** Any counter or the current chunk changed. */
  stats: [stats: PlayerStats];
  /** The external player cannot be kept running: the Player has stopped. */
  fatal: [err: Error];
}

/** Options of a Player (durations are options so tests can shorten them). */
export interface PlayerOptions {
  /** Chunk folder. */
  dir: string;
  /** External player (already constructed, not started). */
  backend: Backend;
  /** Chunks to wait for before the first one plays (>= 1); also the backlog the pace control holds. */
  buffer: number;
  /** Chunks waiting (current included) beyond which, at top speed, one is skipped (>= buffer). */
  maxBehind: number;
  /** Folder poll period, ms. */
  pollMs: number;
  /** Logger. */
  log: Logger;
  /** Reads a chunk's duration (default: none, every chunk is `chunkSeconds`). */
  probe?: DurationProbe;
  /** Seconds per chunk when its duration cannot be read. */
  chunkSeconds: number;
  /** Wait before restarting a dead external player, ms. */
  restartDelayMs?: number;
}

/** Plays a chunk folder through a backend. */
export class Player extends EventEmitter<PlayerEvents> {
  private readonly stats: PlayerStats = {
    played: 0, stalls: 0, skipped: 0, restarts: 0, current: null, speed: 1, behindS: 0, pending: 0, cadenceS: null, chunkS: null,
  };
  private readonly watcher: FolderWatcher;
  private pending: string[] = [];
  private inFlight: string[] = [];
  /** Names shown or skipped (deleted or being deleted): never queued again. */
  private readonly done = new Set<string>();
  /** Seconds of video of each waiting chunk, once probed. */
  private readonly durations = new Map<string, number>();
  private readonly probes: ProbeQueue;
  private readonly arrivals = new ArrivalWindow();
  private lastArrivalMs: number | null = null;
  private lastProbedS: number | null = null;
  /** The chunk playing now and when it started (performance.now(), ms). */
  private head: string | null = null;
  private headSinceMs = 0;
  private scanned = false;
  private lastHandedSeq = -1;
  private started = false;
  private stalled = false;
  private restarting: NodeJS.Timeout | null = null;
  private failedRestarts = 0;
  private stopped = false;
  private lastSent = '';

  /** @param opts Folder, backend, buffering, probing and timing options. */
  constructor(private readonly opts: PlayerOptions) {
    super();
    this.probes = new ProbeQueue(opts.probe ?? noDurationProbe, (name) => this.pending.includes(name),
      (item, seconds) => this.onProbed(item, seconds));
    this.watcher = new FolderWatcher({ dir: opts.dir, pollMs: opts.pollMs, log: opts.log });
    this.watcher.on('scan', (names) => this.onScan(names));
    opts.backend.on('shown', (file) => this.onShown(path.basename(file)));
    opts.backend.on('exit', (reason) => this.onBackendExit(reason));
  }

  /** @brief A copy of the current counters and pace figures. */
  snapshot(): PlayerStats {
    return { ...this.stats };
  }

  /**
   * @brief Checks the folder, launches the backend and starts watching.
   * @return Rejects with DIR_MISSING, DIR_UNWRITABLE or BACKEND_FAILED.
   */
  async start(): Promise<void> {
    await checkFolder(this.opts.dir, true);
    await this.opts.backend.start();
    this.watcher.start();
    this.emitStats();
  }

  /** @brief Stops watching and the external player; undeleted chunks stay in the folder. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.watcher.stop();
    this.probes.stop();
    if (this.restarting) clearTimeout(this.restarting);
    this.restarting = null;
    await this.opts.backend.stop();
  }

  private onScan(names: string[]): void {
    const now = performance.now();
    const present = new Set(names);
    for (const gone of this.pending.filter((n) => !present.has(n))) this.forget(gone); // removed by someone else
    this.pending = this.pending.filter((n) => present.has(n));
    const queued = new Set([...this.pending, ...this.inFlight]);
    const fresh: ProbeItem[] = [];
    for (const name of names) {
      if (queued.has(name) || this.done.has(name)) continue;
      if ((seqOfFileName(name) ?? -1) <= this.lastHandedSeq) {
        this.skip(name);
        continue;
      }
      this.pending.push(name);
      fresh.push({ name, file: path.join(this.opts.dir, name), atMs: this.scanned ? now : null });
    }
    if (fresh.length > 0 && this.scanned) this.lastArrivalMs = now;
    this.scanned = true;
    this.pending.sort();
    for (const item of fresh) this.probes.add(item);
    this.pump();
  }

  /** A chunk's duration is known (null: unreadable, or no longer waiting). */
  private onProbed(item: ProbeItem, measured: number | null): void {
    if (measured !== null) this.lastProbedS = measured;
    const seconds = measured ?? this.lastProbedS ?? this.opts.chunkSeconds;
    if (item.atMs !== null) this.arrivals.add(item.atMs, seconds);
    if (this.pending.includes(item.name)) this.durations.set(item.name, seconds);
    this.pump();
  }

  private pump(): void {
    if (this.stopped || this.restarting) return;
    if (!this.started && this.pending.length < this.opts.buffer) return this.emitStats();
    this.started = true;
    while (this.inFlight.length < PLAYER_LOOKAHEAD && this.pending.length > 0 && this.durations.has(this.pending[0])) {
      const name = this.pending.shift()!;
      this.inFlight.push(name);
      this.lastHandedSeq = Math.max(this.lastHandedSeq, seqOfFileName(name) ?? -1);
      this.opts.backend.enqueue(path.resolve(this.opts.dir, name), this.durations.get(name)!);
    }
    if ((this.inFlight[0] ?? null) !== this.head) {
      this.head = this.inFlight[0] ?? null;
      this.headSinceMs = performance.now();
      if (this.head !== null) this.onChunkStart();
    }
    if (this.inFlight.length === 0 && this.lastHandedSeq >= 0 && !this.stalled) {
      this.stalled = true;
      this.stats.stalls++;
      this.opts.log.info('stall: waiting for the next chunk');
    } else if (this.inFlight.length > 0) {
      this.stalled = false;
    }
    this.stats.current = this.head;
    this.emitStats();
  }

  /** A chunk starts: choose its speed; at top speed and too far behind, skip the oldest pending. */
  private onChunkStart(): void {
    const chunkS = this.chunkS();
    const decision = decidePace({
      rate: this.arrivals.rate(),
      behindS: this.waitingS(),
      sinceArrivalS: this.lastArrivalMs === null ? 0 : (performance.now() - this.lastArrivalMs) / 1000,
      chunkS,
      targetS: this.opts.buffer * chunkS,
      waiting: this.inFlight.length + this.pending.length,
      maxBehind: this.opts.maxBehind,
    });
    if (decision.skip && this.pending.length > 0) {
      const name = this.pending.shift()!;
      this.opts.log.info({ skipped: name, waiting: this.inFlight.length + this.pending.length }, 'behind live at top speed; skipping one chunk');
      this.skip(name);
    }
    if (decision.speed !== this.stats.speed) {
      this.stats.speed = decision.speed;
      this.opts.backend.setSpeed(decision.speed);
    }
  }

  /** Seconds of video per chunk: the recent arrivals' mean, else the last probed, else nominal. */
  private chunkS(): number {
    return this.arrivals.chunkS() ?? this.lastProbedS ?? this.opts.chunkSeconds;
  }

  /** Seconds of video waiting, the whole current chunk included. */
  private waitingS(): number {
    let total = 0;
    for (const name of [...this.inFlight, ...this.pending]) total += this.durations.get(name) ?? this.chunkS();
    return total;
  }

  private onShown(name: string): void {
    if (this.stopped) return;
    const at = this.inFlight.indexOf(name);
    if (at < 0) return;
    this.inFlight.splice(at, 1);
    this.failedRestarts = 0;
    this.stats.played++;
    this.remove(name);
    this.pump();
  }

  private skip(name: string): void {
    this.stats.skipped++;
    this.remove(name);
  }

  /** Deletes a shown or skipped chunk; it is never queued again. */
  private remove(name: string): void {
    this.forget(name);
    this.done.add(name);
    if (this.done.size > 1024) for (const old of [...this.done].sort().slice(0, 512)) this.done.delete(old);
    fs.unlink(path.join(this.opts.dir, name)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') this.opts.log.error({ file: name, err: err.message }, 'cannot delete a chunk');
    });
  }

  /** Drops what is known about a chunk that no longer waits. */
  private forget(name: string): void {
    this.durations.delete(name);
  }

  private onBackendExit(reason: string): void {
    if (this.stopped) return;
    this.opts.log.warn({ reason }, 'external player died; restarting it');
    this.stats.restarts++;
    this.pending = [...this.inFlight, ...this.pending];
    this.inFlight = [];
    this.head = null;
    this.stats.current = null;
    this.emitStats();
    if (++this.failedRestarts > PLAYER_MAX_FAILED_RESTARTS) {
      void this.stop();
      this.emit('fatal', relayError('BACKEND_FAILED', `${this.opts.backend.name} keeps dying: ${reason}`));
      return;
    }
    this.restarting = setTimeout(() => {
      this.opts.backend.start().then(
        () => {
          this.restarting = null;
          if (this.stopped) void this.opts.backend.stop();
          else this.pump();
        },
        (err: Error) => {
          this.restarting = null;
          this.onBackendExit(err.message);
        },
      );
    }, this.opts.restartDelayMs ?? PLAYER_RESTART_DELAY_MS);
  }

  /** Sends the stats when a counter changed; the pace figures are refreshed with them. */
  private emitStats(): void {
    const { behindS: _b, cadenceS: _c, chunkS: _k, ...counters } = this.stats;
    const key = JSON.stringify({ ...counters, pending: this.inFlight.length + this.pending.length });
    if (key === this.lastSent) return;
    this.lastSent = key;
    const playedS = this.head === null ? 0
      : Math.min(this.durations.get(this.head) ?? 0, ((performance.now() - this.headSinceMs) / 1000) * this.stats.speed);
    this.stats.pending = this.inFlight.length + this.pending.length;
    this.stats.behindS = round(Math.max(0, this.waitingS() - playedS), 1);
    const cadence = this.arrivals.cadenceS();
    const chunk = this.arrivals.chunkS() ?? this.lastProbedS;
    this.stats.cadenceS = cadence === null ? null : round(cadence, 2);
    this.stats.chunkS = chunk === null ? null : round(chunk, 3);
    this.emit('stats', this.snapshot());
  }
}

/** Rounds to `digits` decimals (stats are for people and dashboards). */
function round(value: number, digits: number): number {
  return Number(value.toFixed(digits));
}
