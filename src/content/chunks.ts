/**
 * @file chunks.ts
 * @brief A channel's content: the chunk files `<name>_NNNNN.mkv` of a folder, in play order.
 *
 * The course's server loops over `<name>_00000.mkv`, `<name>_00001.mkv`, ... The server reads
 * every file once at start (a channel is a few MB) so pushes never touch the disk.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { relayError } from '../errors';
import { MAX_CHUNK_BYTES } from '../constants';

/** Names of chunk files a channel plays: any name, `_`, at least 5 digits, `.mkv`. */
export const CONTENT_FILE_RE = /^(.+)_(\d{5,})\.mkv$/;

/** Digits of the index in the names we write (`sample_00000.mkv`, as the course's files). */
export const CONTENT_INDEX_DIGITS = 5;

/** One chunk file loaded in memory. */
export interface ContentChunk {
  /** File name, e.g. `sample_00003.mkv`. */
  name: string;
  /** The bare file bytes (what is pushed). */
  data: Buffer;
}

/**
 * @brief File name of chunk `index` of a channel called `name`.
 * @param name Base name, e.g. `sample`.
 * @param index Chunk index >= 0.
 * @return e.g. `sample_00003.mkv`.
 */
export function contentFileName(name: string, index: number): string {
  return `${name}_${String(index).padStart(CONTENT_INDEX_DIGITS, '0')}.mkv`;
}

/**
 * @brief Lists the chunk files of a folder in play order (by index, then name).
 * @param dir Content folder.
 * @return File names; [] when there are none.
 * @throws RelayError BAD_OPTION when the folder cannot be read.
 */
export async function listContent(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    throw relayError('BAD_OPTION', `content folder ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const keyed = names.flatMap((n) => {
    const m = CONTENT_FILE_RE.exec(n);
    return m ? [{ n, i: Number(m[2]) }] : [];
  });
  keyed.sort((a, b) => a.i - b.i || (a.n < b.n ? -1 : a.n > b.n ? 1 : 0));
  return keyed.map((k) => k.n);
}

/**
 * @brief Reads every chunk of a folder into memory.
 * @param dir Content folder.
 * @return The chunks in play order (at least one).
 * @throws RelayError BAD_OPTION when the folder is unreadable, has no chunk, or a chunk is
 *         empty or larger than MAX_CHUNK_BYTES.
 */
export async function loadContent(dir: string): Promise<ContentChunk[]> {
  const names = await listContent(dir);
  if (names.length === 0) throw relayError('BAD_OPTION', `content folder ${dir} has no <name>_NNNNN.mkv files`);
  const chunks: ContentChunk[] = [];
  for (const name of names) {
    const data = await fs.readFile(path.join(dir, name));
    // A 2-byte chunk would read as a join answer; an empty one is not a chunk at all.
    if (data.length <= 2 || data.length > MAX_CHUNK_BYTES) {
      throw relayError('BAD_OPTION', `chunk ${name} is ${data.length} bytes (allowed 3..${MAX_CHUNK_BYTES})`);
    }
    chunks.push({ name, data });
  }
  return chunks;
}
