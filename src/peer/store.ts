/**
 * @file store.ts
 * @brief The peer's chunks: checked by the pool, written atomically, kept in a ring buffer.
 *
 * How it works: `add()` hands a relayed chunk (shared memory) to the pool, which checks its
 * SHA-256 and the source's signature and writes `<seq>.mkv` through a temporary file;
 * `addOwn()` does the source's side (hash, sign, write). Tasks run in parallel but are
 * committed in arrival order (a promise chain), so `stored` events of a stripe come out in the
 * order its chunks came in and relaying stays in order. The last `capacity` chunks stay in
 * memory for re-subscriptions and FETCH repairs, with the bookkeeping of missing and lost
 * sequences. A chunk that fails a check is `rejected` (never written, fetched again); a failed
 * disk write is a `diskError` while the chunk is kept and relayed; a worker that died twice is a
 * `workerError` (the chunk is missing, the repair scan fetches it again). None of these is a
 * loss of the peer. Once the run's first sequence is known, chunk files an earlier run left in
 * the folder are removed (`sweptEarlier`), but the few just before it that are recent (what our
 * own player had not shown yet when the process restarted): a folder from another overlay, or
 * from long ago, is never played nor taken for this run's chunks.
 */
import { EventEmitter } from 'node:events';
import { rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ChunkPool } from './pool';
import type { Ledger } from './stats';
import { chunkFileName, listSeqs } from '../content/folder';
import { BUFFER_CHUNKS, STATE_MAX_AGE_MS } from '../constants';

/** A verified chunk held in memory. */
export interface StoredChunk {
  /** Stream sequence number (stripe `seq mod K`). */
  seq: number;
  /** SHA-256 of `data` (32 bytes). */
  hash: Buffer;
  /** The source's signature (64 bytes). */
  sig: Buffer;
  /** The chunk's bytes (shared memory). */
  data: Uint8Array;
  /** Time the source received it from the server (source clock), ms. */
  originMs: number;
  /** Local time it was stored, ms. */
  storedMs: number;
}

/** A chunk as it arrives from a peer (unverified). */
export interface IncomingChunk {
  /** Sequence number. */
  seq: number;
  /** When the source received it from the server (its clock), ms. */
  originMs: number;
  /** SHA-256 of the bytes, as sent. */
  hash: Buffer;
  /** The source's Ed25519 signature of (channel, seq, originMs, hash). */
  sig: Buffer;
  /** The bytes. */
  data: Uint8Array;
}

/** Options of the store. */
export interface StoreOptions {
  /** Chunk folder. */
  dir: string;
  /** The channel (signed with every chunk). */
  channel: number;
  /** Worker pool. */
  pool: ChunkPool;
  /** The ledger. */
  stats: Ledger;
  /** Chunks kept in memory. */
  capacity?: number;
  /** Clock, ms. */
  now: () => number;
}

/** Events: `stored` (StoredChunk), `rejected` (seq, from, reason), `diskError` (message), `workerError` (seq). */
export class ChunkStore extends EventEmitter {
  /** First sequence this peer wants (its join point), null before. */
  firstSeq: number | null = null;
  /** Highest sequence stored (or the join point - 1). */
  maxSeq = -1;
  private readonly ring = new Map<number, StoredChunk>();
  private readonly inFlight = new Set<number>();
  private readonly lostSet = new Set<number>();
  private commit: Promise<void> = Promise.resolve();
  private readonly capacity: number;

  /** @param opts Folder, channel, pool, ledger, ring capacity, clock. */
  constructor(private readonly opts: StoreOptions) {
    super();
    this.capacity = opts.capacity ?? BUFFER_CHUNKS;
  }

  /** @brief True if `seq` is stored in memory or being checked. */
  has(seq: number): boolean {
    return this.ring.has(seq) || this.inFlight.has(seq);
  }

  /** @brief The in-memory chunk `seq`, if still buffered. */
  get(seq: number): StoredChunk | undefined {
    return this.ring.get(seq);
  }

  /** @brief Buffered sequences >= from, ascending. */
  seqsFrom(from: number): number[] {
    return [...this.ring.keys()].filter((s) => s >= from).sort((a, b) => a - b);
  }

  /** @brief Number of chunks in memory. */
  get size(): number {
    return this.ring.size;
  }

  /**
   * @brief Checks a relayed chunk against its hash and the source's signature, then stores it.
   * @param c The chunk. @param from Who sent it. @param keys The source's public keys.
   * @return The stored chunk, or null (duplicate, before our join point, rejected, worker died).
   */
  add(c: IncomingChunk, from: string, keys: Buffer[]): Promise<StoredChunk | null> {
    if (!this.claim(c.seq)) return Promise.resolve(null);
    const task = this.opts.pool.run({
      kind: 'verify', data: c.data, channel: this.opts.channel, seq: c.seq, originMs: c.originMs, hash: c.hash, sig: c.sig,
      keys, dir: this.opts.dir, name: chunkFileName(c.seq),
    });
    return this.settle(c.seq, task, c.data, c.originMs, from, c.sig);
  }

  /**
   * @brief Stores a chunk of our own (the source naming a server push): hash, sign, write.
   * @param seq Its number. @param data Its bytes (shared memory). @param originMs Push time. @param privateKey PKCS#8 DER.
   */
  addOwn(seq: number, data: Uint8Array, originMs: number, privateKey: Buffer): Promise<StoredChunk | null> {
    if (this.firstSeq === null) this.startAt(seq);
    if (!this.claim(seq)) return Promise.resolve(null);
    const task = this.opts.pool.run({ kind: 'sign', data, channel: this.opts.channel, seq, originMs, privateKey, dir: this.opts.dir, name: chunkFileName(seq) });
    return this.settle(seq, task, data, originMs, 'server', null);
  }

  /**
   * @brief Sequences in [firstSeq, maxSeq) neither stored, nor in flight, nor given up.
   * @param limit Most returned (oldest first).
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

  /**
   * @brief Whether `seq` may still arrive: at or after our join point, inside the ring's window,
   * not given up (a hole being repaired, or a chunk still on its way).
   */
  awaits(seq: number): boolean {
    return !this.ring.has(seq) && seq >= (this.firstSeq ?? Infinity) && seq > this.maxSeq - this.capacity && !this.lostSet.has(seq);
  }

  /** @brief Whether a chunk after `seq` in the same stripe (K stripes) is buffered. */
  hasLaterInStripe(seq: number, K: number): boolean {
    for (let s = seq + K; s <= this.maxSeq; s += K) if (this.ring.has(s)) return true;
    return false;
  }

  /** @brief Gives up on `seq` (counted lost). */
  giveUp(seq: number): void {
    if (this.lostSet.has(seq) || this.ring.has(seq)) return;
    this.lostSet.add(seq);
    this.opts.stats.lost++;
  }

  /** @brief Sets the first sequence this peer wants (its join point). */
  startAt(seq: number): void {
    if (this.firstSeq === null) {
      this.firstSeq = seq;
      this.maxSeq = Math.max(this.maxSeq, seq - 1);
      void this.sweepEarlier(seq);
    }
  }

  /**
   * Removes the chunk files of an earlier run: all but the recent ones just before `first`. The
   * check and the removal of each file are synchronous, so no chunk of ours is claimed between.
   */
  private async sweepEarlier(first: number): Promise<void> {
    let removed = 0;
    const now = Date.now(); // file times are the wall clock's
    for (const seq of await listSeqs(this.opts.dir)) {
      if (this.ring.has(seq) || this.inFlight.has(seq)) continue;
      const file = path.join(this.opts.dir, chunkFileName(seq));
      try {
        const recent = seq < first && seq >= first - this.capacity && now - statSync(file).mtimeMs < STATE_MAX_AGE_MS;
        if (!recent) {
          rmSync(file, { force: true });
          removed++;
        }
      } catch {
        // gone meanwhile (the player deleted it), or not ours to remove: left as it is
      }
    }
    this.opts.stats.sweptEarlier += removed;
  }

  /** Takes `seq` in hand unless it is before our join point or already here. */
  private claim(seq: number): boolean {
    if (this.firstSeq !== null && seq < this.firstSeq) return false;
    if (this.ring.has(seq) || this.inFlight.has(seq)) {
      this.opts.stats.duplicates++;
      return false;
    }
    this.inFlight.add(seq);
    return true;
  }

  private settle(seq: number, task: ReturnType<ChunkPool['run']>, data: Uint8Array, originMs: number, from: string, sig: Buffer | null): Promise<StoredChunk | null> {
    const done = this.commit.then(async () => {
      const res = await task.catch(() => null);
      this.inFlight.delete(seq);
      if (!res) {
        this.emit('workerError', seq);
        return null;
      }
      if (res.failed) {
        this.opts.stats.rejected++;
        this.emit('rejected', seq, from, res.failed);
        return null;
      }
      if (res.writeError) {
        this.opts.stats.diskErrors++;
        this.opts.stats.lastDiskError = res.writeError;
        this.emit('diskError', res.writeError);
      }
      const chunk: StoredChunk = { seq, hash: Buffer.from(res.hash), sig: sig ?? Buffer.from(res.sig!), data, originMs, storedMs: this.opts.now() };
      this.keep(chunk);
      this.emit('stored', chunk);
      return chunk;
    });
    this.commit = done.then(() => undefined);
    return done;
  }

  private keep(chunk: StoredChunk): void {
    this.ring.set(chunk.seq, chunk);
    this.opts.stats.chunksStored++;
    if (this.firstSeq === null) {
      this.firstSeq = chunk.seq;
      void this.sweepEarlier(chunk.seq);
    }
    // A chunk already on its way when we learnt our join point: it is this run's first.
    if (chunk.seq < this.firstSeq) this.firstSeq = chunk.seq;
    if (chunk.seq > this.maxSeq) this.maxSeq = chunk.seq;
    while (this.ring.size > this.capacity) {
      let min = Infinity;
      for (const s of this.ring.keys()) if (s < min) min = s;
      this.ring.delete(min);
    }
    for (const s of this.lostSet) if (s < this.maxSeq - 4 * this.capacity) this.lostSet.delete(s);
  }
}
