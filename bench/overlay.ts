/**
 * @file overlay.ts
 * @brief One relaytv run on a network of peers: a Testnet (our server + N peer processes on
 * 127.0.0.x, the default) or any OverlayNet, such as the lab of network namespaces
 * (bench/lab.ts). The figures of the run are computed by figures.ts.
 *
 * Timeline: start the server (debug log: it logs each push round) and the peers; wait until
 * every peer stores chunks; one period more; poll every /status (the window's base); `t0`; run
 * `durationS` while the scenario's `during` hook kills, hangs or adds peers; poll every /status;
 * `T`; the source's newest sequence L is read; settle 3 s (in-flight chunks and repairs); poll
 * again; stop the socket counters (`tEnd`); scan every folder; kill everything.
 *
 * A peer of a Testnet is two processes (the holder the testnet spawned, which owns the data
 * port, and its child the overlay process): CPU, RSS and socket bytes are summed over the
 * pids its /status names (`holderPid`, `pid`) and the spawned child's.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { spawn, ChildProcess } from 'node:child_process';
import { Testnet } from '../test/helpers/testnet';
import type { PeerStatus } from '../src/peer/status';
import { ProcSampler, StatusPoller, SocketBytes, scanFolder, FileInfo, sleep, r, warnings, machineCpu, memAvailableMb } from './common';
import { analyze, OverlayRaw } from './figures';

export type { OverlayRaw };

/**
 * What a run needs of a network of peers (a Testnet, or the lab): peer k's log, address and
 * chunk folder; starting, signalling and reading peer k.
 */
export interface OverlayNet {
  readonly peers: ReadonlyMap<number, { log: string[] }>;
  readonly server: { log: string[] } | null;
  /** Port of the peers' /status endpoint (its sockets are not counted as the peers' upload). */
  readonly httpPort?: number;
  ip(k: number): string;
  dir(k: number): string;
  addPeer(k: number, slots: number, extra?: string[]): Promise<unknown>;
  /** Signals the whole of peer k (every process of it). */
  signal(k: number, sig: NodeJS.Signals): unknown;
  /** Signals peer k's overlay process only (its holder keeps the data port and restarts it). */
  signalOverlay?(k: number, sig: NodeJS.Signals): Promise<number>;
  status(k: number): Promise<PeerStatus>;
  /** Pids of peer k's processes (CPU and memory are summed over them); from /status when absent. */
  pidsOf?(k: number): number[];
  stop(): Promise<void>;
}

/** Options of a run. */
export interface OverlayOptions {
  peers: number;
  periodS: number;
  durationS: number;
  maxClients?: number;
  /** Slots of every peer (default 2). */
  slots?: number;
  /** Slots of peer k (a mixed run); overrides `slots`. Called once per peer, in start order. */
  slotsOf?: (k: number) => number;
  /** More CLI flags for every peer (`--stripes 4`). */
  peerArgs?: string[];
  /** The server follows the course's rule: one refused push stops the channel for good. */
  fragile?: boolean;
  base?: number;
  /** Peers started at once. */
  startBatch?: number;
  /** /status poll period. */
  pollMs?: number;
  /** Count socket bytes with ss. */
  socketBytes?: boolean;
  /** CPU-bound processes (busy loops) competing with the peers over the measured window: a loaded machine. */
  load?: number;
  /** Called every 250 ms during the run with the elapsed ms. */
  during?: (ctx: RunCtx, elapsedMs: number) => Promise<void>;
  /** Stop starting peers when MemAvailable falls below this (MB). */
  minFreeMb?: number;
  /** Makes the network (default: a Testnet with a debug-logging server, which logs its rounds). */
  net?: () => Promise<OverlayNet>;
}

/** A fault the scenario injected (the figures match failure detections against these). */
export interface Fault {
  /** When it began. */
  t: number;
  /** The peer. */
  k: number;
  /** Its IP. */
  ip: string;
  /** kill: SIGKILL of every process of the peer; hang: SIGSTOP of them; overlay-kill: SIGKILL of its overlay process only. */
  kind: 'kill' | 'hang' | 'overlay-kill';
  /** Its /status just before. */
  before?: PeerStatus;
}

/** A scenario's timeline entry. */
export interface RunEvent { t: number; kind: string; k: number; detail?: unknown }

/** What a scenario hook can use. */
export interface RunCtx {
  net: OverlayNet;
  /** Peers counted as running (a hung peer leaves it when it is stopped). */
  alive: Set<number>;
  poller: StatusPoller;
  events: RunEvent[];
  faults: Fault[];
  /** Slots each peer was started with. */
  slotsOf: Map<number, number>;
  /** Kills peer k (SIGKILL of its process group) and records it. */
  kill(k: number, why: string): Promise<PeerStatus | undefined>;
  /** Hangs peer k (SIGSTOP of its process group) and records it; it no longer counts as alive. */
  hang(k: number, why: string): Promise<PeerStatus | undefined>;
  /** SIGKILLs peer k's overlay process only; returns the pid killed and when, null when it could not. */
  killOverlay(k: number, why: string): Promise<{ pid: number; t: number } | null>;
  /** Starts a new peer and records it. */
  add(): Promise<number>;
  /** Live members whose last /status has children (the direct peer excluded). */
  relaying(): number[];
  /** The live peer that is the source: direct and coordinator. */
  source(): number | undefined;
  /** The live peer whose last /status says it holds the server slot. */
  direct(): number | undefined;
}

/** @brief Runs one overlay experiment and computes its figures. */
export async function runOverlay(opts: OverlayOptions): Promise<{ figures: Record<string, unknown>; raw: OverlayRaw }> {
  const periodMs = opts.periodS * 1000;
  const net: OverlayNet = opts.net ? await opts.net()
    : await Testnet.start({ maxClients: opts.maxClients ?? 1, periodS: opts.periodS, base: opts.base ?? 10, logLevel: 'debug', fragile: opts.fragile });
  const alive = new Set<number>();
  const slotsOf = new Map<number, number>();
  const startedAt = new Map<number, number>();
  const events: RunEvent[] = [];
  const faults: Fault[] = [];
  let nextK = 1;
  let startFailures = 0;
  let stoppedEarly = '';
  const poller = new StatusPoller((k) => net.status(k), () => [...alive], opts.pollMs ?? 1000, true);
  const pidsOf = (k: number): number[] => (net.pidsOf ? net.pidsOf(k) : statusPids(net, poller, k));
  const seenPids = new Set<number>();
  const sampler = new ProcSampler(() => [...alive].flatMap(pidsOf), 2000);
  const sock = new SocketBytes(() => {
    for (const k of net.peers.keys()) for (const p of pidsOf(k)) seenPids.add(p);
    return seenPids;
  }, 1000, new Set(net.httpPort ? [net.httpPort] : []));
  const add = async (): Promise<number> => {
    const k = nextK++;
    const slots = opts.slotsOf ? opts.slotsOf(k) : opts.slots ?? 2;
    slotsOf.set(k, slots);
    await net.addPeer(k, slots, opts.peerArgs ?? []);
    startedAt.set(k, Date.now());
    alive.add(k);
    return k;
  };
  const ctx = makeCtx(net, alive, poller, events, faults, slotsOf, add);
  const startT = Date.now();
  const hogs: ChildProcess[] = [];
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
    stoppedEarly ||= await warmUp(alive, poller, Math.max(60_000, opts.peers * 500));
    await sleep(periodMs);
    await poller.poll();
    const t0 = Date.now();
    const aliveAtT0 = new Set(alive);
    const sockMark = opts.socketBytes ? sock.mark() : new Map<string, number>();
    sampler.start();
    for (let i = 0; i < (opts.load ?? 0); i++) {
      hogs.push(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }).on('error', () => undefined));
    }
    const cpuSnap = machineCpu().snap;
    // ---- run
    while (Date.now() - t0 < opts.durationS * 1000) {
      await sleep(250);
      if (opts.during) await opts.during(ctx, Date.now() - t0);
    }
    const machineCpuPct = machineCpu(cpuSnap).pct;
    for (const h of hogs.splice(0)) h.kill('SIGKILL');
    sampler.stop();
    await poller.poll();
    const T = Date.now();
    const srcK = ctx.source();
    const L = srcK !== undefined ? poller.last.get(srcK)!.s.lastSeq ?? -1 : Math.max(...[...alive].map((k) => poller.last.get(k)?.s.lastSeq ?? -1));
    await sleep(3000);
    await poller.poll();
    poller.stop();
    if (opts.socketBytes) sock.stop();
    const tEnd = Date.now();
    // ---- folders
    const everyone = [...net.peers.keys()];
    const folders = new Map<number, Map<number, FileInfo>>();
    await Promise.all(everyone.map(async (k) => folders.set(k, await scanFolder(net.dir(k)))));
    const { figures, raw } = analyze({
      net, opts, periodMs, alive, aliveAtT0, faults, startedAt, folders, poller, sampler, t0, T, tEnd, L, srcK, pidsOf, sock, sockMark, slotsOf,
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
    Object.assign(raw, { reattaches: poller.reattaches, events, t0 });
    // BENCH_LOGS=<folder>: every peer's log (the last 5 000 lines the testnet keeps, debug level).
    const keep = process.env.BENCH_LOGS;
    if (keep) {
      await mkdir(keep, { recursive: true });
      await Promise.all(everyone.map((k) => writeFile(path.join(keep, `${net.ip(k)}.log`), `${net.peers.get(k)!.log.join('\n')}\n`)));
    }
    return { figures, raw };
  } finally {
    for (const h of hogs) h.kill('SIGKILL');
    sampler.stop();
    poller.stop();
    sock.stop();
    await net.stop();
  }
}

/**
 * @brief Waits until every live peer stored a chunk.
 * @return '' when they all did, else what happened (the run goes on with what it has).
 */
async function warmUp(alive: Set<number>, poller: StatusPoller, budgetMs: number): Promise<string> {
  const until = Date.now() + budgetMs;
  for (;;) {
    await sleep(500);
    const ready = [...alive].filter((k) => (poller.last.get(k)?.s.chunksReceived ?? 0) >= 1).length;
    if (ready === alive.size) return '';
    if (Date.now() > until) return `only ${ready}/${alive.size} peers received a chunk after warm-up`;
  }
}

/** @brief Pids of a Testnet peer: the spawned child (its holder) and what its last /status names. */
function statusPids(net: OverlayNet, poller: StatusPoller, k: number): number[] {
  const set = new Set<number>();
  const child = (net.peers.get(k) as { child?: { pid?: number } } | undefined)?.child?.pid;
  if (child) set.add(child);
  const s = poller.last.get(k)?.s;
  if (s) {
    set.add(s.pid);
    if (s.holderPid) set.add(s.holderPid);
  }
  return [...set];
}

/** @brief The scenario hooks' handle on the run. */
function makeCtx(net: OverlayNet, alive: Set<number>, poller: StatusPoller, events: RunEvent[], faults: Fault[],
  slotsOf: Map<number, number>, add: () => Promise<number>): RunCtx {
  const detail = (k: number, why: string, before: PeerStatus | undefined) =>
    ({ why, ip: net.ip(k), role: before?.role, direct: before?.direct, children: before?.downstream.map((d) => d.addr) });
  const live = (k: number) => poller.last.get(k)?.s;
  /** A whole peer SIGKILLed or SIGSTOPed: it leaves `alive`, the fault and its event are noted. */
  const signalPeer = async (k: number, why: string, sig: 'SIGKILL' | 'SIGSTOP', kind: 'kill' | 'hang') => {
    const before = live(k);
    await net.signal(k, sig);
    const t = Date.now();
    alive.delete(k);
    faults.push({ t, k, ip: net.ip(k), kind, before });
    events.push({ t, kind, k, detail: detail(k, why, before) });
    return before;
  };
  return {
    net, alive, poller, events, faults, slotsOf,
    kill: (k, why) => signalPeer(k, why, 'SIGKILL', 'kill'),
    hang: (k, why) => signalPeer(k, why, 'SIGSTOP', 'hang'),
    async killOverlay(k, why) {
      if (!net.signalOverlay) return null;
      const before = live(k);
      try {
        const pid = await net.signalOverlay(k, 'SIGKILL');
        const t = Date.now();
        faults.push({ t, k, ip: net.ip(k), kind: 'overlay-kill', before });
        events.push({ t, kind: 'overlay-kill', k, detail: { ...detail(k, why, before), pid } });
        return { pid, t };
      } catch (err) {
        events.push({ t: Date.now(), kind: 'overlay-kill-failed', k, detail: (err as Error).message });
        return null;
      }
    },
    async add() {
      const k = await add();
      events.push({ t: Date.now(), kind: 'join', k, detail: { ip: net.ip(k), slots: slotsOf.get(k) } });
      return k;
    },
    relaying() {
      return [...alive].filter((k) => {
        const s = live(k);
        return s && s.role === 'member' && !s.direct && s.downstream.length > 0;
      });
    },
    source() {
      return [...alive].find((k) => { const s = live(k); return s?.direct && s.role === 'coordinator'; });
    },
    direct() {
      return [...alive].find((k) => live(k)?.direct);
    },
  };
}
