/**
 * Tier 5: chaos in the lab. For two minutes, random faults from the kernel (faults.ts) on
 * random peer hosts: at most two at a time, each held 1-5 s, at most 40 in all; a crashed host
 * is restarted with its folder (as PM2 would) except for at most two that stay dead. The
 * source (the one direct peer: a single server slot, as with the course's server) is never a
 * victim: losing it costs up to 2 chunks by design (failover.test). Then every survivor must
 * hold every chunk since it joined (a restarted host: except while it was down), the server's
 * bytes in server order. The seed is logged; LAB_CHAOS_SEED=<seed> replays the same choices.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { Lab, Progress, inject, firstDetection, labUnavailable, rejoined, folderProblems, FAULT_KINDS, LAG_OUT } from '../helpers/lab';
import type { ActiveFault, FaultKind, Downtime } from '../helpers/lab';
import { ServerOrder } from '../helpers/chunks';
import { sleep, waitFor } from '../helpers/wait';
import { rng } from '../../sim/heap';

const HOSTS = [1, 2, 3, 4, 5, 6, 7, 8];
const DURATION_MS = 120_000;
const MAX_FAULTS = 40;
const MAX_ACTIVE = 2;
const MAX_DEAD = 2;
const KINDS: FaultKind[] = [...FAULT_KINDS];

const why = labUnavailable();

test('lab chaos: random kernel faults on random hosts for two minutes, no hole in any survivor',
  { skip: why ? `cannot run the lab: ${why}` : false, timeout: 300_000 }, async (t) => {
    const seed = Number(process.env.LAB_CHAOS_SEED ?? Date.now() % 1_000_000_007);
    const rand = rng(seed);
    const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
    t.diagnostic(`seed ${seed} (LAB_CHAOS_SEED=${seed} replays it); faults: ${KINDS.join(', ')}`);
    const lab = await Lab.start({ periodS: 0.5, maxClients: 1 });
    const progress = new Progress(lab);
    const order = new ServerOrder();
    const downtime: Downtime = new Map();
    const alive = new Set(HOSTS);
    const active: { f: ActiveFault; until: number; lastBefore: number; restart: boolean }[] = [];
    const done: ActiveFault[] = [];
    try {
      for (const k of HOSTS) await lab.addPeer(k, 2);
      await waitFor(async () => (await Promise.all(HOSTS.map((k) => lab.seqs(k)))).every((s) => s.length >= 4), 60_000, 'every lab peer to receive');
      progress.start();
      await waitFor(() => HOSTS.every((k) => progress.lag(k) <= LAG_OUT), 20_000, 'every lab peer to keep up');

      const heal = async (a: (typeof active)[number]) => {
        active.splice(active.indexOf(a), 1);
        if (a.f.kind === 'crash' && !a.restart) {
          alive.delete(a.f.host);
          t.diagnostic(`${a.f.host}: stays dead (${lab.ip(a.f.host)})`);
          return;
        }
        await a.f.heal();
        if (a.f.kind === 'crash') {
          const first = await rejoined(lab, progress, a.f.host, a.lastBefore, downtime);
          t.diagnostic(`${lab.ip(a.f.host)} restarted: complete up to ${a.lastBefore} when killed, rejoined at ${first}`);
        }
        done.push(a.f);
      };

      const source = async (): Promise<number | undefined> => {
        for (const k of alive) if ((await lab.status(k).catch(() => null))?.role === 'coordinator') return k;
        return undefined;
      };

      const end = Date.now() + DURATION_MS;
      let count = 0;
      while (Date.now() < end && count < MAX_FAULTS) {
        await sleep(2000 + rand() * 3000);
        for (const a of active.filter((x) => Date.now() >= x.until)) await heal(a);
        if (active.length >= MAX_ACTIVE || Date.now() > end - 6000) continue;
        const src = await source();
        const busy = new Set(active.flatMap((a) => [a.f.host, ...a.f.peers]));
        const free = [...alive].filter((k) => k !== src && !busy.has(k));
        if (free.length < 2) continue;
        const kind = pick(KINDS);
        const a = pick(free);
        let peers: number[] = [];
        if (kind === 'partition') peers = [pick(free.filter((k) => k !== a))];
        if (kind === 'reset') {
          const st = await lab.status(a).catch(() => null);
          const kids = (st?.downstream ?? []).map((d) => HOSTS.find((k) => lab.ip(k) === d.addr.split(':')[0])).filter((k): k is number => k !== undefined && free.includes(k));
          peers = kids.length ? kids : [pick(free.filter((k) => k !== a))];
        }
        const restart = kind !== 'crash' || HOSTS.length - alive.size >= MAX_DEAD || rand() < 0.6;
        const f = await inject(lab, kind, a, peers);
        await progress.sample();
        const lastBefore = progress.head(a); // a crash: what it held in full when killed
        const holdMs = 1000 + Math.floor(rand() * 4000);
        active.push({ f, until: Date.now() + holdMs, lastBefore, restart });
        count++;
        t.diagnostic(`${((f.injectedMs - (end - DURATION_MS)) / 1000).toFixed(1)} s: ${f.what} for ${holdMs} ms${kind === 'crash' && !restart ? ' (not restarted)' : ''}`);
      }
      for (const a of [...active]) await heal(a);
      t.diagnostic(`${count} faults in ${((Date.now() - (end - DURATION_MS)) / 1000).toFixed(0)} s; survivors ${[...alive].map((k) => lab.ip(k)).join(', ')}`);
      const live = progress.live;
      await waitFor(() => progress.live >= live + 4 && [...alive].every((k) => progress.lag(k) <= LAG_OUT), 30_000, 'every survivor to catch up')
        .catch((err: Error) => t.diagnostic(err.message));
      for (const f of done) {
        const det = firstDetection(lab, f.injectedMs, [...lab.peers].filter(([k]) => k !== f.host || f.kind === 'partition').map(([, h]) => h),
          [f.host, ...f.peers].map((k) => lab.ip(k)), (f.healedMs ?? Date.now()) + 3000);
        t.diagnostic(`${f.kind} on ${lab.ip(f.host)}: detection ${det ? `${det.ms} ms (${det.host}: ${det.msg})` : 'none'}; held ${(f.healedMs ?? 0) - f.injectedMs} ms`);
      }
      const outages = [...alive].map((k) => ({ ip: lab.ip(k), n: progress.outages(k).length, ms: progress.outages(k).reduce((s, o) => s + ((o.to ?? Date.now()) - o.from), 0) }));
      t.diagnostic(`outages per survivor (behind the live point by more than ${LAG_OUT} chunks): ${outages.map((o) => `${o.ip} ${o.n}x ${o.ms} ms`).join(', ')}`);
      assert.ok(count >= 10, `chaos injected ${count} faults (at least 10 expected in two minutes)`);
      const problems = await folderProblems(lab, order, downtime, [...alive], live);
      if (problems.length) await evidence(lab, [...alive], (m) => t.diagnostic(m));
      assert.deepEqual(problems, [], 'every survivor has every chunk since it joined, in server order, and keeps receiving');
    } finally {
      progress.stop();
      await lab.stop();
    }
  });

/** On failure: for each hole, who holds that chunk, and the host's log lines about it. */
async function evidence(lab: Lab, hosts: number[], say: (m: string) => void): Promise<void> {
  const folders = new Map(await Promise.all(hosts.map(async (k) => [k, new Set(await lab.seqs(k))] as const)));
  for (const k of hosts) {
    const seqs = [...folders.get(k)!].sort((a, b) => a - b);
    for (let i = 1; i < seqs.length - 4; i++) {
      for (let s = seqs[i - 1] + 1; s < seqs[i]; s++) {
        const holders = hosts.filter((x) => folders.get(x)!.has(s)).map((x) => lab.ip(x));
        say(`hole ${s} in ${lab.ip(k)}: held by ${holders.join(', ') || 'nobody'}`);
      }
    }
    for (const l of lab.host(k).log) if (/chunk lost|coordinator|previous run|not in the view/.test(l)) say(`${lab.ip(k)} log: ${l.slice(0, 300)}`);
  }
}
