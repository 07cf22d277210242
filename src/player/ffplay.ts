/**
 * @file ffplay.ts
 * @brief The ffplay backend: one `ffplay -autoexit` process per chunk, in order.
 *
 * ffplay has no control channel, so each chunk is its own process; a window reopens between
 * chunks (a short visible gap: prefer mpv). Exit code 0 means the chunk was shown; a non-zero
 * exit code (undecodable chunk) is logged and the chunk counts as shown so playback moves on;
 * death by a signal we did not send is reported as `exit`. Headless: `-nodisp` and SDL's dummy
 * audio driver (without it ffplay fails when there is no sound card).
 * Speed: ffplay has no speed control, so each chunk's process is started at the speed current
 * then (`-af atempo=S`, which keeps the pitch, and `-vf setpts=PTS/S`); a change applies from
 * the next chunk. Started safely: `-protocol_whitelist file` (an HLS, ffconcat or other
 * reference inside a chunk can only reach local files, never the network; ffmpeg's concat
 * demuxer also refuses URLs by its default `safe=1`). ffplay reads no config file or scripts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { tailOf, type Backend, type BackendEvents, type BackendOptions } from './backend';
import { stopChild } from './process';

/** Options that stop ffplay from opening anything but local files through a chunk. */
export const FFPLAY_SAFE_ARGS = ['-protocol_whitelist', 'file'] as const;

/** ffplay, one process per chunk. */
export class FfplayBackend extends EventEmitter<BackendEvents> implements Backend {
  /** @brief Always `ffplay`. */
  readonly name = 'ffplay' as const;
  private child: ChildProcess | null = null;
  private readonly queue: string[] = [];
  private stopping = false;
  private speed = 1;

  /** @param opts Backend options (`headless`, `binary`, `log`). */
  constructor(private readonly opts: BackendOptions) {
    super();
  }

  /** @brief Process id of the ffplay showing the current chunk, or null. */
  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** @brief Nothing runs until the first chunk. */
  async start(): Promise<void> {
    this.stopping = false;
  }

  /**
   * @brief Queues a chunk; it plays when the previous ffplay has exited.
   * @param file Absolute chunk path.
   * @param _seconds Its duration (ffplay reads it from the file).
   */
  enqueue(file: string, _seconds: number): void {
    this.queue.push(file);
    queueMicrotask(() => this.next()); // after the caller's turn: a speed it sets now applies to this chunk
  }

  /**
   * @brief Sets the speed of the chunks started from now on (ffplay cannot change it mid-file).
   * @param speed Factor of normal speed (atempo accepts 0.5..100).
   */
  setSpeed(speed: number): void {
    if (speed > 0) this.speed = speed;
  }

  /** @brief Kills the running ffplay and drops the queue. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.queue.length = 0;
    const child = this.child;
    this.child = null;
    if (child) await stopChild(child, true);
  }

  private next(): void {
    if (this.child || this.stopping || this.queue.length === 0) return;
    const file = this.queue[0];
    const args = ['-autoexit', '-hide_banner', '-loglevel', 'error', '-window_title', 'relaytv', ...FFPLAY_SAFE_ARGS];
    if (this.opts.headless) args.push('-nodisp');
    if (this.speed !== 1) args.push('-af', `atempo=${this.speed}`, '-vf', `setpts=PTS/${this.speed}`);
    const env = this.opts.headless ? { ...process.env, SDL_AUDIODRIVER: 'dummy' } : process.env;
    const child = spawn(this.opts.binary ?? 'ffplay', [...args, file], { stdio: ['ignore', 'ignore', 'pipe'], env });
    this.child = child;
    const tail = tailOf(child.stderr);
    let reported = false;
    const done = (code: number | null, signal: string | null, error?: Error): void => {
      if (reported || this.child !== child) return;
      reported = true;
      this.child = null;
      if (this.stopping) return;
      if (signal !== null || error) {
        this.queue.length = 0;
        this.emit('exit', `ffplay ${error ? error.message : `killed by ${signal}`} ${tail()}`);
        return;
      }
      if (code !== 0) this.opts.log.warn({ file, code, stderr: tail() }, 'ffplay failed on a chunk; dropping it');
      this.queue.shift();
      this.emit('shown', file);
      this.next();
    };
    child.once('exit', (code, signal) => done(code, signal));
    child.once('error', (err) => done(null, null, err));
  }
}
