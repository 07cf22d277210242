/**
 * @file overlay.ts
 * @brief One relaytv run on a network of peers and every figure of it: a Testnet (our server +
 * N peer processes on 127.0.0.x, the default) or any OverlayNet, such as the lab of network
 * namespaces (bench/lab.ts).
 *
 * Timeline: start the server (debug log: it logs each push round) and the peers; wait until
 * every peer stores chunks; `t0`; run `durationS` while the scenario's `during` hook kills or
 * adds peers; `T` = the source's newest sequence L is read; settle 3 s (in-flight chunks and
 * repairs); stop polling; scan every folder; kill everything.
 *
 * Definitions (all from folders, /status and /proc, see README in bench/index.ts):
 * - lost: per survivor, sequences in [its firstSeq (join point), L] it has no file for.
 * - roundsMissed: server push rounds in [t0, T - period] whose chunk no survivor holds
 *   (ground truth: a round is matched to a sequence by content size and time).
 * - latency: file mtime at the peer minus the server's push start of that chunk (when the
 *   round is known), and minus the source's own file mtime (overlay only).
 * - hop: child mtime - parent mtime for the parent the /status snapshot nearest in time names.
 * - ideal: serverHop (push start -> source disk, median) + depth x hop (median).
 */
import { Testnet } from '../test/helpers/testnet';
import type { PeerStatus } from '../src/peer/status';

/**
 * What a run needs of a network of peers (Testnet has it all but `pidsOf`; the lab has it all).
 * Peer k's log, address and chunk folder; starting, signalling and reading peer k.
 */
export interface OverlayNet {
  readonly peers: ReadonlyMap<number, { log: string[] }>;
  readonly server: { log: string[] } | null;
  ip(k: number): string;
  dir(k: number): string;
  addPeer(k: number, slots: number): Promise<unknown>;
  signal(k: number, sig: NodeJS.Signals): unknown;
  status(k: number): Promise<PeerStatus>;
  /** Pids of peer k's processes (CPU and memory are summed over them); one child's when absent. */
  pidsOf?(k: number): number[];
  stop(): Promise<void>;
}
import {
  ProcSampler, StatusPoller, SocketBytes, scanFolder, FileInfo, parentsOf, parseRounds, contentSizes,
  jain, maxOverMean, percentile, sleep, r, warnings, machineCpu, memAvailableMb,
} from './common';

/** Options of a run. */
export interface OverlayOptions {
  peers: number;
  periodS: number;
  durationS: number;
  maxClients?: number;
  slots?: number;
  base?: number;
  /** Peers started at once (scale). */
  startBatch?: number;
  /** /status poll period. */
  pollMs?: number;
  /** Count socket bytes with ss. */
  socketBytes?: boolean;
  /** Called every 250 ms during the run with the elapsed ms. */
  during?: (ctx: RunCtx, elapsedMs: number) => Promise<void>;
  /** Stop starting peers when MemAvailable falls below this (MB). */
  minFreeMb?: number;
  /** Makes the network (default: a Testnet with a debug-logging server, which logs its rounds). */
  net?: () => Promise<OverlayNet>;
}

/** What a scenario hook can use. */
export interface RunCtx {
  net: OverlayNet;
  alive: Set<number>;
  poller: StatusPoller;
  events: { t: number; kind: string; k: number; detail?: unknown }[];
  /** Kills peer k (SIGKILL) and records it. */
  kill(k: number, why: string): Promise<PeerStatus | undefined>;
  /** Starts a new peer and records it. */
  add(): Promise<number>;
  /** Live peers whose last /status has children, excluding the source. */
  relaying(): number[];
  /** The peer whose /status says role 'source'. */
  source(): number | undefined;
}

/** Raw data kept for plots. */
export interface OverlayRaw {
  sentDelta: { k: number; ip: string; bytes: number; role: string }[];
  latencies: number[];
  latenciesSrc: number[];
  reattaches: { t: number; k: number; ms: number; n: number }[];
  events: { t: number; kind: string; k: number; detail?: unknown }[];
  t0: number;
}

/** @brief Runs one overlay experiment. */
export async function runOverlay(opts: OverlayOptions): Promise<{ figures: Record<string, unknown>; raw: OverlayRaw }> {
  const periodMs = opts.periodS * 1000;
  const slots = opts.slots ?? 2;
  const net: OverlayNet = opts.net ? await opts.net()
    : await Testnet.start({ maxClients: opts.maxClients ?? 1, periodS: opts.periodS, base: opts.base ?? 10, logLevel: 'debug' });
  const alive = new Set<number>();
  const joinedAt = new Map<number, number>();
  const killedAt = new Map<number, number>();
  const events: RunCtx['events'] = [];
  let nextK = 1;
  let startFailures = 0;
  let stoppedEarly = '';
  const pidsOf = (k: number): number[] => {
    if (net.pidsOf) return net.pidsOf(k);
    const pid = (net.peers.get(k) as { child?: { pid?: number } } | undefined)?.child?.pid;
    return pid ? [pid] : [];
  };
  const sampler = new ProcSampler(() => [...alive].flatMap(pidsOf), 2000);
  const poller = new StatusPoller((k) => net.status(k), () => [...alive], opts.pollMs ?? 1000, true);
  const sock = new SocketBytes(() => new Set([...net.peers.keys()].flatMap(pidsOf)), 1000);
  const add = async (): Promise<number> => {
    const k = nextK++;
    await net.addPeer(k, slots);
    alive.add(k);
    joinedAt.set(k, Date.now());
    return k;
  };
  const ctx: RunCtx = {
    net, alive, poller, events,
    async kill(k, why) {
      const before = poller.last.get(k)?.s;
      const t = Date.now();
      await net.signal(k, 'SIGKILL');
      alive.delete(k);
      killedAt.set(k, t);
      events.push({ t, kind: 'kill', k, detail: { why, ip: net.ip(k), role: before?.role, children: before?.downstream.map((d) => d.addr) } });
      return before;
    },
    async add() {
      const k = await add();
      events.push({ t: Date.now(), kind: 'join', k, detail: { ip: net.ip(k) } });
      return k;
    },
    relaying() {
      return [...alive].filter((k) => {
        const s = poller.last.get(k)?.s;
        return s && s.role !== 'coordinator' && s.downstream.length > 0;
      });
    },
    source() {
      return [...alive].find((k) => poller.last.get(k)?.s.role === 'coordinator');
    },
  };
  let cpuSnap = machineCpu().snap;
  let machineCpuPct = NaN;
  const startT = Date.now();
  try {
    // ---- start peers
    const batch = opts.startBatch ?? 1;
    while (nextK <= opts.peers) {
      if (opts.minFreeMb && memAvailableMb() < opts.minFreeMb) {
        stoppedEarly = `stopped starting peers at ${alive.size}: MemAvailable ${memAvailableMb().toFixed(0)} MB`;
        break;
      }
      const ks: Promise<number>[] = [];
      for (let i = 0; i < batch && nextK <= opts.peers; i++) ks.push(add());
      const res = await Promise.allSettled(ks);
      startFailures += res.filter((x) => x.status === 'rejected').length;
      if (startFailures > Math.max(3, opts.peers / 10)) { stoppedEarly = `too many peers failed to start (${startFailures})`; break; }
    }
    const startupS = (Date.now() - startT) / 1000;
    poller.start();
    if (opts.socketBytes) sock.start();
    // ---- warm-up: every peer stores chunks
    const warmUntil = Date.now() + Math.max(60_000, opts.peers * 500);
    for (;;) {
      await sleep(500);
      const ready = [...alive].filter((k) => (poller.last.get(k)?.s.chunksReceived ?? 0) >= 1).length;
      if (ready === alive.size) break;
      if (Date.now() > warmUntil) { stoppedEarly ||= `only ${ready}/${alive.size} peers received a chunk after warm-up`; break; }
    }
    await sleep(periodMs);
    await poller.poll();
    const t0 = Date.now();
    const base = new Map([...alive].map((k) => [k, poller.last.get(k)?.s.bytesSent ?? 0]));
    const aliveAtT0 = new Set(alive);
    sampler.start();
    cpuSnap = machineCpu().snap;
    // ---- run
    while (Date.now() - t0 < opts.durationS * 1000) {
      await sleep(250);
      if (opts.during) await opts.during(ctx, Date.now() - t0);
    }
    machineCpuPct = machineCpu(cpuSnap).pct;
    sampler.stop();
    await poller.poll();
    const T = Date.now();
    const srcK = ctx.source();
    const L = srcK !== undefined ? poller.last.get(srcK)!.s.lastSeq ?? -1 : Math.max(...[...alive].map((k) => poller.last.get(k)?.s.lastSeq ?? -1));
    await sleep(3000);
    await poller.poll();
    poller.stop();
    if (opts.socketBytes) sock.stop();
    // ---- folders
    const everyone = [...net.peers.keys()];
    const folders = new Map<number, Map<number, FileInfo>>();
    await Promise.all(everyone.map(async (k) => folders.set(k, await scanFolder(net.dir(k)))));
    const figures = analyze({
      net, opts, periodMs, alive, aliveAtT0, killedAt, joinedAt, folders, poller, sampler, base, t0, T, L, pidsOf, sock,
    });
    Object.assign(figures, {
      startupS: r(startupS, 1), startFailures, stoppedEarly: stoppedEarly || null,
      machineCpuPct: r(machineCpuPct, 1), memAvailableMbAtEnd: r(memAvailableMb(), 0),
      statusPollErrors: poller.errors,
      warnings: warnings(everyone.map((k) => net.peers.get(k)!.log)),
      serverWarnings: warnings([net.server!.log]),
      warnSamples: everyone.flatMap((k) => net.peers.get(k)!.log.filter((l) => /"level":(4|5)0|session closed|coordinator role/.test(l)).slice(0, 5).map((l) => `${net.ip(k)} ${l.slice(0, 400)}`)).slice(0, 40),
      events: events.map((e) => ({ ...e, atS: r((e.t - t0) / 1000, 2) })),
    });
    const raw = (figures as { _raw: OverlayRaw })._raw;
    delete (figures as { _raw?: OverlayRaw })._raw;
    raw.reattaches = poller.reattaches;
    raw.events = events;
    raw.t0 = t0;
    return { figures, raw };
  } finally {
    sampler.stop();
    poller.stop();
    sock.stop();
    await net.stop();
  }
}

/** Inputs of the analysis. */
interface AnalyzeIn {
  net: OverlayNet; opts: OverlayOptions; periodMs: number;
  alive: Set<number>; aliveAtT0: Set<number>; killedAt: Map<number, number>; joinedAt: Map<number, number>;
  folders: Map<number, Map<number, FileInfo>>; poller: StatusPoller; sampler: ProcSampler;
  base: Map<number, number>; t0: number; T: number; L: number; pidsOf: (k: number) => number[]; sock: SocketBytes;
}

/** @brief Every figure of a run. */
function analyze(a: AnalyzeIn): Record<string, unknown> {
  const { net, folders, poller, periodMs, t0, T, L } = a;
  const ipOf = (k: number) => net.ip(k);
  const kOfIp = new Map([...net.peers.keys()].map((k) => [ipOf(k), k]));
  const survivors = [...a.alive];
  // ---- source of each seq: the folder with the earliest mtime (the source writes before relaying)
  const srcOf = new Map<number, { k: number; mtimeMs: number; size: number }>();
  for (const [k, files] of folders) {
    for (const [seq, f] of files) {
      const cur = srcOf.get(seq);
      if (!cur || f.mtimeMs < cur.mtimeMs) srcOf.set(seq, { k, mtimeMs: f.mtimeMs, size: f.size });
    }
  }
  // ---- lost per survivor
  const lostPer: Record<string, number> = {};
  const lostSeqs: Record<string, number[]> = {};
  let lost = 0;
  for (const k of survivors) {
    const files = folders.get(k)!;
    const st = poller.last.get(k)?.s;
    const first = st?.firstSeq ?? Math.min(...files.keys());
    const miss: number[] = [];
    for (let s = first; s <= L; s++) if (!files.has(s)) miss.push(s);
    lost += miss.length;
    if (miss.length) { lostPer[ipOf(k)] = miss.length; lostSeqs[ipOf(k)] = miss.slice(0, 20); }
  }
  // ---- server rounds (ground truth of what was pushed)
  const rounds = parseRounds(net.server!.log);
  const sizes = contentSizes();
  const roundOf = new Map<number, number>(); // seq -> round index in `rounds`
  const used = new Set<number>();
  for (const [seq, src] of [...srcOf].sort((x, y) => x[0] - y[0])) {
    let best = -1;
    for (let i = 0; i < rounds.length; i++) {
      const rd = rounds[i];
      if (used.has(i) || sizes[rd.index] !== src.size) continue;
      const dt = src.mtimeMs - rd.pushStartMs;
      if (dt >= -5 && dt < 2 * periodMs && (best < 0 || rd.pushStartMs > rounds[best].pushStartMs)) best = i;
    }
    if (best >= 0) { roundOf.set(seq, best); used.add(best); }
  }
  const window = rounds.map((rd, i) => ({ rd, i })).filter(({ rd }) => rd.pushStartMs >= t0 && rd.pushStartMs <= T - periodMs);
  const survivorHas = (seq: number) => survivors.some((k) => folders.get(k)!.has(seq));
  const deliveredRound = new Set<number>();
  for (const [seq, i] of roundOf) if (survivorHas(seq)) deliveredRound.add(i);
  const missedRounds = window.filter(({ i }) => !deliveredRound.has(i));
  // ---- latency
  const lat: number[] = [];
  const latSrc: number[] = [];
  const serverHop: number[] = [];
  for (const [seq, src] of srcOf) {
    const rd = roundOf.has(seq) ? rounds[roundOf.get(seq)!] : undefined;
    if (rd && rd.pushStartMs >= t0 - periodMs) serverHop.push(src.mtimeMs - rd.pushStartMs);
  }
  const inWindow = (seq: number) => { const s = srcOf.get(seq)!; return s.mtimeMs >= t0 && s.mtimeMs <= T; };
  for (const [k, files] of folders) {
    for (const [seq, f] of files) {
      const src = srcOf.get(seq)!;
      if (src.k === k || !inWindow(seq)) continue;
      latSrc.push(f.mtimeMs - src.mtimeMs);
      const i = roundOf.get(seq);
      if (i !== undefined) lat.push(f.mtimeMs - rounds[i].pushStartMs);
    }
  }
  // ---- hops and depth from /status snapshots nearest in time
  const snaps = new Map<number, { t: number; s: PeerStatus }[]>();
  for (const h of poller.history) {
    const arr = snaps.get(h.k) ?? [];
    arr.push({ t: h.t, s: h.s });
    snaps.set(h.k, arr);
  }
  const parentAt = (k: number, stripe: number, t: number): number | undefined => {
    const arr = snaps.get(k);
    if (!arr) return undefined;
    let best = arr[0];
    for (const x of arr) if (x.t <= t + 500) best = x;
    const ip = parentsOf(best.s).get(stripe);
    return ip ? kOfIp.get(ip) : undefined;
  };
  const K = Math.max(2, ...poller.history.flatMap((h) => h.s.upstream.flatMap((u) => u.stripes.map((x) => x + 1))));
  const hops: number[] = [];
  const depthOf: number[] = [];
  const ratio: number[] = [];
  const perDelivery: { lat: number; depth: number }[] = [];
  for (const [k, files] of folders) {
    for (const [seq, f] of files) {
      const src = srcOf.get(seq)!;
      if (src.k === k || !inWindow(seq)) continue;
      const p = parentAt(k, seq % K, src.mtimeMs);
      const pf = p !== undefined ? folders.get(p)?.get(seq) : undefined;
      if (pf && f.mtimeMs >= pf.mtimeMs) hops.push(f.mtimeMs - pf.mtimeMs);
      // depth: walk up the parents at that time
      let d = 0;
      let cur: number | undefined = k;
      const seen = new Set<number>();
      while (cur !== undefined && cur !== src.k && !seen.has(cur) && d < 64) {
        seen.add(cur);
        cur = parentAt(cur, seq % K, src.mtimeMs);
        d++;
      }
      if (cur === src.k) {
        depthOf.push(d);
        const i = roundOf.get(seq);
        if (i !== undefined) perDelivery.push({ lat: f.mtimeMs - rounds[i].pushStartMs, depth: d });
      }
    }
  }
  const hopP50 = percentile(hops, 50);
  const serverHopP50 = percentile(serverHop, 50);
  const maxDepth = depthOf.length ? Math.max(...depthOf) : NaN;
  const ideal = serverHopP50 + maxDepth * hopP50;
  for (const x of perDelivery) ratio.push(x.lat / (serverHopP50 + x.depth * hopP50));
  // ---- bytes sent: balance over peers alive the whole window with equal slots
  const whole = [...a.aliveAtT0].filter((k) => a.alive.has(k));
  const final = (k: number) => poller.last.get(k)?.s;
  const sentDelta = whole.map((k) => ({ k, ip: ipOf(k), bytes: (final(k)?.bytesSent ?? 0) - (a.base.get(k) ?? 0), role: final(k)?.role ?? '?' }));
  const relaysOnly = sentDelta.filter((x) => x.role !== 'coordinator');
  const vals = sentDelta.map((x) => x.bytes);
  // ---- duplicates: all data bytes sent / (chunk bytes x receivers), whole run
  let sentAll = 0;
  for (const k of net.peers.keys()) sentAll += poller.last.get(k)?.s.bytesSent ?? 0;
  let delivered = 0;
  for (const [k, files] of folders) for (const [seq, f] of files) if (srcOf.get(seq)!.k !== k) delivered += f.size;
  // ---- socket-level upload
  const sockBy = a.sock.byPid();
  const sockOf = (k: number) => a.pidsOf(k).reduce((acc, pid) => acc + (sockBy.get(pid) ?? 0), 0);
  const sockSent = [...net.peers.keys()].reduce((acc, k) => acc + sockOf(k), 0);
  const sockRelays = relaysOnly.map((x) => sockOf(x.k));
  // ---- recovery
  const recs = poller.reattaches.filter((x) => x.t >= t0 - 2000);
  const statusRecMax = Math.max(0, ...survivors.map((k) => (final(k)?.reattaches ? final(k)!.lastReattachMs ?? 0 : 0)));
  // ---- cpu / rss
  // A peer may be several processes (a lab host: all of its pids): its figures are their sums.
  const pids = whole.map((k) => ({ k, pids: a.pidsOf(k), role: final(k)?.role }));
  const relayPids = pids.filter((p) => p.role !== 'coordinator');
  const srcPid = pids.find((p) => p.role === 'coordinator');
  const mean = (xs: number[]) => xs.filter(Number.isFinite).reduce((x, y) => x + y, 0) / Math.max(1, xs.filter(Number.isFinite).length);
  const sum = (xs: number[]) => { const f = xs.filter(Number.isFinite); return f.length ? f.reduce((x, y) => x + y, 0) : NaN; };
  const cpuOf = (p: { pids: number[] }) => sum(p.pids.map((x) => a.sampler.cpuPct(x)));
  const rssOf = (p: { pids: number[] }) => sum(p.pids.map((x) => a.sampler.rssMb(x)));
  const rssMaxOf = (p: { pids: number[] }) => sum(p.pids.map((x) => a.sampler.rssMaxMb(x)));
  const figures: Record<string, unknown> = {
    peers: a.alive.size,
    peersStarted: net.peers.size,
    periodS: a.opts.periodS,
    durationS: a.opts.durationS,
    chunks: [...srcOf.keys()].filter(inWindow).length,
    lastSeq: L,
    lost,
    lostPerPeer: lostPer,
    lostSeqsSample: lostSeqs,
    serverRoundsInWindow: window.length,
    roundsMissed: missedRounds.length,
    roundsMissedDetail: missedRounds.map(({ rd }) => ({ atS: r((rd.pushStartMs - t0) / 1000, 2), index: rd.index, clients: rd.clients })),
    chunksLostReportedByPeers: survivors.reduce((x, k) => x + (final(k)?.chunksLost ?? 0), 0),
    recoveries: recs.reduce((x, y) => x + y.n, 0),
    recoveryMsMax: recs.length ? Math.max(...recs.map((x) => x.ms)) : (statusRecMax || null),
    recoveryMsP50: recs.length ? percentile(recs.map((x) => x.ms), 50) : null,
    // Failure -> a new parent accepted the orphaned stripe (SUBSCRIBED); the first chunk then
    // follows at once when one was missed, or when the stripe's next chunk is produced.
    reattachMsMax: Math.max(0, ...survivors.map((k) => final(k)?.maxReattachMs ?? 0)) || null,
    recoveryFirstChunkMsMax: Math.max(0, ...survivors.map((k) => final(k)?.maxReattachMs ?? 0)) || null,
    jain: r(jain(vals), 4),
    maxOverMean: r(maxOverMean(vals), 3),
    jainRelaysOnly: r(jain(relaysOnly.map((x) => x.bytes)), 4),
    maxOverMeanRelaysOnly: r(maxOverMean(relaysOnly.map((x) => x.bytes)), 3),
    balancePeers: vals.length,
    duplicateRatio: r(sentAll / Math.max(1, delivered), 4),
    dataBytesSent: sentAll,
    bytesDelivered: delivered,
    duplicatesReceived: [...net.peers.keys()].reduce((x, k) => x + (poller.last.get(k)?.s.duplicates ?? 0), 0),
    socketBytesSent: a.opts.socketBytes ? sockSent : null,
    uploadPerDeliveredSocket: a.opts.socketBytes ? r(sockSent / Math.max(1, delivered), 4) : null,
    jainSocketRelays: a.opts.socketBytes ? r(jain(sockRelays), 4) : null,
    latencyP50Ms: r(percentile(lat, 50), 1),
    latencyP99Ms: r(percentile(lat, 99), 1),
    latencyMaxMs: r(lat.length ? Math.max(...lat) : NaN, 1),
    latencyFromSourceP50Ms: r(percentile(latSrc, 50), 1),
    latencyFromSourceP99Ms: r(percentile(latSrc, 99), 1),
    latencySamples: lat.length,
    serverHopP50Ms: r(serverHopP50, 1),
    hopP50Ms: r(hopP50, 1),
    hopP99Ms: r(percentile(hops, 99), 1),
    maxDepth,
    depthP50: percentile(depthOf, 50),
    idealLatencyMs: r(ideal, 1),
    latencyP99OverIdeal: r(percentile(lat, 99) / ideal, 2),
    deliveriesOver2xOwnIdeal: ratio.filter((x) => x > 2).length,
    deliveriesWithDepth: ratio.length,
    cpuPctPerPeer: r(mean(relayPids.map(cpuOf)), 2),
    cpuPctPerPeerMax: r(Math.max(...relayPids.map(cpuOf)), 2),
    rssMbPerPeer: r(mean(relayPids.map(rssOf)), 1),
    rssMbPerPeerMax: r(Math.max(...relayPids.map(rssMaxOf)), 1),
    sourceCpuPct: srcPid ? r(cpuOf(srcPid), 2) : null,
    sourceRssMb: srcPid ? r(rssOf(srcPid), 1) : null,
    _raw: { sentDelta, latencies: lat, latenciesSrc: latSrc, reattaches: [], events: [], t0 } as OverlayRaw,
  };
  return figures;
}
