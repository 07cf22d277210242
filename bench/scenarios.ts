/**
 * @file scenarios.ts
 * @brief The overlay scenarios of `npm run bench`: steady, churn and direct (each one
 * runOverlay with its own `during` hook), their plots and result files. Flags and figures are
 * documented in bench/index.ts.
 */
import { promises as fs } from 'node:fs';
import { writeResult, printTable, r, sleep } from './common';
import { rng } from '../sim/heap';
import { runOverlay, RunCtx, OverlayOptions, OverlayRaw } from './overlay';
import { barChart, cdfChart, timelineChart } from './plot';

/** What the overlay scenarios read of the command line. */
export interface OverlayArgs {
  period?: number;
  duration?: number;
  peers?: number;
  /** Slots of every peer. */
  slots: number;
  /** Slots drawn per peer from MIXED_SLOTS. */
  mixed: boolean;
  /** Seed of the mixed draw. */
  seed: number;
  /** direct: the course server's rule and overlay-process kills. */
  fragile: boolean;
  /** steady: CPU-bound processes beside the peers over the window. */
  load?: number;
}

/** The slots a mixed run draws from (seeded): a few thin peers, most around the stripes, a few rich. */
export const MIXED_SLOTS = [1, 2, 2, 3, 4, 6, 8];
/**
 * Stripes of a mixed run: fixed, since `auto` would take the founder's drawn slots. Three, since
 * the list's mean (3.7 slots) is below four: with K = 4 the peers' slots cannot carry the 4
 * edges each needs (the bench reports capacityEdges against neededEdges).
 */
export const MIXED_STRIPES = 3;
/** Churn: one relaying peer is SIGKILLed (and replaced) this often. */
const CHURN_EVERY_MS = 10_000;
/** Churn: how long the hung relay stays stopped before it is SIGKILLed. */
const HANG_MS = 5_000;
/** direct --fragile: time between two overlay kills. */
const FRAGILE_EVERY_MS = 12_000;
/** direct --fragile: a restart tracker gives up after this. */
const TRACK_MS = 15_000;

/** @brief Result-file suffix of a slots variant: '' (2 slots), '-s3', '-mixed'. */
export function variant(a: OverlayArgs): string {
  const base = a.mixed ? '-mixed' : a.slots !== 2 ? `-s${a.slots}` : '';
  return a.load ? `${base}-load${a.load}` : base;
}

/** @brief The slot options of a run: equal slots, or a seeded draw per peer with fixed stripes. */
function slotOptions(a: OverlayArgs): Partial<OverlayOptions> {
  if (!a.mixed) return { slots: a.slots };
  const rand = rng(a.seed);
  return { slotsOf: () => MIXED_SLOTS[Math.floor(rand() * MIXED_SLOTS.length)], peerArgs: ['--stripes', String(MIXED_STRIPES)] };
}

/** @brief The plots every overlay scenario gets (bytes sent per peer, latency CDFs). */
export function overlayPlots(name: string, raw: OverlayRaw): string[] {
  const sorted = [...raw.sentDelta].sort((x, y) => x.k - y.k);
  return [
    barChart(`${name}-bytes-sent.svg`, `${name}: chunk bytes sent per peer over the window (orange = source)`,
      sorted.map((x) => x.ip.split('.').slice(-1)[0]), sorted.map((x) => x.bytes / 1e6), 'MB sent', sorted.map((x) => x.source)),
    cdfChart(`${name}-latency-cdf.svg`, `${name}: latency to each peer's disk`, [
      { label: 'server push -> peer disk', values: raw.latencies },
      { label: 'source disk -> peer disk', values: raw.latenciesSrc },
    ], 'ms'),
  ];
}

/** @brief Writes, prints and plots one overlay result. */
function report(name: string, scenario: string, figures: Record<string, unknown>, plots: string[], extra: Record<string, unknown> = {}): void {
  writeResult(name, { scenario, ...figures, ...extra, plots });
  printTable(name, { ...figures, ...extra });
  console.log('plots:', plots.join(' '));
}

/** @brief steady: no fault; balance, depth, latency and false suspicions of a quiet overlay. */
export async function steady(a: OverlayArgs): Promise<void> {
  const name = `steady${variant(a)}`;
  const { figures, raw } = await runOverlay({ peers: a.peers ?? 20, periodS: a.period ?? 2, durationS: a.duration ?? 60, load: a.load, ...slotOptions(a) });
  report(name, 'steady', { ...figures, load: a.load ?? 0 }, overlayPlots(name, raw));
}

/**
 * @brief churn: every 10 s a relaying peer is SIGKILLed and a new one added; once per run
 * (at 13 s, between two kills; earlier in a short run) a relaying peer is hung (SIGSTOP of its
 * process group) for 5 s, then SIGKILLed and replaced.
 */
export async function churn(a: OverlayArgs): Promise<void> {
  const name = `churn${variant(a)}`;
  const durationMs = (a.duration ?? 60) * 1000;
  const hangAt = durationMs >= 25_000 ? 13_000 : Math.max(1000, durationMs / 2 - HANG_MS / 2);
  let nextKill = CHURN_EVERY_MS;
  const hung: { k: number; t: number; killedAfterMs?: number; ip?: string } = { k: -1, t: 0 };
  const during = async (ctx: RunCtx, el: number): Promise<void> => {
    if (hung.k < 0 && el >= hangAt && el < durationMs - HANG_MS - 3000) await startHang(ctx, hung);
    if (hung.k >= 0 && hung.killedAfterMs === undefined && Date.now() - hung.t >= HANG_MS) {
      await ctx.kill(hung.k, 'hung relay: SIGKILL after its hang');
      hung.killedAfterMs = Date.now() - hung.t;
      await ctx.add();
    }
    if (el < nextKill || el > durationMs - 5000) return;
    nextKill += CHURN_EVERY_MS;
    const cands = ctx.relaying();
    if (!cands.length) { ctx.events.push({ t: Date.now(), kind: 'no-relaying-peer', k: -1 }); return; }
    await ctx.kill(cands[Math.floor(Math.random() * cands.length)], 'churn');
    await ctx.add();
  };
  const { figures, raw } = await runOverlay({ peers: a.peers ?? 20, periodS: a.period ?? 2, durationS: a.duration ?? 60, pollMs: 500, during, ...slotOptions(a) });
  const plots = overlayPlots(name, raw);
  plots.push(timelineChart(`${name}-recovery.svg`, `${name}: recoveries reported by peers (lastReattachMs) vs kills and the hang`,
    raw.reattaches.map((x) => ({ t: (x.t - raw.t0) / 1000, v: x.ms, label: `peer ${x.k}` })),
    raw.events.filter((e) => e.kind === 'kill' || e.kind === 'hang').map((e) => ({ t: (e.t - raw.t0) / 1000, label: `${e.kind} ${e.k}` })),
    durationMs / 1000, 'recovery (ms)'));
  report(name, 'churn', figures, plots, {
    kills: raw.events.filter((e) => e.kind === 'kill').length,
    hungRelay: hung.k >= 0 ? { ip: hung.ip, atS: r((hung.t - raw.t0) / 1000, 2), stoppedForMs: hung.killedAfterMs ?? null } : null,
    recoveryEvents: raw.reattaches.map((x) => ({ ...x, atS: r((x.t - raw.t0) / 1000, 2) })),
  });
}

/** @brief Hangs a relaying peer (the churn's one hang), if there is one now. */
async function startHang(ctx: RunCtx, hung: { k: number; t: number; ip?: string }): Promise<void> {
  const cands = ctx.relaying();
  if (!cands.length) return;
  const k = cands[Math.floor(Math.random() * cands.length)];
  await ctx.hang(k, 'hung relay (SIGSTOP of its process group)');
  Object.assign(hung, { k, t: Date.now(), ip: ctx.net.ip(k) });
}

/** @brief direct: the whole direct peer killed at half the run, or (--fragile) its overlay killed three times. */
export async function direct(a: OverlayArgs): Promise<void> {
  return a.fragile ? directFragile(a) : directWhole(a);
}

/**
 * @brief The direct peer (the source) SIGKILLed whole (its process group: 9091 closes) at half
 * the run; who becomes coordinator, direct and source, and when.
 */
async function directWhole(a: OverlayArgs): Promise<void> {
  const durationS = a.duration ?? 40;
  let killed: { k: number; t: number } | null = null;
  const takeover: Record<string, unknown> = {};
  const since = () => r((Date.now() - killed!.t) / 1000, 2);
  const during = async (ctx: RunCtx, el: number): Promise<void> => {
    if (!killed && el >= durationS * 500) {
      const src = ctx.source();
      if (src === undefined) { ctx.events.push({ t: Date.now(), kind: 'no-source', k: -1 }); return; }
      await ctx.kill(src, 'direct peer (source)');
      killed = { k: src, t: Date.now() };
      return;
    }
    if (!killed) return;
    const st = (k: number | undefined) => (k === undefined ? undefined : ctx.poller.last.get(k)?.s);
    const coord = [...ctx.alive].find((k) => st(k)?.role === 'coordinator');
    if (coord !== undefined && takeover.coordinatorAfterS === undefined) Object.assign(takeover, { coordinatorAfterS: since(), newCoordinator: st(coord)!.id });
    const d = ctx.direct();
    if (d !== undefined && takeover.directAfterS === undefined) Object.assign(takeover, { directAfterS: since(), newDirect: st(d)!.id });
    const s = ctx.source();
    if (s !== undefined && takeover.sourceAfterS === undefined) Object.assign(takeover, { sourceAfterS: since(), newSource: st(s)!.id });
  };
  const { figures, raw } = await runOverlay({ peers: a.peers ?? 12, periodS: a.period ?? 2, durationS, maxClients: 1, pollMs: 500, during });
  const plots = overlayPlots('direct', raw);
  const k = (killed as { k: number } | null)?.k;
  report('direct', 'direct', figures, plots, { takeover: { ...takeover, killed: k ?? null } });
}

/** What one overlay kill of the direct peer measured. */
interface OverlayKill {
  ip: string; atS: number; killedPid: number; newPid: number | null;
  /** SIGKILL -> a new overlay pid answers /status. */
  overlayRestartMs: number | null;
  /** SIGKILL -> the peer stores a chunk newer than the newest it had. */
  receivingAgainMs: number | null;
}

/**
 * @brief The course server's rule (`server --fragile`: one refused push stops the channel for
 * good) and the direct peer's overlay process (the pid of its /status) SIGKILLed three times,
 * 12 s apart from 6 s on (closer in a short run); its holder keeps 9091 and restarts it.
 */
async function directFragile(a: OverlayArgs): Promise<void> {
  const durationS = a.duration ?? 45;
  const periodMs = (a.period ?? 2) * 1000;
  const every = durationS >= 40 ? FRAGILE_EVERY_MS : Math.max(3000, (durationS * 1000 - 16_000) / 2);
  const killAt = [6000, 6000 + every, 6000 + 2 * every];
  const kills: OverlayKill[] = [];
  const trackers: Promise<void>[] = [];
  let over = false;
  const ref: { ctx?: RunCtx } = {};
  const during = async (ctx: RunCtx, el: number): Promise<void> => {
    ref.ctx = ctx;
    if (!killAt.length || el < killAt[0]) return;
    killAt.shift();
    const k = ctx.direct();
    if (k === undefined) { ctx.events.push({ t: Date.now(), kind: 'no-direct-peer', k: -1 }); return; }
    const preSeq = await newestSeq(ctx.net.dir(k));
    const hit = await ctx.killOverlay(k, 'direct peer overlay process');
    if (!hit) return;
    const rec: OverlayKill = { ip: ctx.net.ip(k), atS: r(el / 1000, 2)!, killedPid: hit.pid, newPid: null, overlayRestartMs: null, receivingAgainMs: null };
    kills.push(rec);
    trackers.push(trackRestart(ctx, k, hit, preSeq, rec, () => over));
  };
  const { figures, raw } = await runOverlay({ peers: a.peers ?? 12, periodS: a.period ?? 2, durationS, maxClients: 1, pollMs: 500, fragile: true, during });
  over = true;
  await Promise.all(trackers);
  const stopped = Object.entries((figures.serverWarnings ?? {}) as Record<string, number>).filter(([m]) => m.includes('CHANNEL_STOPPED'));
  const grew = ref.ctx ? sourceKeptGrowing(ref.ctx, periodMs) : null;
  const restart = kills.map((x) => x.overlayRestartMs).filter((x): x is number => x !== null);
  const fragile = {
    channelAlive: stopped.length === 0 && grew?.grew === true,
    channelStoppedLines: stopped.reduce((x, [, n]) => x + n, 0),
    sourceSeqGrowth: grew,
    overlayKills: kills.length,
    overlayRestartMs: kills.map((x) => x.overlayRestartMs),
    overlayRestartMsMax: restart.length === kills.length && restart.length ? Math.max(...restart) : null,
    receivingAgainMs: kills.map((x) => x.receivingAgainMs),
    overlayKillDetail: kills,
  };
  report('direct-fragile', 'direct --fragile', figures, overlayPlots('direct-fragile', raw), fragile);
}

/** @brief Newest sequence in a chunk folder (-1 when empty). */
async function newestSeq(dir: string): Promise<number> {
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  return Math.max(-1, ...names.filter((n) => /^\d{8}\.mkv$/.test(n)).map((n) => Number(n.slice(0, 8))));
}

/**
 * @brief Polls (every 50 ms, at most TRACK_MS) until a new overlay pid answers /status, then
 * until the folder holds a chunk newer than `preSeq`; fills `rec`.
 */
async function trackRestart(ctx: RunCtx, k: number, hit: { pid: number; t: number }, preSeq: number, rec: OverlayKill, over: () => boolean): Promise<void> {
  while (!over() && Date.now() - hit.t < TRACK_MS) {
    if (rec.overlayRestartMs === null) {
      const s = await ctx.net.status(k).catch(() => null);
      if (s && s.pid !== hit.pid) Object.assign(rec, { overlayRestartMs: Date.now() - hit.t, newPid: s.pid });
    }
    if (rec.receivingAgainMs === null && (await newestSeq(ctx.net.dir(k))) > preSeq) rec.receivingAgainMs = Date.now() - hit.t;
    if (rec.overlayRestartMs !== null && rec.receivingAgainMs !== null) return;
    await sleep(50);
  }
}

/**
 * @brief Whether the direct peer's newest sequence kept growing to the end: its last /status
 * against its sample three periods earlier.
 */
function sourceKeptGrowing(ctx: RunCtx, periodMs: number): { grew: boolean; lastSeq: number | null; threePeriodsBefore: number | null } | null {
  const d = ctx.direct();
  if (d === undefined) return null;
  const arr = ctx.poller.history.filter((h) => h.k === d);
  const last = arr.at(-1);
  if (!last) return null;
  const before = arr.filter((h) => h.t <= last.t - 3 * periodMs).at(-1);
  const a = last.s.lastSeq;
  const b = before?.s.lastSeq ?? null;
  return { grew: a !== null && b !== null && a > b, lastSeq: a, threePeriodsBefore: b };
}
