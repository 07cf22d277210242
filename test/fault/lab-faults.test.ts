/**
 * Tier 3: faults from the kernel on real hosts (the lab: one network namespace per peer, our
 * server on a host of its own, the standard ports). One lab serves every fault of this file,
 * in sequence, each on a relaying host (a peer with children, not the source), healed before
 * the next. After each: every peer has every chunk since it joined (a crashed host: since it
 * came back), its bytes are the server's chunks in server order, the stream goes on, and there
 * is one overlay. Detection and repair times are logged (t.diagnostic), never asserted; a host
 * that does not catch up gets its view, its parents and its warnings printed.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { PeerStatus } from '../../src/peer/status';
import { Lab, Progress, inject, figures, labUnavailable, rejoined, folderProblems, LAG_OUT } from '../helpers/lab';
import type { FaultKind, FaultFigures, ActiveFault, Downtime } from '../helpers/lab';
import { ServerOrder } from '../helpers/chunks';
import { sleep, waitFor } from '../helpers/wait';

const PERIOD_S = 0.5;
const HOSTS = [1, 2, 3, 4, 5, 6, 7];

/** The faults, in order: how long each is held before it is healed. */
const CASES: { kind: FaultKind; holdMs: number; title: string; coordinator?: boolean }[] = [
  { kind: 'partition', holdMs: 4000, title: 'a partition between two relaying hosts (nft drop both ways)' },
  { kind: 'reset', holdMs: 3000, title: 'connections reset between a relaying host and its children (nft reject with tcp reset)' },
  { kind: 'loss', holdMs: 6000, title: 'random loss on a relaying host (nft numgen, 20 % of segments, both ways)' },
  { kind: 'throttle', holdMs: 12_000, title: 'a relaying host throttled below the stream rate (tc tbf 1 Mbit/s on its link)' },
  { kind: 'hang', holdMs: 3000, title: 'a hung relaying host (SIGSTOP of its processes, then SIGCONT)' },
  { kind: 'crash', holdMs: 1000, title: 'a crashed relaying host (SIGKILL), restarted with its folder' },
  { kind: 'linkdown', holdMs: 3000, title: 'the link of a relaying host goes down and comes back (ip link)' },
  { kind: 'partition', holdMs: 5000, coordinator: true, title: 'a partition between a relaying host and the coordinator (nft drop both ways)' },
];

const why = labUnavailable();

describe('lab: faults from the kernel', { skip: why ? `cannot run the lab: ${why}` : false }, () => {
  let lab: Lab;
  let progress: Progress;
  const order = new ServerOrder();
  /** Sequences a crashed host may miss (while it was down), per host. */
  const downtime: Downtime = new Map();
  const victims: number[] = [];
  /** Hosts checked after each fault (every one). */
  const checked = [...HOSTS];
  const results: FaultFigures[] = [];

  before(async () => {
    lab = await Lab.start({ periodS: PERIOD_S, maxClients: 1 });
    for (const k of HOSTS) await lab.addPeer(k, 2);
    await waitFor(async () => (await Promise.all(HOSTS.map((k) => lab.seqs(k)))).every((s) => s.length >= 4), 60_000, 'every lab peer to receive');
    progress = new Progress(lab);
    progress.start();
    await waitFor(() => HOSTS.every((k) => progress.lag(k) <= LAG_OUT), 20_000, 'every lab peer to keep up');
  }, { timeout: 120_000 });

  after(async () => {
    progress?.stop();
    await lab?.stop();
    for (const r of results) console.log(`[lab-faults] ${JSON.stringify(r)}`);
  });

  /** While throttled: when every child of the slow host had moved away and kept up (null: never). */
  let movedAwayMs: number | null = null;

  for (const c of CASES) {
    test(c.title, { timeout: 90_000 }, async (t) => {
      const before = await statuses(lab);
      const f = await injectOn(lab, c.kind, before, victims, checked, c.coordinator ?? false);
      victims.push(f.host);
      t.diagnostic(`inject: ${f.what}`);
      await progress.sample();
      const headAtFault = progress.head(f.host); // a crash: what it held in full when killed
      if (c.kind === 'throttle') movedAwayMs = await watchMoveAway(lab, progress, f, before, c.holdMs, (m) => t.diagnostic(m));
      else await sleep(c.holdMs);
      await f.heal();
      if (c.kind === 'crash') {
        const first = await rejoined(lab, progress, f.host, headAtFault, downtime);
        t.diagnostic(`restarted host ${lab.ip(f.host)}: complete up to ${headAtFault} when killed, rejoined at ${first}`);
      }
      t.diagnostic(`heal: ${f.what}`);
      const liveAtHeal = progress.live;
      // Every host keeps receiving and catches up (bounded: a hole that never heals fails below).
      await waitFor(() => progress.live >= liveAtHeal + 4 && checked.every((k) => progress.lag(k) <= LAG_OUT), 15_000, 'every host to catch up')
        .catch(async (err: Error) => {
          t.diagnostic(err.message);
          // Evidence: who feeds whom and how far behind each host is.
          for (const [k, st] of await statuses(lab)) {
            const up = st?.upstream.map((u) => `${u.addr.split(':')[0]}/${u.stripes.join(',')}`).join(' ') ?? 'no answer';
            t.diagnostic(`${lab.ip(k)}: lag ${progress.lag(k)} role ${st?.role} upstream [${up}] lost ${st?.chunksLost}`
              + (st?.role === 'coordinator' ? ` unplaced ${st.unplaced}; placed: ${st.members.map((x) => `${x.id}<${x.parents?.join(',')}`).join(' ')}` : ''));
            if (progress.lag(k) <= LAG_OUT) continue;
            const said = lab.host(k).log.filter((l) => Number(/"time":(\d+)/.exec(l)?.[1]) >= f.injectedMs && /"level":[4-6]0/.test(l));
            for (const l of said.slice(-12)) t.diagnostic(`  ${lab.ip(k)} log: ${l.slice(0, 260)}`);
          }
        });
      await progress.sample();
      const fig = figures(lab, progress, f);
      results.push(fig);
      const after = await statuses(lab);
      t.diagnostic(report(fig, before, after, lab));
      const problems = await folderProblems(lab, order, downtime, checked, liveAtHeal);
      const overlays = new Set(checked.map((k) => after.get(k)?.coordinator ?? 'no answer'));
      if (problems.length || overlays.size > 1) {
        // Evidence: what the victim said about its membership since the fault.
        for (const l of lab.host(f.host).log) {
          const time = /"time":(\d+)/.exec(l)?.[1];
          if (/coordinator|rejoin|join|slot|view/.test(l) && Number(time) >= f.injectedMs) t.diagnostic(`${lab.ip(f.host)} log: ${l.slice(0, 300)}`);
        }
      }
      assert.deepEqual(problems, [], 'every host has every chunk since it joined, in server order, and keeps receiving');
      assert.equal(overlays.size, 1, `one overlay: every host names the same coordinator (${[...overlays].join(', ')})`);
      assert.deepEqual(fig.unrepaired.filter((ip) => checked.some((k) => lab.ip(k) === ip)), [], 'every host caught up with the live point');
    });
    if (c.kind === 'throttle') {
      test('while a host stays throttled, its children move away from it and keep up', () => {
        assert.notEqual(movedAwayMs, null, `the children of the throttled host were still behind it after ${c.holdMs} ms`);
      });
    }
  }
});

/**
 * Watches the children of a throttled host for `ms`: returns how long after the fault all of
 * them were fed by other parents and kept up with the live point, or null if they never were.
 */
async function watchMoveAway(lab: Lab, p: Progress, f: ActiveFault, before: Map<number, PeerStatus | null>, ms: number, say: (m: string) => void): Promise<number | null> {
  const slow = lab.ip(f.host);
  const kids = before.get(f.host)!.downstream.map((d) => hostOf(lab, d.addr)).filter((k): k is number => k !== undefined);
  const until = f.injectedMs + ms;
  let moved: number | null = null;
  while (Date.now() < until) {
    await sleep(500);
    if (moved !== null) continue;
    const sts = await Promise.all(kids.map((k) => lab.status(k).catch(() => null)));
    const away = sts.every((s) => s && !s.upstream.some((u) => u.addr.startsWith(`${slow}:`)));
    if (away && kids.every((k) => p.lag(k) <= LAG_OUT)) moved = Date.now() - f.injectedMs;
  }
  if (moved === null) {
    // Evidence: where each child of the slow host is fed from, how far behind, what it said.
    for (const k of kids) {
      const st = await lab.status(k).catch(() => null);
      say(`child ${lab.ip(k)}: lag ${p.lag(k)} upstream [${st?.upstream.map((u) => `${u.addr.split(':')[0]}/${u.stripes.join(',')}`).join(' ') ?? 'no answer'}]`);
      const said = lab.host(k).log.filter((l) => Number(/"time":(\d+)/.exec(l)?.[1]) >= f.injectedMs && /"level":[4-6]0|parent|subscri/.test(l));
      for (const l of said.slice(-12)) say(`  ${lab.ip(k)} log: ${l.slice(0, 260)}`);
    }
  }
  return moved;
}

/** /status of every lab host (null when it does not answer: hung or down). */
async function statuses(lab: Lab): Promise<Map<number, PeerStatus | null>> {
  const out = new Map<number, PeerStatus | null>();
  await Promise.all(HOSTS.map(async (k) => out.set(k, await lab.status(k).catch(() => null))));
  return out;
}

/** Host number of an "IP:port" the lab gave. */
function hostOf(lab: Lab, addr: string): number | undefined {
  const ip = addr.split(':')[0];
  return HOSTS.find((k) => lab.ip(k) === ip);
}

/**
 * Picks the victim of `kind` among `among`: a relaying host (children, not the source), one not
 * hit yet if possible; for a partition, the other end is one of its children (an edge is cut),
 * a relaying one if possible, or the coordinator; for a reset, its children.
 */
async function injectOn(lab: Lab, kind: FaultKind, st: Map<number, PeerStatus | null>, used: number[], among: number[], withCoordinator: boolean): Promise<ActiveFault> {
  const relaying = among.filter((k) => { const s = st.get(k); return s && s.role === 'member' && !s.direct && s.downstream.length > 0; });
  assert.ok(relaying.length > 0, 'a relaying host exists');
  const fresh = relaying.filter((k) => !used.includes(k));
  const a = (fresh.length ? fresh : relaying)[0];
  const children = st.get(a)!.downstream.map((d) => hostOf(lab, d.addr)).filter((k): k is number => k !== undefined);
  if (kind === 'partition' && withCoordinator) {
    const coordinator = among.find((k) => st.get(k)?.role === 'coordinator');
    assert.ok(coordinator, 'the coordinator answers');
    return inject(lab, kind, a, [coordinator]);
  }
  if (kind === 'partition') {
    const b = children.find((k) => relaying.includes(k)) ?? children[0];
    return inject(lab, kind, a, [b]);
  }
  if (kind === 'reset') return inject(lab, kind, a, children);
  return inject(lab, kind, a);
}

/** One diagnostic line: the figures and what the peers themselves reported (/status). */
function report(f: FaultFigures, before: Map<number, PeerStatus | null>, after: Map<number, PeerStatus | null>, lab: Lab): string {
  const reattached: string[] = [];
  for (const [k, s] of after) {
    const b = before.get(k);
    if (s && b && s.reattaches > b.reattaches) reattached.push(`${lab.ip(k)} (re-attach ${s.lastReattachMs} ms, first chunk ${s.lastReattachMs} ms)`);
  }
  return `${f.kind}: detection ${f.detectionMs ?? 'none needed'} ms${f.detectedBy ? ` by ${f.detectedBy}` : ''}; `
    + `repair ${f.repairMs} ms (interrupted: ${f.interrupted.join(', ') || 'nobody'}; ${f.interruptedMs} ms in all, at most ${f.maxLag} chunks behind)`
    + `${f.victimCatchUpMs !== null ? `; victim caught up ${f.victimCatchUpMs} ms after the heal` : ''}`
    + `; peers re-attached (/status): ${reattached.join(', ') || 'none'}`;
}
