/**
 * @file figures.ts
 * @brief Every figure of one overlay run (overlay.ts), from the chunk folders, the /status
 * history, the server's round log, /proc and the socket counters. The definitions are listed
 * in bench/index.ts; the ones that need a rule are written next to their code here.
 *
 * Over 300 lines because each group of figures (loss, rounds, latency and depth, balance,
 * suspicions, processes) needs the same run data; each group is one function.
 */
import type { PeerStatus } from '../src/peer/status';
import type { OverlayNet, OverlayOptions, Fault } from './overlay';
import {
  ProcSampler, StatusPoller, StatusSample, SocketBytes, FileInfo, parentsOf, parseRounds, contentSizes, Round,
  jain, maxOverMean, percentile, r, deliveredBetween, SOCKET_RULE,
} from './common';

/** Raw data kept for plots. */
export interface OverlayRaw {
  sentDelta: { k: number; ip: string; bytes: number; source: boolean }[];
  latencies: number[];
  latenciesSrc: number[];
  reattaches: { t: number; k: number; ms: number; n: number }[];
  events: { t: number; kind: string; k: number; detail?: unknown }[];
  t0: number;
}

/** Inputs of the analysis. */
export interface AnalyzeIn {
  net: OverlayNet; opts: OverlayOptions; periodMs: number;
  alive: Set<number>; aliveAtT0: Set<number>; faults: Fault[];
  /** When each peer was started (its 'peer started' line). */
  startedAt: Map<number, number>;
  folders: Map<number, Map<number, FileInfo>>; poller: StatusPoller; sampler: ProcSampler;
  t0: number; T: number; tEnd: number; L: number; srcK: number | undefined;
  pidsOf: (k: number) => number[]; sock: SocketBytes; sockMark: Map<string, number>; slotsOf: Map<number, number>;
}

/** The origin copy of a sequence: the folder holding it earliest (the source writes before relaying). */
type Origins = Map<number, { k: number; mtimeMs: number; size: number }>;

/**
 * Mixed slots: the fair split is max-min fair. The overlay needs neededEdges edges from the peers
 * that are not direct; a peer cannot hold more than its slots (restriction 3). The level L
 * (fairShareEdges) with sum over those peers of min(slots_i, L) = neededEdges is each one's fair
 * share: a peer with fewer slots is fair at its cap (cappedUse says how near), and the peers whose
 * slots allow L should send equal bytes (jain, maxOverMean over them).
 */
const MIXED_BALANCE = 'peers alive the whole window whose slots allow the max-min fair share (slots >= fairShareEdges), the direct peer excluded';

/**
 * @brief The max-min fair level of `need` edges over peers capped at `caps`: the L with
 * sum of min(cap_i, L) = need (Infinity when the caps cannot carry it).
 */
export function fairLevel(caps: number[], need: number): number {
  const sorted = [...caps].sort((x, y) => x - y);
  let left = need;
  for (let i = 0; i < sorted.length; i++) {
    const rest = sorted.length - i; // peers whose cap is >= sorted[i]
    if (sorted[i] * rest >= left) return left / rest;
    left -= sorted[i];
  }
  return left <= 0 ? (sorted.at(-1) ?? 0) : Infinity;
}
/** Equal slots: every peer alive the whole window but the direct peer. */
const EQUAL_BALANCE = 'peers alive the whole window, the direct peer (source) excluded';

/**
 * The fair split (idealSharePerPeer): over the window the overlay must carry one stream of B
 * bytes to each of the N-1 peers that are not direct, (N-1)·B in all; spread evenly over the N
 * peers that is (N-1)·B/N each. The direct peer cannot send less than B (every chunk once,
 * one child per stripe), so the others' fair share is (N-2)·B/(N-1) (idealShareOthers), the
 * value the balanced peers' bytes are compared with (meanSentOverIdeal, maxOverIdeal).
 */
const IDEAL_RULE = 'B = bytes of the chunks the source stored in [t0, T], N = peers alive at t0; '
  + 'idealSharePerPeer = (N-1)*B/N; the direct peer sends >= B (every chunk once), so idealShareOthers = (N-2)*B/(N-1)';

/** @brief Every figure of a run, and the raw data of its plots. */
export function analyze(a: AnalyzeIn): { figures: Record<string, unknown>; raw: OverlayRaw } {
  const origins = originsOf(a.folders);
  const inWindow = (seq: number) => { const s = origins.get(seq)!; return s.mtimeMs >= a.t0 && s.mtimeMs <= a.T; };
  const rounds = roundsOf(a, origins);
  const lat = latencies(a, origins, rounds, inWindow);
  const tree = treeFigures(a, origins, rounds, inWindow);
  const bal = balance(a, origins, inWindow);
  const sus = suspicions(a);
  const upload = uploadFigures(a, origins);
  const figures: Record<string, unknown> = {
    peers: a.alive.size,
    peersStarted: a.net.peers.size,
    periodS: a.opts.periodS,
    durationS: a.opts.durationS,
    chunks: [...origins.keys()].filter(inWindow).length,
    lastSeq: a.L,
    ...lostFigures(a),
    ...rounds.figures,
    ...recoveryFigures(a),
    ...bal.figures,
    ...upload,
    ...lat.figures,
    ...tree.figures,
    idealLatencyMs: r(tree.ideal, 1),
    latencyP99OverIdeal: r(percentile(lat.lat, 99) / tree.ideal, 2),
    ...sus,
    ...procFigures(a),
  };
  const raw: OverlayRaw = { sentDelta: bal.sentDelta, latencies: lat.lat, latenciesSrc: lat.latSrc, reattaches: [], events: [], t0: a.t0 };
  return { figures, raw };
}

/** @brief seq -> its origin copy. */
function originsOf(folders: Map<number, Map<number, FileInfo>>): Origins {
  const out: Origins = new Map();
  for (const [k, files] of folders) {
    for (const [seq, f] of files) {
      const cur = out.get(seq);
      if (!cur || f.mtimeMs < cur.mtimeMs) out.set(seq, { k, mtimeMs: f.mtimeMs, size: f.size });
    }
  }
  return out;
}

/** @brief Samples of peer k in time order. */
function samplesOf(p: StatusPoller, k: number): StatusSample[] {
  return p.history.filter((h) => h.k === k);
}

/**
 * @brief lost: per survivor, sequences in [its first join point, L] it has no file for. The join
 * point is the smallest firstSeq any of its /status samples gave (a restarted overlay process
 * reports a later one: its own run's, which would hide what was lost while it was down).
 */
function lostFigures(a: AnalyzeIn): Record<string, unknown> {
  const lostPerSurvivor: Record<string, number> = {};
  const lostSeqs: Record<string, number[]> = {};
  let lost = 0;
  for (const k of a.alive) {
    const files = a.folders.get(k)!;
    const firsts = samplesOf(a.poller, k).map((h) => h.s.firstSeq).filter((x): x is number => x !== null);
    const first = firsts.length ? Math.min(...firsts) : Math.min(...files.keys());
    const miss: number[] = [];
    for (let s = first; s <= a.L; s++) if (!files.has(s)) miss.push(s);
    lost += miss.length;
    lostPerSurvivor[a.net.ip(k)] = miss.length;
    if (miss.length) lostSeqs[a.net.ip(k)] = miss.slice(0, 20);
  }
  const final = (k: number) => a.poller.last.get(k)?.s;
  return {
    lost, lostPerSurvivor, lostMaxPerSurvivor: Math.max(0, ...Object.values(lostPerSurvivor)), lostSeqsSample: lostSeqs,
    chunksLostReportedByPeers: [...a.alive].reduce((x, k) => x + (final(k)?.chunksLost ?? 0), 0),
  };
}

/** Server rounds matched to sequences. */
interface RoundsOut { rounds: Round[]; roundOf: Map<number, number>; figures: Record<string, unknown> }

/**
 * @brief Server push rounds (ground truth of what was pushed) matched to sequences by content
 * size and time; roundsMissed: rounds in [t0, T - period] whose chunk no survivor holds.
 */
function roundsOf(a: AnalyzeIn, origins: Origins): RoundsOut {
  const rounds = parseRounds(a.net.server!.log);
  const sizes = contentSizes();
  const roundOf = new Map<number, number>();
  const used = new Set<number>();
  for (const [seq, src] of [...origins].sort((x, y) => x[0] - y[0])) {
    let best = -1;
    for (let i = 0; i < rounds.length; i++) {
      const rd = rounds[i];
      if (used.has(i) || sizes[rd.index] !== src.size) continue;
      const dt = src.mtimeMs - rd.pushStartMs;
      if (dt >= -5 && dt < 2 * a.periodMs && (best < 0 || rd.pushStartMs > rounds[best].pushStartMs)) best = i;
    }
    if (best >= 0) { roundOf.set(seq, best); used.add(best); }
  }
  const window = rounds.map((rd, i) => ({ rd, i })).filter(({ rd }) => rd.pushStartMs >= a.t0 && rd.pushStartMs <= a.T - a.periodMs);
  const delivered = new Set<number>();
  for (const [seq, i] of roundOf) if ([...a.alive].some((k) => a.folders.get(k)!.has(seq))) delivered.add(i);
  const missed = window.filter(({ i }) => !delivered.has(i));
  return {
    rounds, roundOf, figures: {
      serverRoundsInWindow: window.length,
      roundsMissed: missed.length,
      roundsMissedDetail: missed.map(({ rd }) => ({ atS: r((rd.pushStartMs - a.t0) / 1000, 2), index: rd.index, clients: rd.clients })),
    },
  };
}

/**
 * @brief latency: a peer's file mtime minus the server's push start of that chunk (every chunk
 * whose origin copy is in [t0, T], every peer but the origin: a hung or killed parent's children
 * are in it; not a chunk made before its receiver started: a joiner's catch-up is not live
 * latency); latencyFromSource: minus the origin file's mtime; latencyWorst: the slowest
 * deliveries (peer, sequence, ms from the origin's file, when it was stored).
 */
function latencies(a: AnalyzeIn, origins: Origins, ro: RoundsOut, inWindow: (seq: number) => boolean) {
  const lat: number[] = [];
  const latSrc: number[] = [];
  const worst: { ip: string; seq: number; fromSourceMs: number; atS: number }[] = [];
  for (const [k, files] of a.folders) {
    for (const [seq, f] of files) {
      const src = origins.get(seq)!;
      if (src.k === k || !inWindow(seq) || src.mtimeMs < (a.startedAt.get(k) ?? 0)) continue;
      latSrc.push(f.mtimeMs - src.mtimeMs);
      worst.push({ ip: a.net.ip(k), seq, fromSourceMs: r(f.mtimeMs - src.mtimeMs, 1)!, atS: r((f.mtimeMs - a.t0) / 1000, 2)! });
      const i = ro.roundOf.get(seq);
      if (i !== undefined) lat.push(f.mtimeMs - ro.rounds[i].pushStartMs);
    }
  }
  worst.sort((x, y) => y.fromSourceMs - x.fromSourceMs);
  return {
    lat, latSrc, figures: {
      latencyP50Ms: r(percentile(lat, 50), 1),
      latencyP99Ms: r(percentile(lat, 99), 1),
      latencyMaxMs: r(lat.length ? Math.max(...lat) : NaN, 1),
      latencyFromSourceP50Ms: r(percentile(latSrc, 50), 1),
      latencyFromSourceP99Ms: r(percentile(latSrc, 99), 1),
      latencySamples: lat.length,
      latencyWorst: worst.slice(0, 8),
    },
  };
}

/**
 * @brief Depth and hops. maxDepth: the largest /status maxDepth any coordinator reported over the
 * run (its forest's deepest level, the source at 0). hop: child mtime - parent mtime for the
 * parent the /status snapshot nearest in time names; maxDepthWalked: the deepest path found by
 * walking those parents up to the origin. ideal = serverHop (push start -> source disk, median)
 * + maxDepth (in the window) x hop (median). depthBound = ceil(log_f N) + 2, f = min(slots,
 * stripes) (mixed: the mean of min(slots_i, stripes) over the non-direct peers at t0); N when f <= 1.
 */
function treeFigures(a: AnalyzeIn, origins: Origins, ro: RoundsOut, inWindow: (seq: number) => boolean) {
  const snaps = new Map<number, StatusSample[]>();
  for (const h of a.poller.history) {
    const arr = snaps.get(h.k) ?? [];
    arr.push(h);
    snaps.set(h.k, arr);
  }
  const kOfIp = new Map([...a.net.peers.keys()].map((k) => [a.net.ip(k), k]));
  const parentAt = (k: number, stripe: number, t: number): number | undefined => {
    const arr = snaps.get(k);
    if (!arr) return undefined;
    let best = arr[0];
    for (const x of arr) if (x.t <= t + 500) best = x;
    const ip = parentsOf(best.s).get(stripe);
    return ip ? kOfIp.get(ip) : undefined;
  };
  const K = stripesOf(a);
  const hops: number[] = [];
  const depths: number[] = [];
  const serverHop: number[] = [];
  for (const [seq, src] of origins) {
    const i = ro.roundOf.get(seq);
    if (i !== undefined && ro.rounds[i].pushStartMs >= a.t0 - a.periodMs) serverHop.push(src.mtimeMs - ro.rounds[i].pushStartMs);
  }
  for (const [k, files] of a.folders) {
    for (const [seq, f] of files) {
      const src = origins.get(seq)!;
      if (src.k === k || !inWindow(seq)) continue;
      const p = parentAt(k, seq % K, src.mtimeMs);
      const pf = p !== undefined ? a.folders.get(p)?.get(seq) : undefined;
      if (pf && f.mtimeMs >= pf.mtimeMs) hops.push(f.mtimeMs - pf.mtimeMs);
      let d = 0;
      let cur: number | undefined = k;
      const seen = new Set<number>();
      while (cur !== undefined && cur !== src.k && !seen.has(cur) && d < 64) {
        seen.add(cur);
        cur = parentAt(cur, seq % K, src.mtimeMs);
        d++;
      }
      if (cur === src.k) depths.push(d);
    }
  }
  const coordDepth = (from: number) => Math.max(-1, ...a.poller.history
    .filter((h) => h.t >= from && h.s.role === 'coordinator' && h.s.maxDepth !== null).map((h) => h.s.maxDepth!));
  const maxDepth = coordDepth(0);
  const windowDepth = coordDepth(a.t0);
  const walked = depths.length ? Math.max(...depths) : NaN;
  const hopP50 = percentile(hops, 50);
  const serverHopP50 = percentile(serverHop, 50);
  const bound = depthBound(a, K);
  const ideal = serverHopP50 + (windowDepth >= 0 ? windowDepth : walked) * hopP50;
  return {
    ideal, figures: {
      stripes: K,
      maxDepth: maxDepth >= 0 ? maxDepth : null,
      maxDepthInWindow: windowDepth >= 0 ? windowDepth : null,
      depthBound: bound.bound,
      depthBoundFanOut: r(bound.f, 2),
      maxDepthWithinBound: maxDepth >= 0 ? maxDepth <= bound.bound : null,
      maxDepthWalked: Number.isFinite(walked) ? walked : null,
      depthWalkedP50: percentile(depths, 50),
      serverHopP50Ms: r(serverHopP50, 1),
      hopP50Ms: r(hopP50, 1),
      hopP99Ms: r(percentile(hops, 99), 1),
    },
  };
}

/** @brief Stripes K: the coordinator's /status, else the highest stripe any upstream link carries + 1. */
function stripesOf(a: AnalyzeIn): number {
  const c = a.poller.history.filter((h) => h.s.role === 'coordinator' && h.s.stripes > 0).at(-1);
  if (c) return c.s.stripes;
  return Math.max(1, ...a.poller.history.flatMap((h) => h.s.upstream.flatMap((u) => u.stripes.map((x) => x + 1))));
}

/** @brief The depth bound of treeFigures and its fan-out f. */
function depthBound(a: AnalyzeIn, K: number): { bound: number; f: number } {
  const N = a.aliveAtT0.size;
  const others = [...a.aliveAtT0].filter((k) => k !== a.srcK);
  const fan = others.map((k) => Math.min(a.slotsOf.get(k) ?? 0, K));
  const f = fan.length ? fan.reduce((x, y) => x + y, 0) / fan.length : 0;
  return { bound: f > 1 ? Math.ceil(Math.log(N) / Math.log(f) - 1e-9) + 2 : N, f };
}

/**
 * @brief Chunk bytes peer k sent between its last sample at or before `from` and its last at or
 * before `to`. A new overlay pid starts its counter at 0: its first sample counts whole (what
 * the dead process sent after its last sample is not seen). null without both samples.
 */
function sentBetween(samples: StatusSample[], from: number, to: number): number | null {
  const lastAtOrBefore = (t: number) => { let i = -1; samples.forEach((h, j) => { if (h.t <= t) i = j; }); return i; };
  const i0 = lastAtOrBefore(from);
  const i1 = lastAtOrBefore(to);
  if (i0 < 0 || i1 < i0) return null;
  let sum = 0;
  for (let i = i0 + 1; i <= i1; i++) {
    const x = samples[i - 1].s;
    const y = samples[i].s;
    sum += y.pid === x.pid ? Math.max(0, y.bytesSent - x.bytesSent) : y.bytesSent;
  }
  return sum;
}

/** @brief jain / maxOverMean of chunk bytes sent over [t0, T] (balanceOver says over whom) and the ideal share. */
function balance(a: AnalyzeIn, origins: Origins, inWindow: (seq: number) => boolean) {
  const mixed = !!a.opts.slotsOf;
  const K = stripesOf(a);
  const wasDirect = (k: number) => a.poller.history.some((h) => h.k === k && h.t >= a.t0 && h.s.direct);
  const whole = [...a.aliveAtT0].filter((k) => a.alive.has(k));
  const sentDelta = whole.map((k) => ({ k, ip: a.net.ip(k), bytes: sentBetween(samplesOf(a.poller, k), a.t0, a.T) ?? 0, source: k === a.srcK || wasDirect(k) }));
  const N = a.aliveAtT0.size;
  const neededEdges = Math.max(0, (N - 1) * K - K);
  const others = sentDelta.filter((x) => !x.source);
  const slotsOf = (k: number): number => a.slotsOf.get(k) ?? 0;
  const level = mixed ? fairLevel(others.map((x) => slotsOf(x.k)), neededEdges) : NaN;
  const balanced = others.filter((x) => !mixed || slotsOf(x.k) >= level);
  const vals = balanced.map((x) => x.bytes);
  let B = 0;
  for (const [seq, o] of origins) if (inWindow(seq)) B += o.size;
  // A capped peer's use of its fair share (its slots x B/K bytes): 1 when it sends all it may.
  const cappedUse = mixed ? others.filter((x) => slotsOf(x.k) > 0 && slotsOf(x.k) < level).map((x) => x.bytes / ((slotsOf(x.k) * B) / K)) : [];
  const shareOthers = N > 1 ? ((N - 2) * B) / (N - 1) : NaN;
  const mean = vals.length ? vals.reduce((x, y) => x + y, 0) / vals.length : NaN;
  const slotsPerPeer = Object.fromEntries([...a.slotsOf].map(([k, s]) => [a.net.ip(k), s]));
  // Capacity: the source feeds one child per stripe; every other peer must get K edges from the
  // slots of the peers that are not the source (restriction 3 caps each at its slots).
  const capacityEdges = whole.filter((k) => k !== a.srcK).reduce((n, k) => n + (a.slotsOf.get(k) ?? 0), 0);
  return {
    sentDelta, figures: {
      slots: mixed ? null : a.opts.slots ?? 2,
      mixed,
      slotsPerPeer,
      capacityEdges,
      neededEdges,
      capacityAllowsAll: capacityEdges >= neededEdges,
      jain: r(jain(vals), 4),
      maxOverMean: r(maxOverMean(vals), 3),
      balanceOver: mixed ? MIXED_BALANCE : EQUAL_BALANCE,
      balancePeers: vals.length,
      fairShareEdges: mixed ? r(level, 2) : null,
      cappedPeers: cappedUse.length,
      cappedUseMin: cappedUse.length ? r(Math.min(...cappedUse), 3) : null,
      cappedUseMean: cappedUse.length ? r(cappedUse.reduce((x, y) => x + y, 0) / cappedUse.length, 3) : null,
      jainAllPeers: r(jain(sentDelta.map((x) => x.bytes)), 4),
      sentPerPeer: Object.fromEntries(sentDelta.map((x) => [x.ip, { bytes: x.bytes, slots: a.slotsOf.get(x.k), source: x.source }])),
      streamBytesInWindow: B,
      idealSharePerPeer: r(N > 0 ? ((N - 1) * B) / N : NaN, 0),
      idealShareOthers: r(shareOthers, 0),
      idealShareRule: IDEAL_RULE,
      meanSentOverIdeal: r(mean / shareOthers, 3),
      maxOverIdeal: r(Math.max(...vals) / shareOthers, 3),
    },
  };
}

/**
 * @brief Upload on the wire: TCP bytes the peers' processes sent over [t0, tEnd] (SOCKET_RULE)
 * over the chunk bytes stored by every peer but the origin over the same interval; duplicateRatio:
 * the peers' own chunk-byte counters (whole run) over the chunk bytes they all stored.
 */
function uploadFigures(a: AnalyzeIn, origins: Origins): Record<string, unknown> {
  let sentAll = 0;
  for (const k of a.net.peers.keys()) sentAll += a.poller.last.get(k)?.s.bytesSent ?? 0;
  const originOf = (seq: number) => origins.get(seq)?.k;
  const deliveredAll = deliveredBetween(a.folders, originOf, 0, Infinity);
  const out: Record<string, unknown> = {
    duplicateRatio: r(sentAll / Math.max(1, deliveredAll), 4),
    dataBytesSent: sentAll,
    bytesDelivered: deliveredAll,
    duplicatesReceived: [...a.net.peers.keys()].reduce((x, k) => x + (a.poller.last.get(k)?.s.duplicates ?? 0), 0),
  };
  if (!a.opts.socketBytes) return out;
  const sockSent = a.sock.sentSince(a.sockMark);
  const delivered = deliveredBetween(a.folders, originOf, a.t0, a.tEnd);
  const by = a.sock.byPid();
  const relays = [...a.aliveAtT0].filter((k) => a.alive.has(k) && k !== a.srcK)
    .map((k) => a.pidsOf(k).reduce((x, pid) => x + (by.get(pid) ?? 0), 0));
  return {
    ...out,
    uploadPerDelivered: a.sock.available ? r(sockSent / Math.max(1, delivered), 4) : null,
    uploadCountedBy: a.sock.available ? SOCKET_RULE : 'ss failed: not counted',
    socketBytesSent: sockSent,
    socketWindowBytesDelivered: delivered,
    jainSocketRelays: r(jain(relays), 4),
  };
}

/** @brief Recoveries the peers report (lastReattachMs sampled; maxReattachMs, the worst of each peer's run). */
function recoveryFigures(a: AnalyzeIn): Record<string, unknown> {
  const recs = a.poller.reattaches.filter((x) => x.t >= a.t0 - 2000);
  const everyLast = [...a.poller.last.values()].map((x) => x.s);
  return {
    recoveries: recs.reduce((x, y) => x + y.n, 0),
    recoveryMsMax: recs.length ? Math.max(...recs.map((x) => x.ms)) : null,
    recoveryMsP50: recs.length ? percentile(recs.map((x) => x.ms), 50) : null,
    // Failure -> a new parent accepted the orphaned stripe (SUBSCRIBED), every peer ever polled.
    reattachMsMax: Math.max(0, ...everyLast.map((s) => s.maxReattachMs ?? 0)) || null,
  };
}

/** How false suspicions are counted (written into the results). */
const SUSPICION_RULE = 'over [t0, end]: every rise of a peer\'s /status silenceDetections (PEER_TIMEOUT closes) '
  + 'not explained by an injected fault, plus every coordinator-side removal of a peer that was running. A detection is '
  + 'explained when its poll interval overlaps [fault, fault + 3 s] (a hang: [hang, hang + its length + 3 s]) and the '
  + 'detecting peer and the victim named each other in /status (upstream, downstream, members) around then, or one '
  + 'of them was the coordinator. Removals: a running peer leaving the coordinator\'s members list between two polls, '
  + 'or its log line "member removed" / "suspect did not answer PING" naming it (within 2 s = one removal)';

/** @brief falseSuspicions (SUSPICION_RULE) and its parts. */
function suspicions(a: AnalyzeIn): Record<string, unknown> {
  const detections = silenceRises(a);
  const explained = detections.filter((d) => a.faults.some((f) => explains(a, f, d)));
  const removals = liveRemovals(a);
  const unexplained = detections.length - explained.length;
  return {
    falseSuspicions: unexplained + removals.length,
    falseSuspicionsRule: SUSPICION_RULE,
    silenceDetections: detections.length,
    silenceDetectionsExplained: explained.length,
    silenceDetectionsUnexplained: detections.filter((d) => !explained.includes(d)).map((d) => ({ ip: a.net.ip(d.k), atS: r((d.to - a.t0) / 1000, 1) })),
    removalsOfRunningPeers: removals.map((x) => ({ ip: x.ip, atS: r((x.t - a.t0) / 1000, 1), how: x.how })),
  };
}

/** One observed silence detection: peer k closed a link for silence within (from, to]. */
interface Detection { k: number; from: number; to: number }

/** @brief Each unit rise of silenceDetections between consecutive samples of a peer after t0. */
function silenceRises(a: AnalyzeIn): Detection[] {
  const out: Detection[] = [];
  for (const k of a.net.peers.keys()) {
    const arr = samplesOf(a.poller, k);
    // A peer first polled after t0 (it joined during the run): its first count is its own.
    if (arr.length && arr[0].t >= a.t0) {
      for (let j = 0; j < arr[0].s.silenceDetections; j++) out.push({ k, from: arr[0].t - 1000, to: arr[0].t });
    }
    for (let i = 1; i < arr.length; i++) {
      if (arr[i].t < a.t0) continue;
      const x = arr[i - 1].s;
      const y = arr[i].s;
      const n = y.pid === x.pid ? y.silenceDetections - x.silenceDetections : y.silenceDetections;
      for (let j = 0; j < n; j++) out.push({ k, from: arr[i - 1].t, to: arr[i].t });
    }
  }
  return out;
}

/** @brief Whether fault `f` explains detection `d` (SUSPICION_RULE). */
function explains(a: AnalyzeIn, f: Fault, d: Detection): boolean {
  const killAfter = f.kind === 'hang' ? a.faults.find((g) => g.k === f.k && g.kind === 'kill' && g.t >= f.t)?.t ?? a.tEnd : f.t;
  const until = killAfter + 3000;
  if (d.to < f.t || d.from > until || d.k === f.k) return false;
  const names = (s: PeerStatus | undefined, ip: string) => !!s && (s.role === 'coordinator'
    || [...s.upstream, ...s.downstream].some((l) => l.addr.split(':')[0] === ip) || s.members.some((m) => m.ip === ip));
  const victimIp = a.net.ip(f.k);
  const around = a.poller.history.filter((h) => h.k === d.k && h.t >= f.t - 2000 && h.t <= until);
  return names(f.before, a.net.ip(d.k)) || around.some((h) => names(h.s, victimIp));
}

/** @brief When peer k stopped running (killed or hung), Infinity if it never did. */
function stoppedAt(a: AnalyzeIn, k: number): number {
  return Math.min(Infinity, ...a.faults.filter((f) => f.k === k && f.kind !== 'overlay-kill').map((f) => f.t));
}

/** @brief Coordinator-side removals of peers that were running (SUSPICION_RULE), over [t0, end]. */
function liveRemovals(a: AnalyzeIn): { ip: string; t: number; how: string }[] {
  const kOfIp = new Map([...a.net.peers.keys()].map((k) => [a.net.ip(k), k]));
  const running = (ip: string, t: number) => { const k = kOfIp.get(ip); return k !== undefined && t < stoppedAt(a, k); };
  const out: { ip: string; t: number; how: string }[] = [];
  const coord = a.poller.history.filter((h) => h.s.role === 'coordinator' && h.t >= a.t0 - 2000);
  for (let i = 1; i < coord.length; i++) {
    const x = coord[i - 1];
    const y = coord[i];
    if (x.k !== y.k || x.s.pid !== y.s.pid) continue;
    const now = new Set(y.s.members.map((m) => m.ip));
    for (const m of x.s.members) if (!now.has(m.ip) && m.ip !== y.s.id && running(m.ip, y.t)) out.push({ ip: m.ip, t: y.t, how: 'members list' });
  }
  for (const k of a.net.peers.keys()) {
    for (const line of a.net.peers.get(k)!.log) {
      if (!line.includes('removed')) continue;
      const j = parseLine(line);
      if (!j || !/member removed|suspect did not answer PING/.test(j.msg) || typeof j.member !== 'string' || j.time < a.t0) continue;
      if (!running(j.member, j.time) || out.some((o) => o.ip === j.member && Math.abs(o.t - j.time) <= 2000)) continue;
      out.push({ ip: j.member, t: j.time, how: j.msg });
    }
  }
  return out;
}

/** @brief A JSON log line, or null. */
function parseLine(line: string): { msg: string; time: number; member?: unknown } | null {
  if (!line.startsWith('{')) return null;
  try { return JSON.parse(line) as { msg: string; time: number; member?: unknown }; } catch { return null; }
}

/**
 * @brief CPU and RSS from /proc over [t0, T], per peer the sum over its processes (holder +
 * overlay for a Testnet peer; every pid of a lab host), peers alive the whole window; the source apart.
 */
function procFigures(a: AnalyzeIn): Record<string, unknown> {
  const whole = [...a.aliveAtT0].filter((k) => a.alive.has(k));
  const pids = whole.map((k) => ({ k, pids: a.pidsOf(k) }));
  const relays = pids.filter((p) => p.k !== a.srcK);
  const src = pids.find((p) => p.k === a.srcK);
  const fin = (xs: number[]) => xs.filter(Number.isFinite);
  const mean = (xs: number[]) => fin(xs).reduce((x, y) => x + y, 0) / Math.max(1, fin(xs).length);
  const sum = (xs: number[]) => (fin(xs).length ? fin(xs).reduce((x, y) => x + y, 0) : NaN);
  const cpuOf = (p: { pids: number[] }) => sum(p.pids.map((x) => a.sampler.cpuPct(x)));
  const rssOf = (p: { pids: number[] }) => sum(p.pids.map((x) => a.sampler.rssMb(x)));
  const rssMaxOf = (p: { pids: number[] }) => sum(p.pids.map((x) => a.sampler.rssMaxMb(x)));
  const pssOf = (p: { pids: number[] }) => sum(p.pids.map((x) => a.sampler.pssMb(x)));
  const processRssMax = Math.max(...relays.flatMap((p) => p.pids.map((x) => a.sampler.rssMaxMb(x))).filter(Number.isFinite));
  return {
    processesPerPeer: r(mean(pids.map((p) => p.pids.length)), 1),
    cpuPctPerPeer: r(mean(relays.map(cpuOf)), 2),
    cpuPctPerPeerMax: r(Math.max(...relays.map(cpuOf)), 2),
    rssMbPerPeer: r(mean(relays.map(rssOf)), 1),
    rssMbPerPeerMax: r(Math.max(...relays.map(rssMaxOf)), 1),
    pssMbPerPeer: r(mean(relays.map(pssOf)), 1),
    rssMbPerProcessMax: r(processRssMax, 1),
    sourceCpuPct: src ? r(cpuOf(src), 2) : null,
    sourceRssMb: src ? r(rssOf(src), 1) : null,
  };
}
