/**
 * @file engine.ts
 * @brief Discrete-event simulation of the relaytv overlay under churn, driving placement.ts.
 *
 * Model (time in ms, one event heap, see heap.ts):
 * - Source: the root (peer 0) emits chunk `seq` at `seq * periodMs` (2000 ms) in stripe
 *   `seq mod K`, and forwards it to its children in that stripe.
 * - Links: an edge p -> c delivers a chunk after latency(p, c) (uniform in [latMin, latMax],
 *   fixed per pair) + the transfer time `chunkBytes / (upload / slots)`: every peer splits its
 *   upload evenly over its slots, so edges never queue behind each other. A peer forwards a
 *   chunk to each child (of the chunk's stripe) lacking it the moment it receives it: one heap
 *   event per edge, so a failure cuts exactly the transfers in flight from the dead peer.
 * - Coordinator: the project's own Membership and Forest (sim/coordinator.ts is only an adapter):
 *   a join, a detected failure and the rebalance period change the placement at once, as in a
 *   peer; the data plane follows the moved edges once per `tickMs` (a publication: its UPDATEs
 *   and REPLICAs are encoded with the real codec to count control bytes). Each subscription that
 *   changed is served after `repairMs` (publish + subscribe round trip).
 * - Churn R: failures are a Poisson process of rate N*R per minute; each kills a random live
 *   non-root peer, and a new peer joins at the same time (N stays constant; `replace`). The coordinator
 *   learns of the failure `detectMs` later (the member stays in the view until then).
 * - Repair: a peer whose parent changed re-subscribes from its first missing chunk of the
 *   stripe; the new parent sends what it holds of them within its ring buffer (the last
 *   `bufferChunks` sequence numbers), back to back. Older chunks, or ones the parent never
 *   gets, are lost. Chunks a parent receives later are forwarded as usual (repairs cascade).
 * - Drain: emission and churn stop at `seconds`; the run ends when no event is left.
 */
import { EventHeap, rng } from './heap';
import { ARRIVE, Network } from './network';
import { Coordinator, Recompute } from './coordinator';
import { measure, SimResult } from './report';
import { BUFFER_CHUNKS, HEARTBEAT_TIMEOUT_MS, REBALANCE_MS, TICK_MS } from '../src/constants';

/** Parameters of one run (see the model above). */
export interface SimConfig {
  peers: number; churn: number; slots: number; stripes: number; seconds: number; seed: number;
  rootSlots: number; periodMs: number; chunkBytes: number; uploadMbps: number;
  latMinMs: number; latMaxMs: number; detectMs: number; repairMs: number;
  bufferChunks: number; tickMs: number; rebalanceMs: number;
  /** A new peer joins at each failure (N constant); false lets the overlay shrink. */
  replace: boolean;
}

/**
 * Defaults: the course's 2 s chunks of 125 KB, 10 Mbit/s uploads, 2 slots, 2 stripes, and the
 * peer's own constants (detection = heartbeat timeout + one tick, ring buffer, rebalance period).
 */
export const DEFAULTS: SimConfig = {
  peers: 1000, churn: 0.01, slots: 2, stripes: 2, seconds: 60, seed: 1,
  rootSlots: 2, periodMs: 2000, chunkBytes: 125_000, uploadMbps: 10,
  latMinMs: 5, latMaxMs: 40, detectMs: HEARTBEAT_TIMEOUT_MS + TICK_MS, repairMs: 50,
  bufferChunks: BUFFER_CHUNKS, tickMs: 1000, rebalanceMs: REBALANCE_MS, replace: true,
};

const EMIT = 2;
const FAIL = 3;
const DETECT = 4;
const TICK = 5;
const REBALANCE = 6;

/** Counters the run accumulates (read by report.ts). */
export interface Counters {
  failures: number; repairMoves: number; maxRepairMoves: number; rebalanceMoves: number;
  recomputes: number; placeMsSum: number; placeMsMax: number; unplacedMax: number;
  slotViolations: number; controlBytes: number;
}

/**
 * @brief Runs one simulation.
 * @param cfg Parameters (missing ones from DEFAULTS).
 * @return The measured figures.
 */
export function simulate(cfg: Partial<SimConfig>): SimResult {
  const c: SimConfig = { ...DEFAULTS, ...cfg };
  const wall0 = performance.now();
  const cpu0 = process.cpuUsage();
  const random = rng(c.seed);
  const endMs = c.seconds * 1000;
  const chunks = Math.ceil(endMs / c.periodMs);
  const failAt: number[] = [];
  const rate = (c.peers * c.churn) / 60_000;
  for (let t = 0; rate > 0;) {
    t += -Math.log(1 - random()) / rate;
    if (t >= endMs) break;
    failAt.push(t);
  }
  const capacity = c.peers + 1 + (c.replace ? failAt.length : 0);
  const heap = new EventHeap();
  const K = c.stripes;
  const net = new Network(capacity, {
    stripes: K, chunks, chunkBytes: c.chunkBytes,
    edgeMs: (c.chunkBytes * 8 * c.slots) / (c.uploadMbps * 1000),
    latMinMs: c.latMinMs, latMaxMs: c.latMaxMs, bufferChunks: c.bufferChunks,
    repairMs: c.repairMs, periodMs: c.periodMs,
  }, heap);
  const coord = new Coordinator(capacity, K, c.rootSlots);
  const n: Counters = {
    failures: 0, repairMoves: 0, maxRepairMoves: 0, rebalanceMoves: 0, recomputes: 0,
    placeMsSum: 0, placeMsMax: 0, unplacedMax: 0, slotViolations: 0, controlBytes: 0,
  };
  const live = new Int32Array(capacity); // live non-root peers, swap-removed
  const livePos = new Int32Array(capacity);
  let liveCount = 0;
  let nextPeer = 1;
  let nextSeq = 0;
  let dirty = false;
  let now = 0;
  const addPeer = (): void => {
    const p = nextPeer++;
    net.alive[p] = 1;
    livePos[p] = liveCount;
    live[liveCount++] = p;
    coord.join(p, c.slots, now);
    dirty = true;
  };
  const apply = (now: number, r: Recompute, rebalance: boolean): void => {
    n.recomputes++;
    n.placeMsSum += r.placeMs;
    n.placeMsMax = Math.max(n.placeMsMax, r.placeMs);
    n.unplacedMax = Math.max(n.unplacedMax, r.unplaced);
    n.controlBytes += r.controlBytes;
    if (rebalance) n.rebalanceMoves += r.moves;
    else {
      n.repairMoves += r.moves;
      n.maxRepairMoves = Math.max(n.maxRepairMoves, r.moves);
    }
    const changed: number[] = [];
    for (let p = 1; p < nextPeer; p++) {
      if (!net.alive[p]) continue;
      for (let s = 0; s < K; s++) {
        const to = coord.parents[s * capacity + p];
        if (to >= 0 && to !== net.parent[p * K + s]) changed.push(p, s);
      }
    }
    n.slotViolations += net.install(coord.parents, coord.slotsOf());
    for (let i = 0; i < changed.length; i += 2) {
      const p = changed[i];
      if (net.startSeq[p] < 0) net.start(p, nextSeq);
      net.subscribe(now, p, coord.parents[changed[i + 1] * capacity + p], changed[i + 1]);
    }
  };
  const recompute = (at: number, rebalance: boolean): void => {
    if (dirty) { dirty = false; apply(at, coord.publish(nextSeq - 1), false); }
    if (rebalance) { coord.rebalance(at); apply(at, coord.publish(nextSeq - 1), true); }
  };

  net.alive[0] = 1;
  for (let i = 0; i < c.peers; i++) addPeer();
  recompute(0, false);
  // The bootstrap's displacements are not repairs.
  n.repairMoves = 0;
  n.maxRepairMoves = 0;
  heap.push(0, EMIT, 0, 0);
  for (let i = 0; i < failAt.length; i++) heap.push(failAt[i], FAIL, i, 0);
  if (c.tickMs > 0) heap.push(c.tickMs, TICK, 0, 0);
  if (c.rebalanceMs > 0 && c.rebalanceMs < endMs) heap.push(c.rebalanceMs, REBALANCE, 0, 0);
  const top = heap.top;
  while (heap.pop()) {
    now = top.time;
    switch (top.kind) {
      case ARRIVE: net.arrive(now, top.a, top.b, top.c); break;
      case EMIT: {
        const seq = top.a;
        nextSeq = seq + 1;
        net.emit(now, seq);
        if (nextSeq < chunks) heap.push(nextSeq * c.periodMs, EMIT, nextSeq, 0);
        break;
      }
      case FAIL: {
        if (liveCount === 0) break;
        const victim = live[Math.floor(random() * liveCount)];
        const last = live[--liveCount];
        live[livePos[victim]] = last;
        livePos[last] = livePos[victim];
        net.alive[victim] = 0;
        n.failures++;
        heap.push(now + c.detectMs, DETECT, victim, 0);
        if (c.replace) addPeer();
        if (c.replace && c.tickMs <= 0) recompute(now, false);
        break;
      }
      case DETECT:
        coord.leave(top.a, now);
        dirty = true;
        if (c.tickMs <= 0) recompute(now, false);
        break;
      case TICK:
        if (dirty) recompute(now, false);
        if (now < endMs || heap.size > 0) heap.push(now + c.tickMs, TICK, 0, 0);
        break;
      case REBALANCE:
        recompute(now, true);
        if (now + c.rebalanceMs < endMs) heap.push(now + c.rebalanceMs, REBALANCE, 0, 0);
        break;
    }
  }
  if (dirty) recompute(endMs, false);
  const cpu = process.cpuUsage(cpu0);
  return measure(c, net, n, chunks, performance.now() - wall0, (cpu.user + cpu.system) / 1000);
}
