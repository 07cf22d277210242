/**
 * @file lab.ts
 * @brief `npm run bench -- lab [--hosts 50] [--period 2] [--duration 60]`: the overlay's figures
 * on real hosts: one peer per network namespace (test/helpers/lab), our server on a host of its
 * own, the standard ports 9091/9092/9093 everywhere. Needs root, iproute2 and nftables.
 *
 * The run is runOverlay's (overlay.ts), so the figures are those of steady/churn, defined there
 * (lost, latency, balance, startup, CPU and RSS per peer: here summed over every process of its
 * host). Two faults from the kernel are injected and measured as the lab tests do (detection
 * from the peers' logs, repair from their folders, measure.ts): at a quarter of the run a
 * partition between a relaying host and one of its children (nft drop both ways, healed after
 * 4 periods), at half the run a crash of another relaying host (SIGKILL of every pid of the
 * host, not restarted: it then counts as killed, as in churn). Each is measured 4 periods + 8 s
 * after it began, so the run must last longer than half plus that (the default 60 s does).
 */
import { runOverlay, RunCtx, OverlayRaw } from './overlay';
import { Lab, Progress, inject, figures as faultFigures, labUnavailable } from '../test/helpers/lab';
import type { ActiveFault, FaultFigures } from '../test/helpers/lab';

/** Options of the lab run. */
export interface LabBenchOptions { hosts: number; periodS: number; durationS: number }

/** @brief Runs the lab benchmark; returns runOverlay's figures and raw data, and the faults' figures. */
export async function runLab(o: LabBenchOptions): Promise<{ figures: Record<string, unknown>; raw: OverlayRaw; faults: FaultFigures[] }> {
  const why = labUnavailable();
  if (why) throw new Error(`the lab benchmark cannot run: ${why}`);
  const periodMs = o.periodS * 1000;
  let lab: Lab | null = null;
  let progress: Progress | null = null;
  const faults: FaultFigures[] = [];
  const plan: ('partition' | 'crash')[] = ['partition', 'crash'];
  let current: { f: ActiveFault; healAt: number; measureAt: number } | null = null;

  const during = async (ctx: RunCtx, el: number): Promise<void> => {
    if (!lab) return;
    if (!progress) { progress = new Progress(lab, 250); progress.start(); }
    const now = Date.now();
    if (current) {
      if (current.f.kind !== 'crash' && current.f.healedMs === null && now >= current.healAt) await current.f.heal();
      if (now >= current.measureAt) {
        await progress.sample();
        const fig = faultFigures(lab, progress, current.f);
        fig.unrepaired = fig.unrepaired.filter((ip) => ip !== lab!.ip(current!.f.host) || current!.f.kind !== 'crash');
        faults.push(fig);
        current = null;
      }
      return;
    }
    const due = plan.length ? (o.durationS * 1000 * (3 - plan.length)) / 4 : Infinity; // at 1/4 and 1/2 of the run
    if (el < due) return;
    const kind = plan.shift()!;
    const relays = ctx.relaying();
    if (!relays.length) { ctx.events.push({ t: now, kind: `no relaying host for ${kind}`, k: -1 }); return; }
    const victim = relays[Math.floor(Math.random() * relays.length)];
    let f: ActiveFault;
    if (kind === 'partition') {
      const kids = (ctx.poller.last.get(victim)?.s.downstream ?? []).map((d) => [...ctx.alive].find((k) => lab!.ip(k) === d.addr.split(':')[0]));
      const child = kids.find((k): k is number => k !== undefined);
      if (child === undefined) return;
      f = await inject(lab, 'partition', victim, [child]);
      ctx.events.push({ t: f.injectedMs, kind: 'partition', k: victim, detail: { what: f.what } });
    } else {
      const t0 = Date.now();
      await ctx.kill(victim, 'lab crash (SIGKILL of every pid of the host)');
      const pids = lab.events.filter((e) => e.host === `h${victim}` && e.what === 'SIGKILL').at(-1)?.pids ?? [];
      f = { kind: 'crash', host: victim, peers: [], what: `SIGKILL ${lab.ip(victim)} pids ${pids.join(',')}`, injectedMs: t0, healedMs: null, heal: async () => undefined };
    }
    current = { f, healAt: now + 4 * periodMs, measureAt: now + 4 * periodMs + Math.max(8000, 4 * periodMs) };
  };

  try {
    const { figures, raw } = await runOverlay({
      peers: o.hosts, periodS: o.periodS, durationS: o.durationS, maxClients: 1, pollMs: 1000, minFreeMb: 1500, during,
      net: async () => (lab = await Lab.start({ periodS: o.periodS, maxClients: 1, logLevel: 'debug' })),
    });
    return { figures: { hosts: o.hosts, ...figures }, raw, faults };
  } finally {
    (progress as Progress | null)?.stop();
  }
}
