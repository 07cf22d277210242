/**
 * @file pool.ts
 * @brief The peer's Piscina pool for chunk work (workers/chunk.ts), and shared-memory buffers.
 *
 * The worker file is the compiled `.js` next to us, or the `.ts` source under tsx (tests):
 * the extension of this very file tells which. A worker that dies is replaced by Piscina;
 * `runChunk` retries a task once on such a failure, so the peer goes on.
 */
import path from 'node:path';
import os from 'node:os';
import Piscina from 'piscina';
import type { ChunkResult, ChunkTask } from '../../workers/chunk';

/** The pool and its one operation. */
export interface ChunkPool {
  /** Hash/verify/write one chunk; retried once if its worker died. */
  run(task: ChunkTask): Promise<ChunkResult>;
  /** Fault injection: make one worker thread die. */
  crashOne(): Promise<void>;
  /** Stops the threads. */
  destroy(): Promise<void>;
  /** Tasks that failed because a worker died (and were retried). */
  workerFailures: number;
}

/**
 * @brief Creates the chunk pool.
 * @param threads Worker threads (default: min(2, cores)).
 */
export function createChunkPool(threads = Math.min(2, os.availableParallelism())): ChunkPool {
  const ext = path.extname(__filename);
  const pool = new Piscina({
    filename: path.resolve(__dirname, '../../workers', `chunk${ext}`),
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: Infinity,
    atomics: 'disabled',
  });
  const api: ChunkPool = {
    workerFailures: 0,
    async run(task) {
      try {
        return (await pool.run(task)) as ChunkResult;
      } catch (err) {
        api.workerFailures++;
        return (await pool.run(task)) as ChunkResult;
      }
    },
    async crashOne() {
      await pool.run({ kind: 'crash' }).catch(() => undefined);
    },
    destroy: () => pool.destroy(),
  };
  return api;
}

/**
 * @brief Allocates a Buffer backed by a SharedArrayBuffer (passed to workers without a copy).
 * @param size Bytes.
 */
export function sharedBuffer(size: number): Buffer {
  return Buffer.from(new SharedArrayBuffer(size));
}
