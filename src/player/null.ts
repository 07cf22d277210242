/**
 * @file null.ts
 * @brief The `null` backend: shows nothing, treats a chunk as shown after its duration.
 *
 * Used when no external player is installed, on servers that only relay, and in tests (with a
 * small `chunkSeconds`). One timer at a time: the head of the queue is "playing" until it fires.
 */
import { EventEmitter } from 'node:events';
import type { Backend, BackendEvents, BackendOptions } from './backend';

/** A backend without an external process; playback is a timer per chunk. */
export class NullBackend extends EventEmitter<BackendEvents> implements Backend {
  /** @brief Always `null`. */
  readonly name = 'null' as const;
  /** @brief No external process. */
  readonly pid = null;
  private readonly queue: string[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly chunkMs: number;

  /**
   * @param opts Backend options; only `chunkSeconds` matters.
   */
  constructor(opts: BackendOptions) {
    super();
    this.chunkMs = Math.max(0, opts.chunkSeconds * 1000);
  }

  /** @brief Nothing to launch. */
  async start(): Promise<void> {}

  /**
   * @brief Queues a chunk; it is "shown" after chunkSeconds once it reaches the head.
   * @param file Chunk path.
   */
  enqueue(file: string): void {
    this.queue.push(file);
    this.next();
  }

  /** @brief Drops the queue and the running timer. */
  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.queue.length = 0;
  }

  private next(): void {
    if (this.timer || this.queue.length === 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      const file = this.queue.shift();
      if (file !== undefined) this.emit('shown', file);
      this.next();
    }, this.chunkMs);
  }
}
