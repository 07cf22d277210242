/**
 * @file network.ts
 * @brief The simulator's data plane: which peer holds which chunk, and who sends what to whom.
 *
 * Peers are integer indices (0 = the root/source). State lives in flat typed arrays so that
 * 100 000 peers x dozens of chunks cost a few MB and no object per chunk per peer:
 * - `have[peer * chunks + seq]`: the peer received chunk `seq` (its ring buffer and its disk);
 * - `parent[peer * K + s]` and a CSR child list per stripe: the placement currently in force;
 * - `lowMiss[peer * K + s]`: first chunk of stripe s at or after the peer's start it still lacks.
 * A delivery is one heap event (child, seq, sender); on arrival the child forwards to its
 * children in the chunk's stripe that lack it. A transfer whose sender died before it ended is
 * lost. See sim/engine.ts for the time model.
 */
import { EventHeap, pairHash } from './heap';

/** Event kind of a chunk delivery: a = child, b = seq, c = sender. */
export const ARRIVE = 1;

/** Link and buffer parameters of the data plane. */
export interface LinkModel {
  /** Stripes K. */
  stripes: number;
  /** Chunks the source emits in the whole run. */
  chunks: number;
  /** Bytes per chunk. */
  chunkBytes: number;
  /** Time to push one chunk over one edge (upload bandwidth / slots), ms. */
  edgeMs: number;
  /** Link latency range, ms (fixed per ordered pair). */
  latMinMs: number;
  latMaxMs: number;
  /** Ring buffer of each peer, chunks. */
  bufferChunks: number;
  /** Delay between a re-placement and the first catch-up chunk (view publish + subscribe), ms. */
  repairMs: number;
  /** Source period, ms (for latency figures). */
  periodMs: number;
}

/** Per-peer chunk state and the forwarding rules. */
export class Network {
  readonly alive: Uint8Array;
  readonly sent: Float64Array;
  readonly startSeq: Int32Array;
  readonly parent: Int32Array;
  readonly have: Uint8Array;
  private readonly maxSeq: Int32Array;
  private readonly lowMiss: Int32Array;
  private childOff: Int32Array[] = [];
  private childList: Int32Array[] = [];
  /** Deliveries of a chunk the receiver already had (wasted transfers). */
  dupArrivals = 0;
  /** Useful deliveries. */
  arrivals = 0;
  /** Sum and max of (arrival time - emission time), ms. */
  latSum = 0;
  latMax = 0;

  /**
   * @brief Allocates state for `capacity` peer indices.
   * @param capacity Largest peer index + 1 over the whole run.
   * @param m Link model.
   * @param heap The event queue deliveries go to.
   */
  constructor(readonly capacity: number, readonly m: LinkModel, private readonly heap: EventHeap) {
    const K = m.stripes;
    if (capacity * m.chunks > 2 ** 31) throw new RangeError('peers x chunks too large for the sim');
    this.alive = new Uint8Array(capacity);
    this.sent = new Float64Array(capacity);
    this.startSeq = new Int32Array(capacity).fill(-1);
    this.maxSeq = new Int32Array(capacity).fill(-1);
    this.parent = new Int32Array(capacity * K).fill(-1);
    this.lowMiss = new Int32Array(capacity * K);
    this.have = new Uint8Array(capacity * m.chunks);
    for (let s = 0; s < K; s++) {
      this.childOff.push(new Int32Array(capacity + 1));
      this.childList.push(new Int32Array(0));
    }
  }

  /**
   * @brief Marks a peer as a receiver from chunk `seq` on (its first placement).
   * @param p Peer index.
   * @param seq First chunk it is expected to receive.
   */
  start(p: number, seq: number): void {
    const K = this.m.stripes;
    this.startSeq[p] = seq;
    for (let s = 0; s < K; s++) this.lowMiss[p * K + s] = seq + ((s - (seq % K) + K) % K);
  }

  /** @brief Link latency of the ordered pair, ms. */
  private lat(p: number, c: number): number {
    return this.m.latMinMs + (this.m.latMaxMs - this.m.latMinMs) * pairHash(p, c);
  }

  /**
   * @brief Puts chunk `seq` on the edge p -> c, arriving after latency + `extraMs`.
   * @param now Current time, ms.
   * @param extraMs Queueing before the transfer ends (catch-up bursts, subscription delay).
   */
  send(now: number, p: number, c: number, seq: number, extraMs: number): void {
    this.sent[p] += this.m.chunkBytes;
    this.heap.push(now + extraMs + this.lat(p, c) + this.m.edgeMs, ARRIVE, c, seq, p);
  }

  /**
   * @brief Peer `p` now holds `seq` (source emission or delivery): forward it in its stripe.
   * @param now Current time, ms.
   */
  forward(now: number, p: number, seq: number): void {
    const s = seq % this.m.stripes;
    const off = this.childOff[s];
    const list = this.childList[s];
    const C = this.m.chunks;
    for (let i = off[p]; i < off[p + 1]; i++) {
      const c = list[i];
      if (this.alive[c] && !this.have[c * C + seq] && seq >= this.startSeq[c] && this.startSeq[c] >= 0) {
        this.send(now, p, c, seq, 0);
      }
    }
  }

  /**
   * @brief The source (peer 0) emits chunk `seq`: it holds it and forwards it in its stripe.
   * @param now Current time, ms.
   * @param seq Chunk.
   */
  emit(now: number, seq: number): void {
    this.have[seq] = 1;
    this.maxSeq[0] = seq;
    this.forward(now, 0, seq);
  }

  /**
   * @brief Handles an ARRIVE event.
   * @param now Current time, ms.
   * @param c Receiver.
   * @param seq Chunk.
   * @param from Sender (the transfer is cut if it died meanwhile).
   */
  arrive(now: number, c: number, seq: number, from: number): void {
    if (!this.alive[c] || !this.alive[from]) return;
    const C = this.m.chunks;
    const K = this.m.stripes;
    if (this.have[c * C + seq]) { this.dupArrivals++; return; }
    this.have[c * C + seq] = 1;
    this.arrivals++;
    const lat = now - seq * this.m.periodMs;
    this.latSum += lat;
    if (lat > this.latMax) this.latMax = lat;
    if (seq > this.maxSeq[c]) this.maxSeq[c] = seq;
    const k = c * K + (seq % K);
    while (this.lowMiss[k] < C && this.have[c * C + this.lowMiss[k]]) this.lowMiss[k] += K;
    this.forward(now, c, seq);
  }

  /**
   * @brief Re-subscription of c to its new parent p in stripe s: p sends, from its ring buffer,
   * every chunk of the stripe from c's first missing one that p holds and c lacks; what p
   * lacks is fetched from the root (the coordinator), as the real repair scan does.
   * @param now Current time, ms.
   */
  subscribe(now: number, c: number, p: number, s: number): void {
    const C = this.m.chunks;
    const K = this.m.stripes;
    const top = this.maxSeq[p];
    let q = this.lowMiss[c * K + s];
    const oldest = top - this.m.bufferChunks + 1;
    if (q < oldest) q += Math.ceil((oldest - q) / K) * K;
    let burst = 0;
    const rootOldest = this.maxSeq[0] - this.m.bufferChunks + 1;
    const rootTop = this.maxSeq[0];
    for (; q <= rootTop; q += K) {
      if (this.have[c * C + q]) continue;
      // Beyond the parent's newest chunk, the parent forwards what it gets later, except what
      // precedes its own join point: that, too, is fetched from the root.
      if (q > top && q >= this.startSeq[p]) continue;
      burst++;
      if (this.have[p * C + q]) this.send(now, p, c, q, this.m.repairMs + (burst - 1) * this.m.edgeMs);
      // The new parent lacks it: the child's repair scan FETCHes it from the coordinator
      // (the root), as upstream.ts does (one more round trip).
      else if (this.have[q] && q >= rootOldest) this.send(now, 0, c, q, 2 * this.m.repairMs + (burst - 1) * this.m.edgeMs);
    }
  }

  /**
   * @brief Installs parents per stripe (`-1` = unplaced) and rebuilds the child lists.
   * @param parents `parents[s * capacity + child]`, as the coordinator computed them.
   * @param slots Slots per peer index (root included) to check restriction 3.
   * @return Peers with more edges over all stripes than their slots (must stay 0).
   */
  install(parents: Int32Array, slots: (p: number) => number): number {
    const K = this.m.stripes;
    const N = this.capacity;
    const edges = new Int32Array(N);
    for (let s = 0; s < K; s++) {
      const off = this.childOff[s].fill(0);
      for (let c = 0; c < N; c++) {
        const p = parents[s * N + c];
        this.parent[c * K + s] = p;
        if (p >= 0) { off[p + 1]++; edges[p]++; }
      }
      for (let i = 0; i < N; i++) off[i + 1] += off[i];
      const fill = off.slice(0, N);
      const list = new Int32Array(off[N]);
      for (let c = 0; c < N; c++) {
        const p = parents[s * N + c];
        if (p >= 0) list[fill[p]++] = c;
      }
      this.childList[s] = list;
    }
    let over = 0;
    for (let p = 1; p < N; p++) if (edges[p] > slots(p)) over++;
    return over;
  }

  /**
   * @brief Child lists of stripe s in CSR form: children of p are list[off[p] .. off[p+1]).
   * @param s Stripe.
   * @return Offsets and the flat list.
   */
  children(s: number): { off: Int32Array; list: Int32Array } {
    return { off: this.childOff[s], list: this.childList[s] };
  }
}
