/**
 * @file backend.ts
 * @brief The contract every external player (mpv, VLC, ffplay, null) implements, and PATH lookup.
 *
 * A backend owns one external process (or none, for `null`). The Player hands it complete chunk
 * paths with `enqueue` in play order; the backend emits `shown(path)` once a chunk has been fully
 * shown (the Player then deletes it) and `exit(reason)` when its external process died without
 * being asked to (the Player then restarts it). `stop()` ends it quietly: no `exit` event after.
 * `setSpeed` changes the playback speed (the Player keeps pace with live through it); a backend
 * remembers it and applies it again after a restart.
 *
 * Every external player is started safely: a chunk comes from strangers, so it must not make the
 * player follow references inside it (playlists, HLS, ffconcat, EDL, linked segments) or open
 * the network. Each backend's header lists the options it passes for that.
 */
import { EventEmitter } from 'node:events';
import { constants as fsc, promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Logger } from '../log';

/** Names accepted by `--using`. */
export const BACKEND_NAMES = ['auto', 'mpv', 'vlc', 'ffplay', 'null'] as const;

/** A value of `--using`. */
export type BackendName = (typeof BACKEND_NAMES)[number];

/** Events of a backend: a chunk fully shown, or the external player died unasked. */
export interface BackendEvents {
  /** The chunk at this path has been shown to the end (or failed to decode): delete it. */
  shown: [path: string];
  /** The external process died on its own; the reason is for the log. */
  exit: [reason: string];
}

/** Options common to every backend. */
export interface BackendOptions {
  /** Logger (child of the player's). */
  log: Logger;
  /** No window and no sound device: decode to null outputs (servers, CI). */
  headless: boolean;
  /** Executable to run instead of the default one (tests, unusual installs). */
  binary?: string;
}

/** An external player driven by the Player. */
export interface Backend extends EventEmitter<BackendEvents> {
  /** Which player this is (never `auto`). */
  readonly name: Exclude<BackendName, 'auto'>;
  /** Process id of the external player, or null when none runs. */
  readonly pid: number | null;
  /**
   * @brief Launches the external player and its control channel.
   * @return Resolves once chunks can be enqueued; rejects (BACKEND_FAILED) otherwise.
   */
  start(): Promise<void>;
  /**
   * @brief Appends a complete chunk to the play queue; playback continues without a gap.
   * @param file Absolute path of a complete chunk file.
   * @param seconds Its duration of video (as probed; the `null` backend plays it that long).
   */
  enqueue(file: string, seconds: number): void;
  /**
   * @brief Sets the playback speed from now on (kept across restarts).
   * @param speed Factor of normal speed (PLAYER_SPEED_MIN..PLAYER_SPEED_MAX); pitch is kept.
   */
  setSpeed(speed: number): void;
  /**
   * @brief Stops the external player (asks, then kills). No `exit` event follows.
   */
  stop(): Promise<void>;
}

/**
 * @brief Finds an executable on PATH, like `which`.
 * @param command Bare command name (or a path, checked as is).
 * @return Absolute path of the executable, or null when absent.
 */
export async function findExecutable(command: string): Promise<string | null> {
  const candidates = command.includes('/')
    ? [command]
    : (process.env.PATH ?? '').split(path.delimiter).filter(Boolean).map((d) => path.join(d, command));
  for (const candidate of candidates) {
    try {
      await fs.access(candidate, fsc.X_OK);
      if ((await fs.stat(candidate)).isFile()) return path.resolve(candidate);
    } catch {
      // not here; try the next PATH entry
    }
  }
  return null;
}

/**
 * @brief Whether this process has no display to open a window on.
 * @return True when neither DISPLAY nor WAYLAND_DISPLAY is set.
 */
export function noDisplay(): boolean {
  return !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY;
}

/**
 * @brief Keeps the last lines an external process wrote on stderr, for the log when it dies.
 * @param stream The child's stderr (or null).
 * @param max Lines kept.
 * @return A function returning the kept tail as one string.
 */
export function tailOf(stream: NodeJS.ReadableStream | null, max = 10): () => string {
  const lines: string[] = [];
  stream?.setEncoding('utf8');
  stream?.on('data', (text: string) => {
    lines.push(...text.split('\n').filter(Boolean));
    if (lines.length > max) lines.splice(0, lines.length - max);
  });
  return () => lines.join(' | ');
}
