/**
 * @file vlc.ts
 * @brief The VLC backend: one long-lived `cvlc -I oldrc --rc-unix <socket>` driven by text commands.
 *
 * How it works: chunks go in with `enqueue <path>` while VLC plays (`add <path>` when it is
 * stopped, which also starts playback). The rc interface reports `status change: ( new input:
 * <uri> )` when an entry starts and `status change: ( stop state: N )` when the input ends; an
 * entry is shown once a later one starts or VLC stops after it. VLC refuses to run as root.
 * Headless: `--vout=dummy --aout=dummy`. Speed: `--rate` at start, then the rc `rate <S>`
 * command; VLC keeps the pitch (`--audio-time-stretch`, its default, made explicit).
 * The interface is `oldrc`, VLC 3's C remote control: on Linux `-I rc` names the Lua CLI, which
 * has no `--rc-unix` and which `--no-lua` disables.
 * Started safely (VLC 3.0 option names, from its source): `--demux=mkv` (chunks are Matroska; VLC
 * has no protocol whitelist, and without this its playlist demuxer would read an M3U/PLS/XSPF
 * "chunk" and play the URLs in it), `--no-lua` (no Lua playlist parsers, meta fetchers or
 * extensions, which fetch URLs), `--no-metadata-network-access`, `--no-mkv-preload-local-dir`
 * (no opening other files of the folder as linked segments), `--no-sub-autodetect-file`.
 * Not exercised by the test suite: VLC is not installed there (and refuses to run as root).
 */
import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Backend, BackendEvents, BackendOptions } from './backend';
import { spawnControlled, stopChild } from './process';

/** Options that stop VLC from following references inside a chunk or opening the network. */
export const VLC_SAFE_ARGS = ['--demux=mkv', '--no-lua', '--no-metadata-network-access', '--no-mkv-preload-local-dir',
  '--no-sub-autodetect-file'] as const;

/** VLC controlled through its remote-control (rc) interface on a unix socket. */
export class VlcBackend extends EventEmitter<BackendEvents> implements Backend {
  /** @brief Always `vlc`. */
  readonly name = 'vlc' as const;
  private child: ChildProcess | null = null;
  private sock: net.Socket | null = null;
  private socketPath = '';
  /** Enqueued and not yet shown, in order; the head is playing when `playing`. */
  private readonly queue: string[] = [];
  private playing = false;
  private stopping = false;
  private speed = 1;

  /** @param opts Backend options (`headless`, `binary`, `log`). */
  constructor(private readonly opts: BackendOptions) {
    super();
  }

  /** @brief Process id of the running VLC, or null. */
  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** @brief Spawns cvlc with the rc interface on a unix socket and connects to it. */
  async start(): Promise<void> {
    this.stopping = false;
    this.socketPath = path.join(os.tmpdir(), `relaytv-vlc-${process.pid}-${randomBytes(4).toString('hex')}.sock`);
    const args = ['-I', 'oldrc', '--rc-unix', this.socketPath, '--rc-fake-tty', '--no-loop', '--no-repeat',
      '--no-video-title-show', '--quiet', ...VLC_SAFE_ARGS, '--audio-time-stretch', `--rate=${this.speed}`];
    if (this.opts.headless) args.push('--vout=dummy', '--aout=dummy');
    const { child, sock, died } = await spawnControlled('vlc', this.opts.binary ?? 'cvlc', args, this.socketPath,
      (line) => this.onLine(line)).catch(async (err: Error) => {
      await this.stop();
      throw err;
    });
    this.child = child;
    this.sock = sock;
    this.opts.log.info({ childPid: child.pid }, 'vlc started');
    void died.then((reason) => {
      if (this.child !== child) return;
      this.child = null;
      this.cleanup();
      if (!this.stopping) this.emit('exit', reason);
    });
  }

  /**
   * @brief Sets VLC's playback rate (rc `rate`); also passed as `--rate` on restart.
   * @param speed Factor of normal speed.
   */
  setSpeed(speed: number): void {
    if (!(speed > 0) || speed === this.speed) return;
    this.speed = speed;
    this.sock?.write(`rate ${speed}\n`);
  }

  /**
   * @brief Appends a chunk (`enqueue`), or starts it at once (`add`) when VLC is stopped.
   * @param file Absolute chunk path.
   * @param _seconds Its duration (VLC reads it from the file).
   */
  enqueue(file: string, _seconds: number): void {
    const idle = !this.playing && this.queue.length === 0;
    this.queue.push(file);
    this.sock?.write(`${idle ? 'add' : 'enqueue'} ${file}\n`);
    if (idle) this.playing = true;
  }

  /** @brief Sends `quit`, kills VLC if it lingers, removes the socket. */
  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (this.sock && !this.sock.destroyed) this.sock.write('quit\n');
    if (child) await stopChild(child);
    this.child = null;
    this.cleanup();
  }

  private cleanup(): void {
    this.sock?.destroy();
    this.sock = null;
    this.queue.length = 0;
    this.playing = false;
    if (this.socketPath) fs.rmSync(this.socketPath, { force: true }); // sync: we may exit right after
  }

  private onLine(line: string): void {
    const started = /status change: \( new input: (.+) \)/.exec(line);
    if (started) {
      let file: string;
      try {
        file = fileURLToPath(started[1]);
      } catch {
        return;
      }
      const at = this.queue.indexOf(file);
      if (at < 0) return;
      for (const done of this.queue.splice(0, at)) this.emit('shown', done);
      this.playing = true;
    } else if (/status change: \( stop state: \d+ \)/.test(line) && this.playing) {
      this.playing = false;
      const done = this.queue.shift();
      if (done !== undefined) this.emit('shown', done);
      // VLC moves on by itself when more is queued; the next `new input` sets playing again.
      if (this.queue.length > 0) this.playing = true;
    }
  }
}
