/**
 * @file state.ts
 * @brief What a peer keeps across a restart, in its chunk folder: the last view's members and
 * the newest sequence stored.
 *
 * A peer that crashed and is restarted (PM2 does it at once) must rejoin the overlay it was in
 * rather than found a second one, and, if it is the source again, continue the numbering
 * instead of reusing file names. The state is a hidden file (`.relaytv-state.json`, which the
 * player ignores) written atomically; the newest chunk file on disk is found by its name.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { listPending, seqOfFileName } from '../player/folder';

/** The saved state. */
export interface SavedState {
  /** Ids of the members of the last view. */
  members: string[];
  /** Newest sequence known (on disk or in the state file), -1 when none. */
  lastSeq: number;
  /** When `lastSeq` was stored (file mtime or state time), ms. */
  lastMs: number;
}

const FILE = '.relaytv-state.json';

/**
 * @brief Reads what a previous run left in `dir` (nothing on a first run).
 * @param dir Chunk folder.
 * @param selfId Our id (left out of the members).
 */
export async function loadState(dir: string, selfId: string): Promise<SavedState> {
  const out: SavedState = { members: [], lastSeq: -1, lastMs: 0 };
  try {
    const j = JSON.parse(await fs.readFile(path.join(dir, FILE), 'utf8')) as { members?: unknown; lastSeq?: unknown; ms?: unknown };
    if (Array.isArray(j.members)) out.members = j.members.filter((x): x is string => typeof x === 'string' && x !== selfId).slice(0, 1000);
    if (typeof j.lastSeq === 'number' && typeof j.ms === 'number') { out.lastSeq = j.lastSeq; out.lastMs = j.ms; }
  } catch {
    // no state yet, or unreadable: a fresh start
  }
  const files = await listPending(dir);
  const newest = files.length ? seqOfFileName(files[files.length - 1])! : -1;
  if (newest > out.lastSeq) {
    out.lastSeq = newest;
    out.lastMs = (await fs.stat(path.join(dir, files[files.length - 1]))).mtimeMs;
  }
  return out;
}

let writing: Promise<void> = Promise.resolve();

/**
 * @brief Saves the state (atomically; writes are serialized, failures ignored: it is a hint).
 * @param dir Chunk folder.
 * @param state Members of the view, newest sequence, time.
 */
export function saveState(dir: string, state: { members: string[]; lastSeq: number; ms: number }): Promise<void> {
  writing = writing.then(async () => {
    const tmp = path.join(dir, `${FILE}.tmp`);
    await fs.writeFile(tmp, JSON.stringify(state));
    await fs.rename(tmp, path.join(dir, FILE));
  }).catch(() => undefined);
  return writing;
}
