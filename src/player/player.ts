/**
 * @file player.ts
 * @brief The Player: feeds a folder's chunks to a backend in order and deletes each once shown.
 *
 * How it works: the FolderWatcher reports the folder's complete chunks; new names go into the
 * ordered `pending` queue. `pump()` is the one place decisions are made:
 *  - before the first chunk plays, wait until `buffer` chunks are pending;
 *  - when more than `maxBehind` are pending (we fell behind live), delete the oldest so that
 *    `buffer` remain, counting them as skipped;
 *  - keep PLAYER_LOOKAHEAD chunks handed to the backend (`inFlight`), so it never runs dry
 *    while the next chunk is already here (no visible gap);
 *  - when the backend has shown everything and nothing is pending, count one stall; playback
 *    resumes with the next chunk that arrives.
 * A chunk the backend reports as shown is deleted. A chunk arriving with a sequence number at or
 * below one already handed over is too late to play in order: deleted and counted as skipped.
 * If the external player dies, the chunks it held (undeleted) go back to the head of `pending`
 * and it is restarted after PLAYER_RESTART_DELAY_MS; too many restarts in a row without a chunk
 * shown emit `fatal` (BACKEND_FAILED).
 */
import { EventEmitter } from 'node:events';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { PLAYER_LOOKAHEAD, PLAYER_MAX_FAILED_RESTARTS, PLAYER_RESTART_DELAY_MS } from '../constants';
import { relayError } from '../errors';
import type { Logger } from '../log';
import type { Backend } from './backend';
import { checkFolder, seqOfFileName } from './folder';
import { FolderWatcher } from './watcher';

/** Counters reported after every change (and sent to the parent peer over IPC). */
export interface PlayerStats {
  /** Chunks shown and deleted. */
  played: number;
  /** Times playback ran dry waiting for the next chunk. */
  stalls: number;
  /** Chunks deleted without being shown (catch-up to live, or arrived too late). */
  skipped: number;
  /** Times the external player died and was restarted. */
  restarts: number;
  /** File name being shown now, or null. */
  current: string | null;
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
  /** Chunks to wait for before the first one plays (>= 1). */
  buffer: number;
  /** Pending chunks beyond which we skip ahead to live (>= buffer). */
  maxBehind: number;
  /** Folder poll period, ms. */
  pollMs: number;
  /** Logger. */
  log: Logger;
  /** Wait before restarting a dead external player, ms. */
  restartDelayMs?: number;
}

/** Plays a chunk folder through a backend. */
export class Player extends EventEmitter<PlayerEvents> {
  private readonly stats: PlayerStats = { played: 0, stalls: 0, skipped: 0, restarts: 0, current: null };
  private readonly watcher: FolderWatcher;
  private pending: string[] = [];
  private inFlight: string[] = [];
  /** Names shown or skipped (deleted or being deleted): never queued again. */
  private readonly done = new Set<string>();
  private lastHandedSeq = -1;
  private started = false;
  private stalled = false;
  private restarting: NodeJS.Timeout | null = null;
  private failedRestarts = 0;
  private stopped = false;
  private lastSent = '';

  /** @param opts Folder, backend, buffering and timing options. */
  constructor(private readonly opts: PlayerOptions) {
    super();
    this.watcher = new FolderWatcher({ dir: opts.dir, pollMs: opts.pollMs, log: opts.log });
    this.watcher.on('scan', (names) => this.onScan(names));
    opts.backend.on('shown', (file) => this.onShown(path.basename(file)));
    opts.backend.on('exit', (reason) => this.onBackendExit(reason));
  }

  /** @brief A copy of the current counters. */
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
    if (this.restarting) clearTimeout(this.restarting);
    this.restarting = null;
    await this.opts.backend.stop();
  }

  private onScan(names: string[]): void {
    const present = new Set(names);
    this.pending = this.pending.filter((n) => present.has(n)); // removed by someone else
    const queued = new Set([...this.pending, ...this.inFlight]);
    for (const name of names) {
      if (queued.has(name) || this.done.has(name)) continue;
      if ((seqOfFileName(name) ?? -1) <= this.lastHandedSeq) this.skip(name);
      else this.pending.push(name);
    }
    this.pending.sort();
    this.pump();
  }

  private pump(): void {
    if (this.stopped || this.restarting) return;
    if (!this.started && this.pending.length < this.opts.buffer) return;
    this.started = true;
    if (this.pending.length > this.opts.maxBehind) {
      const late = this.pending.splice(0, this.pending.length - this.opts.buffer);
      this.opts.log.info({ skipped: late.length }, 'fell behind live; skipping ahead');
      for (const name of late) this.skip(name);
    }
    while (this.inFlight.length < PLAYER_LOOKAHEAD && this.pending.length > 0) {
      const name = this.pending.shift()!;
      this.inFlight.push(name);
      this.lastHandedSeq = Math.max(this.lastHandedSeq, seqOfFileName(name) ?? -1);
      this.opts.backend.enqueue(path.resolve(this.opts.dir, name));
    }
    if (this.inFlight.length === 0 && !this.stalled) {
      this.stalled = true;
      this.stats.stalls++;
      this.opts.log.info('stall: waiting for the next chunk');
    } else if (this.inFlight.length > 0) {
      this.stalled = false;
    }
    this.stats.current = this.inFlight[0] ?? null;
    this.emitStats();
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
    this.done.add(name);
    if (this.done.size > 1024) for (const old of [...this.done].sort().slice(0, 512)) this.done.delete(old);
    fs.unlink(path.join(this.opts.dir, name)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') this.opts.log.error({ file: name, err: err.message }, 'cannot delete a chunk');
    });
  }

  private onBackendExit(reason: string): void {
    if (this.stopped) return;
    this.opts.log.warn({ reason }, 'external player died; restarting it');
    this.stats.restarts++;
    this.pending = [...this.inFlight, ...this.pending];
    this.inFlight = [];
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

  private emitStats(): void {
    const text = JSON.stringify(this.stats);
    if (text === this.lastSent) return;
    this.lastSent = text;
    this.emit('stats', this.snapshot());
  }
}
