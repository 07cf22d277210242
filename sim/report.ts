/**
 * @file report.ts
 * @brief Figures of one simulation run, and the table the CLI prints.
 */
import { jain, maxOverMean } from '../src/peer/fairness';
import type { Counters, SimConfig } from './engine';
import type { Network } from './network';

/** Measured figures of one run (also the JSON the CLI writes). */
export interface SimResult {
  peers: number; churn: number; slots: number; stripes: number; seconds: number; seed: number;
  tickMs: number;
  /** Chunks the source emitted. */
  chunks: number;
  /** Peers that failed (each replaced by a joiner). */
  failures: number;
  /** Deepest member per stripe at the end: mean and max over stripes; mean member depth. */
  depthMean: number; depthMax: number; memberDepthMean: number;
  /** Live members the final forest does not reach (must be 0). */
  unreached: number;
  /** Bytes sent by peers alive the whole run (all have equal slots): Jain's index, max/mean. */
  jain: number; maxOverMean: number;
  /** Chunks survivors missed / chunks they should have received (from their first placement). */
  loss: number; lost: number; expected: number;
  /** Subscription changes of existing members in membership recomputes, per failure; worst recompute. */
  repairPerFailure: number; maxRepairMoves: number;
  /** Subscription changes made by the rotation, per simulated minute. */
  rebalanceMovesPerMin: number;
  /** Worst (member, stripe) pairs left unplaced by a decision; peers over their slots, summed. */
  unplacedMax: number; slotViolations: number;
  /** Wasted deliveries (receiver had the chunk) / useful deliveries. */
  dupRatio: number;
  /** Push-to-disk latency of chunk deliveries, ms. */
  latMeanMs: number; latMaxMs: number;
  /** Publications, and the membership's wall time per publication (every change of that window), mean and max, ms. */
  recomputes: number; placeMsMean: number; placeMsMax: number;
  /** Control bytes (UPDATEs and REPLICAs, the real codec) per member per simulated minute. */
  controlBytesPerMemberPerMin: number;
  /** Wall time of the whole run, and CPU time of this process during it, ms. */
  wallMs: number; cpuMs: number;
}

/**
 * @brief Computes the figures at the end of a run.
 * @param c The run's parameters.
 * @param net Final data-plane state.
 * @param n Counters of the run.
 * @param chunks Chunks emitted.
 * @param wallMs Wall time of the run.
 * @param cpuMs CPU time of the run.
 * @return The result record.
 */
export function measure(c: SimConfig, net: Network, n: Counters, chunks: number, wallMs: number,
  cpuMs: number): SimResult {
  const N = net.capacity;
  let depthSum = 0;
  let depthMax = 0;
  let memberDepthSum = 0;
  let placed = 0;
  let unreached = 0;
  for (let s = 0; s < c.stripes; s++) {
    const d = depths(net, s);
    let max = 0;
    for (let p = 1; p < N; p++) {
      if (!net.alive[p]) continue;
      if (d[p] < 0) { unreached++; continue; }
      max = Math.max(max, d[p]);
      memberDepthSum += d[p];
      placed++;
    }
    depthSum += max;
    depthMax = Math.max(depthMax, max);
  }
  const sentWhole: number[] = [];
  for (let p = 1; p <= c.peers; p++) if (net.alive[p]) sentWhole.push(net.sent[p]);
  let expected = 0;
  let received = 0;
  // The last two chunks may still be in flight when the run ends: they are not counted.
  const settled = Math.max(0, chunks - 2);
  for (let p = 1; p < N; p++) {
    if (!net.alive[p]) continue;
    const from = net.startSeq[p] < 0 ? 0 : net.startSeq[p];
    if (from >= settled) continue;
    expected += settled - from;
    for (let q = from; q < settled; q++) received += net.have[p * chunks + q];
  }
  const minutes = c.seconds / 60;
  return {
    peers: c.peers, churn: c.churn, slots: c.slots, stripes: c.stripes, seconds: c.seconds,
    seed: c.seed, tickMs: c.tickMs, chunks, failures: n.failures,
    depthMean: depthSum / c.stripes, depthMax, memberDepthMean: placed ? memberDepthSum / placed : 0,
    unreached,
    jain: jain(sentWhole), maxOverMean: maxOverMean(sentWhole),
    loss: expected ? (expected - received) / expected : 0, lost: expected - received, expected,
    repairPerFailure: n.failures ? n.repairMoves / n.failures : 0, maxRepairMoves: n.maxRepairMoves,
    rebalanceMovesPerMin: minutes ? n.rebalanceMoves / minutes : 0,
    unplacedMax: n.unplacedMax, slotViolations: n.slotViolations,
    dupRatio: net.arrivals ? net.dupArrivals / net.arrivals : 0,
    latMeanMs: net.arrivals ? net.latSum / net.arrivals : 0, latMaxMs: net.latMax,
    recomputes: n.recomputes, placeMsMean: n.recomputes ? n.placeMsSum / n.recomputes : 0,
    placeMsMax: n.placeMsMax, wallMs, cpuMs,
    controlBytesPerMemberPerMin: minutes ? n.controlBytes / c.peers / minutes : 0,
  };
}

/**
 * @brief Depth of every peer in stripe s, breadth first from the root (-1 = not reached).
 * @param net Data-plane state.
 * @param s Stripe.
 * @return Depths indexed by peer.
 */
function depths(net: Network, s: number): Int32Array {
  const d = new Int32Array(net.capacity).fill(-1);
  const { off, list } = net.children(s);
  const queue = new Int32Array(net.capacity);
  let head = 0;
  let tail = 0;
  d[0] = 0;
  queue[tail++] = 0;
  while (head < tail) {
    const p = queue[head++];
    for (let i = off[p]; i < off[p + 1]; i++) {
      if (d[list[i]] < 0) { d[list[i]] = d[p] + 1; queue[tail++] = list[i]; }
    }
  }
  return d;
}

/** Columns of the printed table: header and how to format a result. */
const COLUMNS: [string, (r: SimResult) => string][] = [
  ['peers', (r) => String(r.peers)],
  ['churn/min', (r) => String(r.churn)],
  ['chunks', (r) => String(r.chunks)],
  ['fails', (r) => String(r.failures)],
  ['depth mean/max', (r) => `${r.depthMean.toFixed(1)}/${r.depthMax}`],
  ['jain', (r) => r.jain.toFixed(4)],
  ['max/mean', (r) => r.maxOverMean.toFixed(3)],
  ['loss', (r) => r.loss.toExponential(2)],
  ['repair/fail', (r) => r.repairPerFailure.toFixed(1)],
  ['max repair', (r) => String(r.maxRepairMoves)],
  ['rebal/min', (r) => r.rebalanceMovesPerMin.toFixed(1)],
  ['dup', (r) => r.dupRatio.toFixed(4)],
  ['lat max ms', (r) => r.latMaxMs.toFixed(0)],
  ['membership ms', (r) => r.placeMsMean.toFixed(1)],
  ['control B/member/min', (r) => r.controlBytesPerMemberPerMin.toFixed(0)],
  ['wall s', (r) => (r.wallMs / 1000).toFixed(1)],
  ['cpu s', (r) => (r.cpuMs / 1000).toFixed(1)],
];

/**
 * @brief Formats results as an aligned text table.
 * @param results One row per run.
 * @return The table, header first.
 */
export function formatTable(results: SimResult[]): string {
  const rows = [COLUMNS.map(([h]) => h), ...results.map((r) => COLUMNS.map(([, f]) => f(r)))];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  return rows.map((row) => row.map((v, i) => v.padStart(widths[i])).join('  ')).join('\n');
}
