/**
 * @file split.ts
 * @brief Cuts a film into the server's chunk files `<name>_00000.mkv`, ... with ffmpeg.
 *
 * How it works: ffmpeg re-encodes the film (H.264 + AAC) forcing a keyframe at every multiple
 * of `seconds` (`-force_key_frames expr:gte(t,n_forced*S)`, scene-cut keyframes off), and the
 * segment muxer starts a new Matroska file at each of those keyframes with timestamps reset.
 * So every chunk starts with a keyframe and plays alone, as the course's chunks do.
 */
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { relayError } from '../errors';
import { listContent } from './chunks';

/** Options of a split. */
export interface SplitOptions {
  /** Film to cut (any format ffmpeg reads). */
  film: string;
  /** Output folder (created if missing). */
  outDir: string;
  /** Seconds per chunk (default 2, the course's period). */
  seconds?: number;
  /** Base name of the chunks (default: the film's name without extension). */
  name?: string;
  /** ffmpeg executable (default `ffmpeg`, looked up on PATH). */
  ffmpeg?: string;
  /** Environment of the ffmpeg process (tests pass a PATH without ffmpeg). */
  env?: NodeJS.ProcessEnv;
}

/** Largest ffmpeg stderr kept for error messages (bytes). */
const MAX_STDERR = 4096;

/**
 * @brief Runs a process and collects its exit code and the tail of its stderr.
 * @param cmd Executable. @param args Arguments. @param env Environment.
 * @return `{ code, stderr }`; rejects with the spawn error (e.g. ENOENT).
 */
function run(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env: env ?? process.env });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString('utf8')).slice(-MAX_STDERR);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

/**
 * @brief A safe base name for chunk files from a film path.
 * @param film Film path.
 * @return e.g. `My_Film` for `/x/My Film.mp4`.
 */
export function chunkBaseName(film: string): string {
  const base = path.basename(film, path.extname(film)).replace(/[^A-Za-z0-9.-]+/g, '_');
  return base === '' ? 'film' : base;
}

/**
 * @brief Cuts a film into keyframe-aligned chunk files.
 * @param opts Film, output folder, chunk length.
 * @return The chunk file names written, in play order.
 * @throws RelayError FFMPEG_MISSING, FILM_UNREADABLE, DIR_UNWRITABLE, BAD_OPTION.
 */
export async function splitFilm(opts: SplitOptions): Promise<string[]> {
  const seconds = opts.seconds ?? 2;
  if (!(seconds > 0 && seconds <= 3600)) throw relayError('BAD_OPTION', `--seconds must be in (0, 3600], got ${seconds}`);
  const ffmpeg = opts.ffmpeg ?? 'ffmpeg';
  try {
    await run(ffmpeg, ['-hide_banner', '-version'], opts.env);
  } catch (err) {
    throw relayError('FFMPEG_MISSING', `cannot run '${ffmpeg}' (${(err as NodeJS.ErrnoException).code ?? String(err)}); install ffmpeg or put it on PATH`);
  }
  try {
    const st = await fs.stat(opts.film);
    if (!st.isFile()) throw new Error('not a file');
  } catch (err) {
    throw relayError('FILM_UNREADABLE', `${opts.film}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    await fs.mkdir(opts.outDir, { recursive: true });
  } catch (err) {
    throw relayError('DIR_UNWRITABLE', `${opts.outDir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const name = opts.name ?? chunkBaseName(opts.film);
  const args = [
    '-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-i', opts.film,
    '-map', '0:v:0', '-map', '0:a:0?',
    '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-sc_threshold', '0',
    '-force_key_frames', `expr:gte(t,n_forced*${seconds})`,
    '-c:a', 'aac', '-b:a', '128k',
    '-f', 'segment', '-segment_time', String(seconds), '-reset_timestamps', '1',
    '-segment_format', 'matroska', path.join(opts.outDir, `${name}_%05d.mkv`),
  ];
  const { code, stderr } = await run(ffmpeg, args, opts.env);
  if (code !== 0) throw relayError('FILM_UNREADABLE', `ffmpeg exited ${code} on ${opts.film}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
  const written = (await listContent(opts.outDir)).filter((n) => n.startsWith(`${name}_`));
  if (written.length === 0) throw relayError('FILM_UNREADABLE', `ffmpeg wrote no chunk for ${opts.film}`);
  return written;
}
