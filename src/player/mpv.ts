/**
 * @file mpv.ts
 * @brief The mpv backend: one long-lived mpv driven over its JSON IPC socket.
 *
 * How it works: mpv runs `--idle=yes --keep-open=no --input-ipc-server=<socket>` so it waits
 * for work and never holds the last frame. Each chunk is sent as `loadfile <path> append-play`
 * with a `request_id`; the reply carries the new `playlist_entry_id`. mpv plays its playlist
 * gaplessly (the next entry is prefetched) and emits `end-file {playlist_entry_id, reason}`;
 * reason `eof` (or `error`, an undecodable chunk) means that entry is done: we emit `shown`.
 * An end-file that arrives before its loadfile reply is remembered and matched later.
 * Without a sound device mpv plays the chunk without sound and then reports `error` with
 * `file_error: "audio output initialization failed"`: that chunk was shown, not undecodable
 * (logged once, not once per chunk).
 * Speed: `set_property speed`; `--audio-pitch-correction=yes` (mpv's default, made explicit)
 * inserts the scaletempo2 filter, so the pitch is kept.
 * Started safely (verified by test/system/player.test.ts with hostile chunks): `--access-references=no`
 * (no playlist, HLS, EDL, ordered chapters, archives: without it an M3U "chunk" makes mpv fetch
 * its URLs), `--ytdl=no` (the yt-dlp hook would fetch any URL), `--demuxer-lavf-o=protocol_whitelist=file`
 * (libavformat's nested opens stay on local files), `--no-config`, `--load-scripts=no`,
 * `--load-stats-overlay=no`, `--load-osd-console=no`, `--load-auto-profiles=no` (no user
 * config or scripts), `--autoload-files=no` (no subtitle, audio or cover file next to the chunk).
 * A `redirect` end-file (a chunk mpv took for a playlist) cannot happen with these, and would
 * count the chunk as shown.
 * Headless: `--vo=null --ao=null` still demuxes and decodes every frame.
 * Limitation: played entries stay in mpv's playlist (a short string each, ~4 MB per day).
 */
import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Backend, BackendEvents, BackendOptions } from './backend';
import { spawnControlled, stopChild } from './process';

/** One reply or event line of mpv's JSON IPC. */
interface MpvMessage {
  /** Id of the command this line answers (replies only). */
  request_id?: number;
  /** `success` or mpv's error text (replies only). */
  error?: string;
  /** Reply payload; loadfile returns the new playlist entry id. */
  data?: { playlist_entry_id?: number } | null;
  /** Event name, e.g. `end-file` (events only). */
  event?: string;
  /** Why a file ended: `eof`, `error`, `stop`, `quit`, `redirect` (end-file only). */
  reason?: string;
  /** Playlist entry the event is about (start-file/end-file only). */
  playlist_entry_id?: number;
  /** mpv's reason for an `error` end-file, e.g. `audio output initialization failed`. */
  file_error?: string;
}

/** Options that stop mpv from following references inside a chunk or opening the network. */
export const MPV_SAFE_ARGS = ['--access-references=no', '--ytdl=no', '--demuxer-lavf-o=protocol_whitelist=file',
  '--no-config', '--load-scripts=no', '--load-stats-overlay=no', '--load-osd-console=no', '--load-auto-profiles=no',
  '--autoload-files=no'] as const;

/** `file_error` values after which mpv has still shown the chunk (without sound or picture). */
const OUTPUT_ERRORS = new Set(['audio output initialization failed', 'video output initialization failed']);

/** End-files remembered before their loadfile reply (normally 0 or 1; a bound against leaks). */
const MAX_ENDED_EARLY = 64;

/** mpv controlled through `--input-ipc-server`. */
export class MpvBackend extends EventEmitter<BackendEvents> implements Backend {
  /** @brief Always `mpv`. */
  readonly name = 'mpv' as const;
  private child: ChildProcess | null = null;
  private sock: net.Socket | null = null;
  private socketPath = '';
  private nextRequestId = 1;
  private readonly requests = new Map<number, string>();
  private readonly entries = new Map<number, string>();
  private readonly endedEarly = new Set<number>();
  private stopping = false;
  private speed = 1;
  private warnedOutput = false;

  /** @param opts Backend options (`headless`, `binary`, `log`). */
  constructor(private readonly opts: BackendOptions) {
    super();
  }

  /** @brief Process id of the running mpv, or null. */
  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** @brief Spawns mpv and connects to its IPC socket. */
  async start(): Promise<void> {
    this.stopping = false;
    this.socketPath = path.join(os.tmpdir(), `relaytv-mpv-${process.pid}-${randomBytes(4).toString('hex')}.sock`);
    const args = ['--idle=yes', '--keep-open=no', `--input-ipc-server=${this.socketPath}`, '--input-terminal=no',
      '--msg-level=all=error', '--force-window=no', '--prefetch-playlist=yes', '--title=relaytv', ...MPV_SAFE_ARGS,
      '--audio-pitch-correction=yes', `--speed=${this.speed}`];
    if (this.opts.headless) args.push('--vo=null', '--ao=null');
    const { child, sock, died } = await spawnControlled('mpv', this.opts.binary ?? 'mpv', args, this.socketPath,
      (line) => this.onLine(line)).catch(async (err: Error) => {
      await this.stop();
      throw err;
    });
    this.child = child;
    this.sock = sock;
    this.opts.log.info({ childPid: child.pid }, 'mpv started');
    void died.then((reason) => {
      if (this.child !== child) return;
      this.child = null;
      this.cleanup();
      if (!this.stopping) this.emit('exit', reason);
    });
  }

  /**
   * @brief Appends a chunk to mpv's playlist (`loadfile <path> append-play`).
   * @param file Absolute chunk path.
   * @param _seconds Its duration (mpv reads it from the file).
   */
  enqueue(file: string, _seconds: number): void {
    const id = this.nextRequestId++;
    this.requests.set(id, file);
    this.sock?.write(`${JSON.stringify({ command: ['loadfile', file, 'append-play'], request_id: id })}\n`);
  }

  /**
   * @brief Sets mpv's `speed` property (pitch kept by scaletempo2); also used on restart.
   * @param speed Factor of normal speed.
   */
  setSpeed(speed: number): void {
    if (!(speed > 0) || speed === this.speed) return;
    this.speed = speed;
    this.sock?.write(`${JSON.stringify({ command: ['set_property', 'speed', speed] })}\n`);
  }

  /** @brief Asks mpv to quit, kills it if it lingers, removes the socket. */
  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (this.sock && !this.sock.destroyed) this.sock.write('{"command":["quit"]}\n');
    if (child) await stopChild(child);
    this.child = null;
    this.cleanup();
  }

  private cleanup(): void {
    this.sock?.destroy();
    this.sock = null;
    this.requests.clear();
    this.entries.clear();
    this.endedEarly.clear();
    if (this.socketPath) fs.rmSync(this.socketPath, { force: true }); // sync: we may exit right after
  }

  private onLine(line: string): void {
    let msg: MpvMessage;
    try {
      msg = JSON.parse(line) as MpvMessage;
    } catch {
      this.opts.log.warn({ line }, 'mpv sent a line that is not JSON');
      return;
    }
    if (msg.request_id !== undefined && this.requests.has(msg.request_id)) {
      const file = this.requests.get(msg.request_id)!;
      this.requests.delete(msg.request_id);
      const entry = msg.data?.playlist_entry_id;
      if (msg.error !== 'success' || entry === undefined) {
        this.opts.log.warn({ file, error: msg.error }, 'mpv refused a chunk; dropping it');
        this.emit('shown', file);
      } else if (this.endedEarly.delete(entry)) {
        this.emit('shown', file);
      } else {
        this.entries.set(entry, file);
      }
      return;
    }
    if (msg.event === 'end-file' && msg.playlist_entry_id !== undefined) {
      if (msg.reason !== 'eof' && msg.reason !== 'error' && msg.reason !== 'redirect') return; // stop/quit: ours
      this.explainEnd(msg);
      const file = this.entries.get(msg.playlist_entry_id);
      if (file === undefined) {
        this.endedEarly.add(msg.playlist_entry_id);
        if (this.endedEarly.size > MAX_ENDED_EARLY) this.endedEarly.delete(this.endedEarly.values().next().value!);
        return;
      }
      this.entries.delete(msg.playlist_entry_id);
      this.emit('shown', file);
    }
  }

  /** Logs why an entry ended when it is not a plain `eof`. */
  private explainEnd(msg: MpvMessage): void {
    const entry = msg.playlist_entry_id;
    if (msg.reason === 'redirect') {
      this.opts.log.warn({ entry }, 'mpv expanded a chunk as a playlist (not expected with --access-references=no); counted as shown');
    } else if (msg.reason === 'error' && OUTPUT_ERRORS.has(msg.file_error ?? '')) {
      if (!this.warnedOutput) this.opts.log.warn({ error: msg.file_error }, 'mpv has no sound device (or display): chunks play without it');
      this.warnedOutput = true;
    } else if (msg.reason === 'error') {
      this.opts.log.warn({ entry, error: msg.file_error }, 'mpv could not decode a chunk');
    }
  }
}
