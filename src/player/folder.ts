/**
 * @file folder.ts
 * @brief The player's side of the chunk folder: its checks (the names live in src/content/folder.ts).
 *
 * A chunk with stream sequence `seq` is stored as `<dir>/<seq zero-padded to 8>.mkv`, so the
 * lexical order of names is the play order. The writer first writes a hidden temporary file
 * (`.<name>.<random>.tmp`) and renames it, so a reader never sees a partial chunk: only names
 * matching CHUNK_FILE_RE are complete chunks.
 */
import { constants as fsc, promises as fs } from 'node:fs';
import { relayError } from '../errors';

export { CHUNK_FILE_RE, chunkFileName, seqOfFileName, listPending } from '../content/folder';

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
