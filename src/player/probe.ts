/**
 * @file probe.ts
 * @brief Reads how many seconds of video a chunk holds, with ffprobe, started safely.
 *
 * The Player needs each chunk's real duration (the course's chunks hold 2.14 s, not the nominal
 * 2 s) to measure the arrival rate and the distance to live, and the `null` backend plays a chunk
 * for that long. ffprobe reads it from the container header (`format=duration`, ~0.1 s a chunk).
 * A chunk comes from strangers, so ffprobe may open nothing but local files
 * (`-protocol_whitelist file`: an HLS or ffconcat "chunk" cannot make it connect anywhere) and
 * is killed after PLAYER_PROBE_TIMEOUT_MS. Any failure (not a media file, no duration, timeout)
 * resolves to null: the caller then uses the nominal duration.
 */
import { execFile } from 'node:child_process';
import { PLAYER_PROBE_TIMEOUT_MS } from '../constants';
import type { Logger } from '../log';
import { findExecutable } from './backend';

/** Returns a chunk's duration in seconds, or null when it cannot be read. */
export type DurationProbe = (file: string) => Promise<number | null>;

/** Largest ffprobe output read, bytes (one number is expected). */
const PROBE_MAX_OUTPUT = 4096;

/**
 * @brief A DurationProbe running ffprobe.
 * @param binary The ffprobe executable (absolute path from findExecutable).
 * @param timeoutMs Time one probe may take before ffprobe is killed, ms.
 * @return The probe.
 */
export function ffprobeDuration(binary: string, timeoutMs = PLAYER_PROBE_TIMEOUT_MS): DurationProbe {
  return (file) => new Promise((resolve) => {
    const args = ['-v', 'error', '-protocol_whitelist', 'file', '-show_entries', 'format=duration',
      '-of', 'default=noprint_wrappers=1:nokey=1', file];
    execFile(binary, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: PROBE_MAX_OUTPUT }, (err, stdout) => {
      const seconds = Number(String(stdout).trim());
      resolve(!err && Number.isFinite(seconds) && seconds > 0 ? seconds : null);
    });
  });
}

/** @brief A DurationProbe that knows nothing (no ffprobe installed): always null. */
export const noDurationProbe: DurationProbe = async () => null;

/**
 * @brief The ffprobe DurationProbe when ffprobe is on PATH, else noDurationProbe (with a warning).
 * @param log Where the warning goes.
 * @return The probe to give the Player.
 */
export async function createDurationProbe(log: Logger): Promise<DurationProbe> {
  const binary = await findExecutable('ffprobe');
  if (binary !== null) return ffprobeDuration(binary);
  log.warn('no ffprobe on PATH: every chunk is taken to last --chunk-seconds (install ffmpeg for real durations)');
  return noDurationProbe;
}

/** A chunk waiting for its duration. */
export interface ProbeItem {
  /** Chunk file name. */
  name: string;
  /** Its absolute path. */
  file: string;
  /** When it arrived (performance.now(), ms), or null when it was already there at start. */
  atMs: number | null;
}

/**
 * Probes chunks one at a time, in the order they arrived (so the arrival window is fed in order
 * and a burst of arrivals never starts a crowd of ffprobes). A chunk no longer `wanted` (skipped
 * or deleted meanwhile) is reported at once with a null duration, without running ffprobe.
 */
export class ProbeQueue {
  private readonly queue: ProbeItem[] = [];
  private busy = false;
  private stopped = false;

  /**
   * @param probe Reads one chunk's duration.
   * @param wanted Whether a chunk still needs its duration.
   * @param onDone Called once per chunk, in order, with its duration or null.
   */
  constructor(private readonly probe: DurationProbe, private readonly wanted: (name: string) => boolean,
    private readonly onDone: (item: ProbeItem, seconds: number | null) => void) {}

  /** @brief Queues a chunk. @param item The chunk and its arrival time. */
  add(item: ProbeItem): void {
    this.queue.push(item);
    this.next();
  }

  /** @brief Drops the queue; a probe running now reports nothing. */
  stop(): void {
    this.stopped = true;
    this.queue.length = 0;
  }

  private next(): void {
    if (this.busy || this.stopped) return;
    const item = this.queue.shift();
    if (!item) return;
    if (!this.wanted(item.name)) {
      this.onDone(item, null);
      this.next();
      return;
    }
    this.busy = true;
    void this.probe(item.file).then((seconds) => {
      this.busy = false;
      if (this.stopped) return;
      this.onDone(item, seconds);
      this.next();
    });
  }
}
