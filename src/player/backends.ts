/**
 * @file backends.ts
 * @brief Picks and builds the backend named by `--using` (`auto`: mpv, then cvlc, then ffplay, then null).
 */
import { relayError } from '../errors';
import { findExecutable, type Backend, type BackendName, type BackendOptions } from './backend';
import { FfplayBackend } from './ffplay';
import { MpvBackend } from './mpv';
import { NullBackend } from './null';
import { VlcBackend } from './vlc';

/** Executable of each external backend, in `auto` preference order. */
const EXECUTABLES = [
  ['mpv', 'mpv'],
  ['vlc', 'cvlc'],
  ['ffplay', 'ffplay'],
] as const;

/**
 * @brief Builds the backend for `--using`, checking that its executable is installed.
 * @param using A BackendName; `auto` takes the first installed of mpv, cvlc, ffplay, else null.
 * @param opts Options passed to the backend (`binary` is filled in from PATH).
 * @return The backend, not started.
 * @throws RelayError BACKEND_MISSING when the requested player is not on PATH.
 */
export async function createBackend(using: BackendName, opts: Omit<BackendOptions, 'binary'>): Promise<Backend> {
  if (using === 'null') return new NullBackend(opts);
  for (const [name, command] of EXECUTABLES) {
    if (using !== 'auto' && using !== name) continue;
    const binary = await findExecutable(command);
    if (binary === null) {
      if (using === 'auto') continue;
      throw relayError('BACKEND_MISSING', `--using ${name} needs \`${command}\` on PATH; install it or use --using auto|null`);
    }
    const full = { ...opts, binary };
    if (name === 'mpv') return new MpvBackend(full);
    if (name === 'vlc') return new VlcBackend(full);
    return new FfplayBackend(full);
  }
  opts.log.warn('no mpv, cvlc or ffplay on PATH: playing with the null backend (nothing is shown)');
  return new NullBackend(opts);
}
