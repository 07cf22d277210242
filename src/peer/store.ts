/**
 * @file store.ts
 * @brief The peer's chunks: verified by the pool, written atomically, kept in a ring buffer.
 *
 * How it works: `add()` hands the chunk (shared memory) to the pool, which hashes it, checks
 * the announced hash and writes `<seq>.mkv` via a temporary file. Tasks run in parallel but
 * are *committed in arrival order* (a promise chain), so `stored` events of one stripe come
 * out in the order the chunks came in and relaying stays in order. The last BUFFER_CHUNKS
 * chunks stay in memory to serve re-subscriptions and FETCH repairs. Bookkeeping of which
 * sequence numbers are missing (for repair) and lost (given up) lives here too.
 *
 * A chunk whose hash fails is dropped (event `corrupt`) and fetched again by the repair scan.
 * A failed disk write (unwritable or full folder) is reported (`diskError`) while the chunk is
 * still kept in memory and relayed: the peer keeps serving its children.
 */
import { EventEmitter } from 'node:events';
import { promises as fs } from 'node:fs';
import type { ChunkPool } from './pool';
import { chunkFileName } from '../player/folder';
import { BUFFER_CHUNKS } from '../constants';

/** A verified chunk held in memory. */
export interface StoredChunk {
  /** Stream sequence number (the chunk travels in stripe `seq mod K`). */
  seq: number;
  /** SHA-256 of `data` as computed by the pool (32 bytes). */
  hash: Buffer;
  /** The chunk's bytes (possibly shared memory handed to the pool). */
  data: Uint8Array;
  /** Time the source received it from the server (source clock), ms. */
  originMs: number;
  /** Local time it was stored, ms. */
  storedMs: number;
}

/** Options of the store. */
export interface StoreOptions {
  /** Chunk folder, where each verified chunk is written as its own file. */
  dir: string;
  /** Worker pool that hashes, verifies and writes the chunks. */
  pool: ChunkPool;
  /** Chunks kept in memory (the ring buffer); BUFFER_CHUNKS when missing. */
  capacity?: number;
  /** Clock for `storedMs`, in ms; Date.now when missing. */
  now?: () => number;
}

/**
 * Ring buffer + disk. Events: `stored` (StoredChunk), `corrupt` (seq, from),
 * `duplicate` (seq), `diskError` (message).
 */
export class ChunkStore extends EventEmitter {
  /** First sequence stored since this peer joined (null before). */
  firstSeq: number | null = null;
  /** Highest sequence stored. */
  maxSeq = -1;
  /** Counters. */
  stored = 0;
  /** Chunks dropped because already stored or in flight. */
  duplicates = 0;
  /** Chunks dropped because their hash failed the check. */
  corrupt = 0;
  /** Sequences given up as lost (giveUp). */
  lost = 0;
  /** Failed disk writes (the chunk was still kept in memory). */
  diskErrors = 0;
  /** Last disk error message ('' when fine). */
  lastDiskError = '';
  private readonly ring = new Map<number, StoredChunk>();
  private readonly inFlight = new Set<number>();
  /** Sequences given up as lost. */
  private readonly lostSet = new Set<number>();
  private commit: Promise<void> = Promise.resolve();
  private readonly capacity: number;
  private readonly now: () => number;

  /** @param opts Folder, pool, ring capacity, clock. */
  constructor(private readonly opts: StoreOptions) {
    super();
    this.capacity = opts.capacity ?? BUFFER_CHUNKS;
    this.now = opts.now ?? Date.now;
  }

  /** @brief Creates the chunk folder; throws DIR_UNWRITABLE-worthy errors to the caller. */
  async init(): Promise<void> {
    await fs.mkdir(this.opts.dir, { recursive: true });
  }

  /** @brief True if `seq` is stored in memory or being stored. */
  has(seq: number): boolean {
    return this.ring.has(seq) || this.inFlight.has(seq);
  }

  /** @brief The in-memory chunk `seq`, if still buffered. */
  get(seq: number): StoredChunk | undefined {
    return this.ring.get(seq);
  }

  /** @brief Lowest sequence still in memory (maxSeq+1 when empty). */
  oldestKept(): number {
    let min = this.maxSeq + 1;
    for (const s of this.ring.keys()) if (s < min) min = s;
    return min;
  }

  /** @brief Buffered sequences >= from, ascending. */
  seqsFrom(from: number): number[] {
    return [...this.ring.keys()].filter((s) => s >= from).sort((a, b) => a - b);
  }

  /**
   * @brief Verifies and stores a chunk.
   * @param seq Stream sequence.
   * @param data Bytes (preferably shared memory).
   * @param hash Announced SHA-256, or null to compute it (the source naming a server push).
   * @param originMs Source time of the chunk.
   * @param from Who sent it (for the `corrupt` event).
   * @return The stored chunk, or null when it was a duplicate or failed its hash.
   */
  async add(seq: number, data: Uint8Array, hash: Buffer | null, originMs: number, from: string): Promise<StoredChunk | null> {
    if (this.firstSeq !== null && seq < this.firstSeq) return null; // before our join point
    if (this.ring.has(seq) || this.inFlight.has(seq)) {
      this.duplicates++;
      this.emit('duplicate', seq);
      return null;
    }
    this.inFlight.add(seq);
    const task = this.opts.pool.run({ kind: 'store', data, expected: hash ? hash.toString('hex') : '', dir: this.opts.dir, name: chunkFileName(seq) });
    const done = this.commit.then(async () => {
      const res = await task.catch((err: Error) => ({ hash: '', ok: false, writeError: err.message }));
      this.inFlight.delete(seq);
      if (!res.ok) {
        this.corrupt++;
        this.emit('corrupt', seq, from);
        return null;
      }
      if (res.writeError) {
        this.diskErrors++;
        this.lastDiskError = res.writeError;
        this.emit('diskError', res.writeError);
      }
      const chunk: StoredChunk = { seq, hash: Buffer.from(res.hash, 'hex'), data, originMs, storedMs: this.now() };
      this.keep(chunk);
      this.emit('stored', chunk);
      return chunk;
    });
    this.commit = done.then(() => undefined);
    return done;
  }

  /**
   * @brief Sequences in [firstSeq, maxSeq] neither stored nor in flight nor given up.
   * @param limit Maximum number returned (oldest first).
   */
  missing(limit = 64): number[] {
    const out: number[] = [];
    if (this.firstSeq === null) return out;
    const lowest = Math.max(this.firstSeq, this.maxSeq - this.capacity + 1);
    for (let s = lowest; s < this.maxSeq && out.length < limit; s++) {
      if (!this.ring.has(s) && !this.inFlight.has(s) && !this.lostSet.has(s)) out.push(s);
    }
    return out;
  }

  /** @brief Gives up on `seq` (counted lost). */
  giveUp(seq: number): void {
    if (this.lostSet.has(seq) || this.ring.has(seq)) return;
    this.lostSet.add(seq);
    this.lost++;
  }

  /** @brief Sets the first sequence this peer wants (its join point). */
  startAt(seq: number): void {
    if (this.firstSeq === null) {
      this.firstSeq = seq;
      this.maxSeq = Math.max(this.maxSeq, seq - 1);
    }
  }

  private keep(chunk: StoredChunk): void {
    this.ring.set(chunk.seq, chunk);
    this.stored++;
    if (this.firstSeq === null) this.firstSeq = chunk.seq;
    if (chunk.seq > this.maxSeq) this.maxSeq = chunk.seq;
    while (this.ring.size > this.capacity) {
      const oldest = this.oldestKept();
      this.ring.delete(oldest);
    }
    for (const s of this.lostSet) if (s < this.maxSeq - 4 * this.capacity) this.lostSet.delete(s);
  }
}
