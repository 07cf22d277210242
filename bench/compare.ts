/**
 * @file compare.ts
 * @brief `bench compare`: the same channel (assets/sample, same period, same N, same machine)
 * disseminated by js-libp2p gossipsub (one process per node, bench/gossip-node.mjs) and by
 * relaytv (Testnet). In both, ~10 % of the receivers are SIGKILLed mid-run.
 *
 * Same measures for both: uploadPerDelivered = TCP bytes the nodes sent from the start of the
 * publication (t0) to the end (kernel counters via ss, bytes_acked, all traffic incl. control;
 * common.ts SocketBytes, as in scale) / chunk bytes the receivers stored over the same interval;
 * jain over the receivers' socket bytes (alive the whole run); latency = receiver file mtime -
 * origin file mtime (relaytv: the source's file; gossipsub: the publisher's file); lost =
 * chunks published after a surviving receiver's first one that it never stored; CPU/RSS from
 * /proc. Gossipsub runs with its defaults (D=6, heartbeat 1 s, floodPublish, signed messages),
 * plaintext (relaytv does not encrypt either) and yamux; each node dials 3 random earlier nodes.
 */
import { spawn, ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, ProcSampler, SocketBytes, scanFolder, FileInfo, jain, percentile, sleep, r, writeResult, printTable, machineCpu, deliveredBetween, SOCKET_RULE } from './common';
import { runOverlay, RunCtx } from './overlay';
import { groupedBars, cdfChart } from './plot';

/** One gossip node process. */
interface GNode { i: number; child: ChildProcess; dir: string; addr: string; alive: boolean; msgs: Record<string, unknown>[] }

/** @brief Runs gossipsub with `n` nodes (node 0 publishes) for `count` chunks. */
async function runGossip(n: number, periodS: number, count: number, killFrac: number): Promise<Record<string, unknown> & { _lat: number[] }> {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'relaytv-gossip-'));
  const portBase = 30000 + Math.floor(Math.random() * 20000);
  const nodes: GNode[] = [];
  const sampler = new ProcSampler(() => nodes.filter((x) => x.alive).map((x) => x.child.pid!), 2000);
  const sock = new SocketBytes(() => new Set(nodes.map((x) => x.child.pid!)), 1000);
  try {
    for (let i = 0; i < n; i++) {
      const earlier = nodes.map((x) => x.addr).sort(() => Math.random() - 0.5).slice(0, 3);
      const cfg = { ip: `127.0.0.${100 + i}`, port: portBase + i, dir: path.join(tmp, `n${i}`), role: i === 0 ? 'pub' : 'sub', dial: earlier, content: path.join(ROOT, 'assets/sample') };
      const child = spawn(process.execPath, [path.join(ROOT, 'bench/gossip-node.mjs'), JSON.stringify(cfg)], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
      const node: GNode = { i, child, dir: cfg.dir, addr: '', alive: true, msgs: [] };
      const errs: string[] = [];
      child.stderr!.on('data', (b: Buffer) => { errs.push(b.toString()); });
      child.on('message', (m: Record<string, unknown>) => { node.msgs.push(m); if (m.ev === 'ready') node.addr = String(m.addr); });
      child.on('exit', () => { node.alive = false; });
      nodes.push(node);
      const until = Date.now() + 30_000;
      while (!node.addr) {
        if (!node.alive || Date.now() > until) throw new Error(`gossip node ${i} did not start: ${errs.join('').slice(0, 500)}`);
        await sleep(50);
      }
    }
    await sleep(6000); // mesh formation (heartbeat 1 s)
    for (const x of nodes) x.child.send({ cmd: 'peers' });
    await sleep(300);
    const meshInfo = nodes.map((x) => x.msgs.filter((m) => m.ev === 'peers').pop());
    sampler.start();
    sock.start();
    const cpu0 = machineCpu().snap;
    const mark = sock.mark();
    const t0 = Date.now();
    nodes[0].child.send({ cmd: 'start', count, periodMs: periodS * 1000 });
    const killed: number[] = [];
    const killAt = t0 + (count * periodS * 1000) / 2;
    while (Date.now() < t0 + count * periodS * 1000) {
      await sleep(200);
      if (!killed.length && Date.now() >= killAt) {
        const subs = nodes.slice(1).map((x) => x.i).sort(() => Math.random() - 0.5).slice(0, Math.max(1, Math.round((n - 1) * killFrac)));
        for (const i of subs) { nodes[i].child.kill('SIGKILL'); killed.push(i); }
      }
    }
    await sleep(3000);
    const machineCpuPct = machineCpu(cpu0).pct;
    sampler.stop();
    sock.stop();
    const tEnd = Date.now();
    const folders = new Map<number, Map<number, FileInfo>>();
    for (const x of nodes) folders.set(x.i, await scanFolder(x.dir));
    const pub = folders.get(0)!;
    const survivors = nodes.filter((x) => x.i !== 0 && !killed.includes(x.i)).map((x) => x.i);
    let lost = 0;
    const lat: number[] = [];
    let delivered = 0;
    for (const [i, files] of folders) {
      if (i === 0) continue;
      for (const [seq, f] of files) {
        delivered += f.size;
        const p = pub.get(seq);
        if (p) lat.push(f.mtimeMs - p.mtimeMs);
      }
    }
    for (const i of survivors) {
      const files = folders.get(i)!;
      const first = files.size ? Math.min(...files.keys()) : 0;
      for (const seq of pub.keys()) if (seq >= first && !files.has(seq)) lost++;
      if (!files.size) lost += pub.size;
    }
    const by = sock.byPid();
    const upAll = sock.sentSince(mark);
    const windowDelivered = deliveredBetween(folders, () => 0, t0, tEnd);
    const recv = survivors.map((i) => by.get(nodes[i].child.pid!) ?? 0);
    const cpu = survivors.map((i) => sampler.cpuPct(nodes[i].child.pid!)).filter(Number.isFinite);
    const rss = survivors.map((i) => sampler.rssMb(nodes[i].child.pid!)).filter(Number.isFinite);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    return {
      system: 'gossipsub', nodes: n, periodS, published: pub.size, killed: killed.length, survivors: survivors.length,
      lost,
      uploadPerDelivered: sock.available ? r(upAll / Math.max(1, windowDelivered), 4) : null,
      uploadCountedBy: sock.available ? SOCKET_RULE : 'ss failed: not counted',
      socketBytesSent: upAll, bytesDelivered: windowDelivered, bytesDeliveredWholeRun: delivered,
      publisherUploadBytes: by.get(nodes[0].child.pid!) ?? 0,
      jain: r(jain(recv), 4),
      latencyP50Ms: r(percentile(lat, 50), 1), latencyP99Ms: r(percentile(lat, 99), 1), latencyMaxMs: r(Math.max(...lat), 1),
      cpuPctPerPeer: r(mean(cpu), 2), rssMbPerPeer: r(mean(rss), 1),
      publisherCpuPct: r(sampler.cpuPct(nodes[0].child.pid!), 2),
      machineCpuPct: r(machineCpuPct, 1),
      meshAtStart: meshInfo.map((m) => (m ? `${m.n}/${m.mesh}` : '?')).join(' '),
      publishErrors: nodes[0].msgs.filter((m) => m.ev === 'publishError').length,
      _lat: lat,
    };
  } finally {
    for (const x of nodes) if (x.child.exitCode === null && x.child.signalCode === null) x.child.kill('SIGKILL');
    await Promise.all(nodes.map((x) => (x.child.exitCode === null && x.child.signalCode === null ? new Promise((res) => x.child.once('exit', res)) : null)));
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

/** @brief The compare scenario. */
export async function runCompare(a: { period?: number; duration?: number; peers?: number }): Promise<void> {
  const n = a.peers ?? 20;
  const periodS = a.period ?? 2;
  const durationS = a.duration ?? 40;
  const killN = Math.max(1, Math.round((n - 1) * 0.1));
  let killed = false;
  const rt = await runOverlay({
    peers: n, periodS, durationS, socketBytes: true,
    during: async (ctx: RunCtx, el: number) => {
      if (killed || el < (durationS * 1000) / 2) return;
      killed = true;
      const src = ctx.source();
      const cands = [...ctx.alive].filter((k) => k !== src).sort(() => Math.random() - 0.5).slice(0, killN);
      for (const k of cands) await ctx.kill(k, 'compare 10%');
    },
  });
  const f = rt.figures as Record<string, number | string | null>;
  const relaytv = {
    system: 'relaytv', nodes: n, periodS, killed: killN, lost: f.lost, roundsMissed: f.roundsMissed,
    uploadPerDelivered: f.uploadPerDelivered, uploadCountedBy: f.uploadCountedBy, uploadPerDeliveredAppData: f.duplicateRatio,
    socketBytesSent: f.socketBytesSent, bytesDelivered: f.socketWindowBytesDelivered,
    jain: f.jainSocketRelays, jainAppBytesRelays: f.jain,
    latencyP50Ms: f.latencyFromSourceP50Ms, latencyP99Ms: f.latencyFromSourceP99Ms,
    latencyServerToDiskP50Ms: f.latencyP50Ms, latencyServerToDiskP99Ms: f.latencyP99Ms,
    cpuPctPerPeer: f.cpuPctPerPeer, rssMbPerPeer: f.rssMbPerPeer, sourceCpuPct: f.sourceCpuPct, machineCpuPct: f.machineCpuPct,
  };
  let gossip: Record<string, unknown>;
  let gLat: number[] = [];
  try {
    const g = await runGossip(n, periodS, Math.round(durationS / periodS), 0.1);
    gLat = g._lat;
    const { _lat, ...rest } = g;
    gossip = rest;
  } catch (err) {
    gossip = { system: 'gossipsub', error: (err as Error).message };
  }
  const metrics = ['uploadPerDelivered', 'jain', 'latencyP50Ms', 'latencyP99Ms', 'lost', 'cpuPctPerPeer', 'rssMbPerPeer'];
  const plots = [
    groupedBars('compare.svg', `relaytv vs gossipsub: ${n} nodes, period ${periodS} s, 10% killed`, metrics, [
      { label: 'relaytv', values: metrics.map((m) => (relaytv as Record<string, unknown>)[m] as number ?? null) },
      { label: 'gossipsub', values: metrics.map((m) => (gossip[m] as number) ?? null) },
    ]),
    cdfChart('compare-latency-cdf.svg', 'origin disk -> receiver disk', [
      { label: 'relaytv', values: rt.raw.latenciesSrc }, { label: 'gossipsub', values: gLat }], 'ms'),
  ];
  writeResult('compare', { relaytv, gossipsub: gossip, plots, note: 'relaytv latency here = source file mtime -> peer file mtime, the same measure as gossipsub (publisher file -> subscriber file)' });
  console.log('\n=== compare ===');
  console.table(Object.fromEntries(['nodes', 'killed', ...metrics, 'uploadPerDeliveredAppData', 'socketBytesSent', 'bytesDelivered', 'machineCpuPct', 'error'].map((m) => [m, {
    relaytv: (relaytv as Record<string, unknown>)[m] ?? '', gossipsub: gossip[m] ?? '' }])));
  printTable('compare plots', { plots: plots.join(' ') });
}
