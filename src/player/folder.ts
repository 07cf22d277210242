/**
 * @file folder.ts
 * @brief The chunk folder contract shared by the peer (writer) and the player (reader/deleter).
 *
 * A chunk with stream sequence `seq` is stored as `<dir>/<seq zero-padded to 8>.mkv`, so the
 * lexical order of names is the play order. The writer first writes a hidden temporary file
 * (`.<name>.<random>.tmp`) and renames it, so a reader never sees a partial chunk: only names
 * matching CHUNK_FILE_RE are complete chunks.
 */
import { constants as fsc, promises as fs } from 'node:fs';
import { SEQ_DIGITS } from '../constants';
import { relayError } from '../errors';

/** Names of complete chunk files. */
export const CHUNK_FILE_RE = /^(\d{8})\.mkv$/;

/**
 * @brief File name of the chunk with sequence number `seq`.
 * @param seq Stream sequence number (>= 0).
 */
export function chunkFileName(seq: number): string {
  return `${String(seq).padStart(SEQ_DIGITS, '0')}.mkv`;
}

/**
 * @brief Sequence number of a chunk file name, or null for any other name.
 * @param name A file name (no folder).
 */
export function seqOfFileName(name: string): number | null {
  const m = CHUNK_FILE_RE.exec(name);
  return m ? Number(m[1]) : null;
}

/**
 * @brief The complete chunk files in `dir`, in play order (the seed's "received files waiting").
 * @param dir Chunk folder.
 * @return File names sorted by sequence; [] when the folder does not exist yet.
 */
export async function listPending(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names.filter((n) => CHUNK_FILE_RE.test(n)).sort();
}

/**
 * @brief Checks that the chunk folder exists and, for the player, that files in it can be deleted.
 * @param dir Chunk folder.
 * @param writable Also require write+search permission (deleting shown chunks needs it).
 * @return Resolves when usable; rejects with DIR_MISSING or DIR_UNWRITABLE.
 */
export async function checkFolder(dir: string, writable: boolean): Promise<void> {
  let stat;
  try {
    stat = await fs.stat(dir);
  } catch {
    throw relayError('DIR_MISSING', `chunk folder ${dir} does not exist`);
  }
  if (!stat.isDirectory()) throw relayError('DIR_MISSING', `${dir} is not a folder`);
  if (!writable) return;
  try {
    await fs.access(dir, fsc.W_OK | fsc.X_OK);
  } catch {
    throw relayError('DIR_UNWRITABLE', `cannot delete files in ${dir} (no write permission)`);
  }
}
