/**
 * @file watcher.ts
 * @brief Watches the chunk folder and reports its complete chunks, in play order.
 *
 * fs.watch gives low latency; a slow poll (pollMs) covers the filesystems where fs.watch misses
 * events or the folder is replaced. Either trigger runs one scan (readdir + CHUNK_FILE_RE); scans
 * never overlap and triggers during a scan coalesce into one more scan. Each scan emits the full
 * sorted list: the consumer diffs it, so a missed event can never lose a chunk.
 */
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import type { Logger } from '../log';
import { listPending } from './folder';

/** Events of a FolderWatcher. */
export interface WatcherEvents {
  /** Complete chunk file names present in the folder, sorted in play order. */
  scan: [names: string[]];
}

/** Options of a FolderWatcher. */
export interface WatcherOptions {
  /** Chunk folder. */
  dir: string;
  /** Poll period, ms. */
  pollMs: number;
  /** Logger. */
  log: Logger;
}

/** fs.watch plus a slow poll over a chunk folder. */
export class FolderWatcher extends EventEmitter<WatcherEvents> {
  private watcher: fs.FSWatcher | null = null;
  private poll: NodeJS.Timeout | null = null;
  private scanning = false;
  private again = false;
  private closed = false;

  /** @param opts Folder, poll period, logger. */
  constructor(private readonly opts: WatcherOptions) {
    super();
  }

  /** @brief Starts watching and runs a first scan at once. */
  start(): void {
    this.closed = false;
    try {
      this.watcher = fs.watch(this.opts.dir, { persistent: false }, () => this.trigger());
      this.watcher.on('error', (err) => {
        this.opts.log.warn({ err: err.message }, 'fs.watch failed; polling only');
        this.watcher?.close();
        this.watcher = null;
      });
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'fs.watch unavailable; polling only');
    }
    this.poll = setInterval(() => this.trigger(), this.opts.pollMs);
    this.trigger();
  }

  /** @brief Stops the watch and the poll; no `scan` event after. */
  stop(): void {
    this.closed = true;
    this.watcher?.close();
    this.watcher = null;
    if (this.poll) clearInterval(this.poll);
    this.poll = null;
  }

  /** @brief Requests a scan (coalesced with one already running). */
  trigger(): void {
    if (this.closed) return;
    if (this.scanning) {
      this.again = true;
      return;
    }
    this.scanning = true;
    listPending(this.opts.dir)
      .then((names) => {
        if (!this.closed) this.emit('scan', names);
      })
      .catch((err: Error) => this.opts.log.warn({ err: err.message }, 'cannot read the chunk folder'))
      .finally(() => {
        this.scanning = false;
        if (this.again) {
          this.again = false;
          this.trigger();
        }
      });
  }
}
