/**
 * @file pool.ts
 * @brief The peer's Piscina pool for chunk work (workers/chunk.ts), and shared-memory buffers.
 *
 * The worker file is the compiled `.js` next to us, or the `.ts` source under tsx (tests): the
 * extension of this very file tells which. A worker that dies is replaced by Piscina; `run`
 * retries the task once on such a failure and counts it (`workerFailures`): the peer goes on,
 * and a dead worker is never mistaken for a bad chunk. One thread is enough for a peer (a chunk
 * every 2 s costs well under a millisecond of hashing and signing); `relaytv swarm` shares one
 * pool between all its peers.
 */
import path from 'node:path';
import Piscina from 'piscina';
import type { ChunkResult, ChunkTask } from '../../workers/chunk';

/** The pool and its one operation. */
export interface ChunkPool {
  /** Runs one chunk task; retried once if its worker died; rejects if it dies twice. */
  run(task: ChunkTask): Promise<ChunkResult>;
  /** Fault injection: make one worker thread die. */
  crashOne(): Promise<void>;
  /** Stops the threads. */
  destroy(): Promise<void>;
  /** Tasks that failed because a worker died (and were retried). */
  readonly workerFailures: number;
}

/**
 * @brief Creates the chunk pool.
 * @param threads Worker threads (1 for a peer).
 */
export function createChunkPool(threads = 1): ChunkPool {
  const ext = path.extname(__filename);
  const pool = new Piscina({
    filename: path.resolve(__dirname, '../../workers', `chunk${ext}`),
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: Infinity,
    atomics: 'disabled',
  });
  let failures = 0;
  return {
    get workerFailures() { return failures; },
    async run(task) {
      try {
        return (await pool.run(task)) as ChunkResult;
      } catch {
        failures++;
        return (await pool.run(task)) as ChunkResult;
      }
    },
    async crashOne() {
      await pool.run({ kind: 'crash' }).catch(() => undefined);
    },
    destroy: () => pool.destroy(),
  };
}

/**
 * @brief Allocates a Buffer backed by a SharedArrayBuffer (passed to workers without a copy).
 * @param size Bytes.
 */
export function sharedBuffer(size: number): Buffer {
  return Buffer.from(new SharedArrayBuffer(size));
}
