/**
 * @file index.ts
 * @brief `npm run bench -- <scenario> [--period S] [--duration S] [--peers N] [--sizes 50,100,200] [--hosts N]`
 *
 * Scenarios: steady, churn, direct, scale, pool, compare, lab (one peer per network namespace,
 * `--hosts N`, root; lab.ts), all (every one but lab). Each prints a table and writes
 * bench-results/<scenario>.json (+ SVG plots). Every process started is killed at the end,
 * also on error (Testnet.stop(), gossip nodes by pid).
 *
 * Figures (see overlay.ts for the exact definitions): lost, roundsMissed, recoveryMsMax
 * (peer-reported lastReattachMs, sampled from /status), jain/maxOverMean (bytesSent delta over
 * the measured window, peers alive the whole window, all with the same slots), duplicateRatio,
 * latency (file mtime - server push start), idealLatencyMs (server hop + max depth x one hop),
 * cpuPctPerPeer / rssMbPerPeer (/proc of the relaying peers; the source is reported apart).
 */
import { scaleOnce } from './swarm-scale';
import { ensureBuilt, writeResult, printTable, sleep, r } from './common';
import { runOverlay, RunCtx } from './overlay';
import { barChart, cdfChart, timelineChart } from './plot';
import { runPool } from './pool';
import { runCompare } from './compare';
import { runLab } from './lab';

/** Parsed command line. */
interface Args { scenario: string; period?: number; duration?: number; peers?: number; sizes?: number[]; hosts?: number }

function parseArgs(argv: string[]): Args {
  const a: Args = { scenario: argv[0] ?? 'steady' };
  for (let i = 1; i < argv.length; i++) {
    const v = argv[i + 1];
    if (argv[i] === '--period') { a.period = Number(v); i++; }
    else if (argv[i] === '--duration') { a.duration = Number(v); i++; }
    else if (argv[i] === '--peers') { a.peers = Number(v); i++; }
    else if (argv[i] === '--sizes') { a.sizes = v.split(',').map(Number); i++; }
    else if (argv[i] === '--hosts') { a.hosts = Number(v); i++; }
  }
  return a;
}

/** @brief The plots every overlay scenario gets. */
function overlayPlots(name: string, raw: Awaited<ReturnType<typeof runOverlay>>['raw']): string[] {
  const sorted = [...raw.sentDelta].sort((x, y) => x.k - y.k);
  return [
    barChart(`${name}-bytes-sent.svg`, `${name}: chunk bytes sent per peer over the window (orange = source)`,
      sorted.map((x) => x.ip.split('.').slice(-1)[0]), sorted.map((x) => x.bytes / 1e6), 'MB sent', sorted.map((x) => x.role === 'coordinator')),
    cdfChart(`${name}-latency-cdf.svg`, `${name}: latency to each peer's disk`, [
      { label: 'server push -> peer disk', values: raw.latencies },
      { label: 'source disk -> peer disk', values: raw.latenciesSrc },
    ], 'ms'),
  ];
}

async function steady(a: Args): Promise<void> {
  const { figures, raw } = await runOverlay({ peers: a.peers ?? 20, periodS: a.period ?? 2, durationS: a.duration ?? 60 });
  const plots = overlayPlots('steady', raw);
  writeResult('steady', { scenario: 'steady', ...figures, plots });
  printTable('steady', figures);
  console.log('plots:', plots.join(' '));
}

async function churn(a: Args): Promise<void> {
  const periodS = a.period ?? 2;
  let nextKill = 10_000;
  const { figures, raw } = await runOverlay({
    peers: a.peers ?? 20, periodS, durationS: a.duration ?? 60, pollMs: 500,
    during: async (ctx: RunCtx, el: number) => {
      if (el < nextKill || el > (a.duration ?? 60) * 1000 - 5000) return;
      nextKill += 10_000;
      const cands = ctx.relaying();
      if (!cands.length) { ctx.events.push({ t: Date.now(), kind: 'no-relaying-peer', k: -1 }); return; }
      const victim = cands[Math.floor(Math.random() * cands.length)];
      await ctx.kill(victim, 'churn');
      await ctx.add();
    },
  });
  const plots = overlayPlots('churn', raw);
  plots.push(timelineChart('churn-recovery.svg', 'churn: recoveries reported by peers (lastReattachMs) vs kills',
    raw.reattaches.map((x) => ({ t: (x.t - raw.t0) / 1000, v: x.ms, label: `peer ${x.k}` })),
    raw.events.filter((e) => e.kind === 'kill').map((e) => ({ t: (e.t - raw.t0) / 1000, label: `kill ${e.k}` })),
    a.duration ?? 60, 'recovery (ms)'));
  writeResult('churn', { scenario: 'churn', ...figures, recoveryEvents: raw.reattaches.map((x) => ({ ...x, atS: r((x.t - raw.t0) / 1000, 2) })), plots });
  printTable('churn', figures);
  console.log('plots:', plots.join(' '));
}

async function direct(a: Args): Promise<void> {
  const periodS = a.period ?? 2;
  const killAtMs = (a.duration ?? 40) * 500;
  let done = false;
  let killed: { k: number; t: number } | null = null;
  const takeover: Record<string, unknown> = {};
  const { figures, raw } = await runOverlay({
    peers: a.peers ?? 12, periodS, durationS: a.duration ?? 40, maxClients: 1, pollMs: 500,
    during: async (ctx: RunCtx, el: number) => {
      if (!done && el >= killAtMs) {
        done = true;
        const src = ctx.source();
        if (src === undefined) { ctx.events.push({ t: Date.now(), kind: 'no-source', k: -1 }); return; }
        await ctx.kill(src, 'direct peer (source)');
        killed = { k: src, t: Date.now() };
      }
      if (killed && !takeover.newSource) {
        const s = ctx.source();
        const st = s !== undefined ? ctx.poller.last.get(s)?.s : undefined;
        if (st?.role === 'coordinator') { takeover.newSource = st.id; takeover.coordinatorAfterS = r((Date.now() - killed.t) / 1000, 2); }
      }
      if (killed && !takeover.directAfterS) {
        const d = [...ctx.alive].find((k) => ctx.poller.last.get(k)?.s.direct);
        if (d !== undefined) takeover.directAfterS = r((Date.now() - killed.t) / 1000, 2);
      }
    },
  });
  const serverLog = (figures.serverWarnings ?? {}) as Record<string, number>;
  const plots = overlayPlots('direct', raw);
  const out = { scenario: 'direct', ...figures, takeover: { ...takeover, killed: killed ? { k: (killed as { k: number }).k } : null, serverWarnings: serverLog }, plots };
  writeResult('direct', out);
  printTable('direct', { ...figures, ...takeover });
  console.log('plots:', plots.join(' '));
}

async function scale(a: Args): Promise<void> {
  const sizes = a.sizes ?? [50, 100, 200];
  const periodS = a.period ?? 2;
  const rows: Record<string, unknown>[] = [];
  for (const n of sizes) {
    console.log(`[bench] scale: ${n} peers (${Math.ceil(n / 50)} swarm processes)`);
    try {
      rows.push({ size: n, ...(await scaleOnce(n, periodS, a.duration ?? 30)) });
    } catch (err) {
      rows.push({ size: n, error: (err as Error).message });
    }
    writeResult('scale', { scenario: 'scale', periodS, sizes: rows });
    await sleep(2000);
  }
  console.log('\n=== scale ===');
  console.table(rows);
}

async function lab(a: Args): Promise<void> {
  const { figures, raw, faults } = await runLab({ hosts: a.hosts ?? 50, periodS: a.period ?? 2, durationS: a.duration ?? 60 });
  const plots = overlayPlots('lab', raw);
  writeResult('lab', { scenario: 'lab', ...figures, faults, plots });
  printTable('lab', figures);
  console.log('\n=== lab: faults (detection from logs, repair from folders) ===');
  console.table(faults.map((f) => ({ kind: f.kind, detectionMs: f.detectionMs, repairMs: f.repairMs, interrupted: f.interrupted.length, interruptedMs: f.interruptedMs, maxLag: f.maxLag, unrepaired: f.unrepaired.length })));
  console.log('plots:', plots.join(' '));
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  ensureBuilt();
  const all: Record<string, (a: Args) => Promise<void>> = {
    steady, churn, direct, scale, pool: runPool, compare: runCompare, lab,
  };
  const list = a.scenario === 'all' ? Object.keys(all).filter((s) => s !== 'lab') : [a.scenario];
  for (const s of list) {
    const f = all[s];
    if (!f) throw new Error(`unknown scenario '${s}' (steady|churn|direct|scale|pool|compare|lab|all)`);
    console.log(`[bench] ${s}`);
    await f(a);
  }
}

main().then(() => process.exit(0), (err) => {
  console.error(err);
  process.exit(1);
});
