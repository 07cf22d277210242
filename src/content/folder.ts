/**
 * @file folder.ts
 * @brief The chunk folder contract shared by the peer (writer), the player (reader and deleter),
 * the status pages, the tests and the benchmarks: the one place that knows chunk file names.
 *
 * A chunk with stream sequence `seq` is stored as `<dir>/<seq zero-padded to SEQ_DIGITS>.mkv`,
 * so the lexical order of names is the play order. The writer first writes a hidden temporary
 * file (`.<name>.<random>.tmp`) and renames it, so a reader never sees a partial chunk: only
 * names matching CHUNK_FILE_RE are complete chunks. Sequences never exceed MAX_SEQ.
 */
import { promises as fs } from 'node:fs';
import { SEQ_DIGITS } from '../constants';

/** Names of complete chunk files (the pattern is built from the digit count). */
export const CHUNK_FILE_RE = new RegExp(`^(\\d{${SEQ_DIGITS}})\\.mkv$`);

/**
 * @brief File name of the chunk with sequence number `seq`.
 * @param seq Stream sequence number (0 .. MAX_SEQ).
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
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
    throw err;
  }
  return names.filter((n) => CHUNK_FILE_RE.test(n)).sort();
}

/**
 * @brief The sequence numbers of the complete chunks in `dir`, ascending.
 * @param dir Chunk folder.
 */
export async function listSeqs(dir: string): Promise<number[]> {
  return (await listPending(dir)).map((n) => seqOfFileName(n)!);
}
