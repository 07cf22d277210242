/**
 * @file null.ts
 * @brief The `null` backend: shows nothing, treats a chunk as shown after its duration / speed.
 *
 * Used when no external player is installed, on servers that only relay, and in tests. One timer
 * at a time: the head of the queue is "playing" until it fires, after its real duration (handed
 * in by the Player) divided by the speed. A speed change while a chunk plays rescales what is
 * left of it, as a real player would.
 */
import { EventEmitter } from 'node:events';
import type { Backend, BackendEvents, BackendOptions } from './backend';

/** A queued chunk and its duration of video. */
interface Queued {
  /** Chunk path. */
  file: string;
  /** Seconds of video it holds. */
  seconds: number;
}

/** A backend without an external process; playback is a timer per chunk. */
export class NullBackend extends EventEmitter<BackendEvents> implements Backend {
  /** @brief Always `null`. */
  readonly name = 'null' as const;
  /** @brief No external process. */
  readonly pid = null;
  private readonly queue: Queued[] = [];
  private timer: NodeJS.Timeout | null = null;
  private speed = 1;
  /** Seconds of video of the head not yet played, as of `since`. */
  private headLeftS = 0;
  /** When `headLeftS` was last computed (performance.now(), ms). */
  private since = 0;

  /** @param _opts Backend options (nothing in them matters here). */
  constructor(_opts: BackendOptions) {
    super();
  }

  /** @brief Nothing to launch. */
  async start(): Promise<void> {}

  /**
   * @brief Queues a chunk; it is "shown" after `seconds / speed` once it reaches the head.
   * @param file Chunk path.
   * @param seconds Its duration of video.
   */
  enqueue(file: string, seconds: number): void {
    this.queue.push({ file, seconds: Math.max(0, seconds) });
    if (!this.timer) this.startHead();
  }

  /**
   * @brief Changes the speed; the rest of the playing chunk is rescaled.
   * @param speed Factor of normal speed (> 0).
   */
  setSpeed(speed: number): void {
    if (!(speed > 0) || speed === this.speed) return;
    if (this.timer) {
      const now = performance.now();
      this.headLeftS = Math.max(0, this.headLeftS - ((now - this.since) / 1000) * this.speed);
      this.since = now;
      clearTimeout(this.timer);
      this.speed = speed;
      this.arm();
    } else {
      this.speed = speed;
    }
  }

  /** @brief Drops the queue and the running timer. */
  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.queue.length = 0;
  }

  private startHead(): void {
    const head = this.queue[0];
    if (!head) return;
    this.headLeftS = head.seconds;
    this.since = performance.now();
    this.arm();
  }

  private arm(): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      const done = this.queue.shift();
      this.startHead();
      if (done) this.emit('shown', done.file);
    }, (this.headLeftS / this.speed) * 1000);
  }
}
