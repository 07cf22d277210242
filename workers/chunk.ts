/**
 * @file chunk.ts
 * @brief Piscina worker: the CPU and disk work on one chunk, off the master's event loop.
 *
 * A task hashes the chunk (SHA-256), compares it with the hash the sender announced, and when
 * it matches writes it atomically into the chunk folder: a hidden temporary file, fsync-free
 * write, then rename to `<seq>.mkv`, so a reader never sees a partial file. The chunk's bytes
 * arrive in a SharedArrayBuffer-backed Uint8Array: no copy between threads.
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

/** One chunk task. */
export interface ChunkTask {
  /** `store`: hash, verify, write. `crash`: fault injection (the thread dies). */
  kind: 'store' | 'crash';
  /** Chunk bytes (shared memory). */
  data?: Uint8Array;
  /** Expected SHA-256 (hex); empty to only compute it (the source naming a server push). */
  expected?: string;
  /** Chunk folder; empty to skip the write. */
  dir?: string;
  /** File name inside `dir`. */
  name?: string;
}

/** Result of a chunk task. */
export interface ChunkResult {
  /** SHA-256 of the bytes (hex). */
  hash: string;
  /** False when `expected` was given and differs. */
  ok: boolean;
  /** Error message of a failed write (the chunk is still valid and relayed). */
  writeError?: string;
}

/**
 * @brief Runs one chunk task.
 * @param task The task.
 * @return The hash, the verdict and any write error.
 */
export default async function run(task: ChunkTask): Promise<ChunkResult> {
  if (task.kind === 'crash') process.exit(1);
  const data = task.data!;
  const hash = createHash('sha256').update(data).digest('hex');
  const ok = !task.expected || task.expected === hash;
  if (!ok || !task.dir) return { hash, ok };
  const final = path.join(task.dir, task.name!);
  const tmp = path.join(task.dir, `.${task.name}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await fs.writeFile(tmp, data);
    await fs.rename(tmp, final);
    return { hash, ok };
  } catch (err) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    return { hash, ok, writeError: (err as Error).message };
  }
}
