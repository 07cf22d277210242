/**
 * @file swarm-scale.ts
 * @brief `npm run bench -- scale`: hundreds of peers on this machine, hosted 50 per process by
 * `relaytv swarm` (the same Peer objects, one event loop and one chunk pool per process).
 *
 * For each size: our server (limit 1, the given period); the swarm processes, all spawned at
 * once, each joining its peers one every 100 ms; wait (at most 2 minutes) until every peer
 * stored a chunk; a measured window [tA, T]; three periods to settle; then the folders. Swarm
 * process p hosts 127.0.(1 + p/5).(1 + 50 (p mod 5)) and the 49 addresses after it, so no
 * process's range crosses a .0 or .255. A size that does not hold (peers not receiving, a swarm
 * that died) still reports what it measured, with `error` saying what went wrong.
 *
 * Figures (definitions in bench/index.ts): loss and latency from the folders (latency = a
 * peer's file mtime minus the source's), depth from the coordinator's /status, hops from each
 * peer's /status parents, balance and control bytes from /status deltas, upload from the
 * kernel's socket counters (common.ts SocketBytes), CPU and RSS from /proc.
 */
import { spawn, ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Testnet, CLI } from '../test/helpers/testnet';
import { getStatus } from '../src/http/statusClient';
import type { PeerStatus } from '../src/peer/status';
import {
  ProcSampler, SocketBytes, scanFolder, FileInfo, parentsOf, jain, maxOverMean, percentile, sleep, r, machineCpu, memAvailableMb,
  mapLimit, deliveredBetween, procWchar, SOCKET_RULE,
} from './common';

/** Peers per swarm process. */
const PER_PROCESS = 50;
/** Give up waiting for every peer to receive after this long (the run goes on with those that do). */
const START_TIMEOUT_MS = 120_000;
/** /status reads in flight at once (each one is work for the event loops being measured). */
const STATUS_CONCURRENCY = 32;
/** The lone peer timed for peerStartMs (outside every swarm range). */
const LONE_IP = '127.0.0.6';

/** Figures of one size. */
export type ScaleRow = Record<string, unknown>;

/** One swarm process. */
interface Swarm { child: ChildProcess; ips: string[]; out: string[]; exited: boolean }

/** @brief The swarm processes of `n` peers and their addresses. */
function layout(n: number): { first: string; ips: string[] }[] {
  const out: { first: string; ips: string[] }[] = [];
  for (let p = 0; p * PER_PROCESS < n; p++) {
    const count = Math.min(PER_PROCESS, n - p * PER_PROCESS);
    const third = 1 + Math.floor(p / 5);
    const fourth = 1 + PER_PROCESS * (p % 5);
    out.push({ first: `127.0.${third}.${fourth}`, ips: Array.from({ length: count }, (_, j) => `127.0.${third}.${fourth + j}`) });
  }
  return out;
}

/** @brief Spawns one swarm (its own process group), keeping its last output lines. */
function spawnSwarm(net: Testnet, first: string, ips: string[]): Swarm {
  const child = spawn(process.execPath, [CLI, 'swarm', '--first-ip', first, '--count', String(ips.length),
    '--server', `127.0.0.1:${net.serverPort}`, '--data-port', String(net.dataPort), '--p2p-port', String(net.p2pPort),
    '--http-port', String(net.httpPort), '--dir', path.join(net.tmp, 'swarm'), '--slots', '2', '--spacing', '100'],
  { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, RELAYTV_LOG: 'warn' } });
  const s: Swarm = { child, ips, out: [], exited: false };
  const keep = (b: Buffer) => { s.out.push(...b.toString().split('\n').filter(Boolean)); s.out.splice(0, Math.max(0, s.out.length - 20)); };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.once('exit', () => { s.exited = true; });
  return s;
}

/** @brief SIGKILLs a child's process group and waits for it. */
async function killGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((res) => child.once('exit', res));
  try { process.kill(-child.pid!, 'SIGKILL'); } catch { return; }
  await gone;
}

/**
 * @brief peerStartMs: one lone `relaytv peer` (holder + overlay, as a user starts it) from spawn
 * to its 'peer started' line, on the machine as loaded by the size's swarms.
 */
async function timeLonePeer(net: Testnet): Promise<number | null> {
  const t = Date.now();
  const child = spawn(process.execPath, [CLI, 'peer', '--ip', LONE_IP, '--server', `127.0.0.1:${net.serverPort}`,
    '--data-port', String(net.dataPort), '--p2p-port', String(net.p2pPort), '--http-port', String(net.httpPort),
    '--slots', '2', '--dir', path.join(net.tmp, 'lone'), '--no-tui'],
  { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, RELAYTV_LOG: 'info' } });
  try {
    return await new Promise<number | null>((res) => {
      const timer = setTimeout(() => res(null), 30_000);
      // The logger writes to stderr; watch both streams.
      const seen = (b: Buffer) => { if (b.toString().includes('peer started')) { clearTimeout(timer); res(Date.now() - t); } };
      child.stdout!.on('data', seen);
      child.stderr!.on('data', seen);
      child.once('exit', () => { clearTimeout(timer); res(null); });
    });
  } finally {
    await killGroup(child);
  }
}

/**
 * @brief Runs one size.
 * @param n Peers.
 * @param periodS Chunk period.
 * @param durationS Measured window.
 */
export async function scaleOnce(n: number, periodS: number, durationS: number): Promise<ScaleRow> {
  const net = await Testnet.start({ maxClients: 1, periodS, base: 10, logLevel: 'warn' });
  const swarms: Swarm[] = [];
  const errors: string[] = [];
  const row: ScaleRow = { peers: n, processes: 0, perProcess: PER_PROCESS };
  try {
    const t0 = Date.now();
    for (const l of layout(n)) swarms.push(spawnSwarm(net, l.first, l.ips));
    row.processes = swarms.length;
    const ips = swarms.flatMap((s) => s.ips);
    const statuses = () => mapLimit(ips, STATUS_CONCURRENCY, (ip) => getStatus(`${ip}:${net.httpPort}`).catch(() => null));
    const receiving = await waitReceiving(statuses, swarms, errors);
    Object.assign(row, { peersReceiving: receiving.count, startupS: receiving.all ? r((Date.now() - t0) / 1000, 1) : null });
    Object.assign(row, await measure(net, swarms, ips, statuses, periodS, durationS, errors));
    row.swarmsDied = swarms.filter((s) => s.exited).length;
    row.peerStartMs = await timeLonePeer(net);
    if (row.peerStartMs === null) errors.push('the lone peer did not log "peer started" within 30 s');
  } catch (err) {
    errors.push((err as Error).message);
  } finally {
    await Promise.all(swarms.map((s) => killGroup(s.child)));
    await net.stop();
  }
  return { ...row, memAvailableMbAtEnd: r(memAvailableMb(), 0), swarmOutputSample: swarms.flatMap((s) => s.out.slice(-2)).slice(0, 10),
    error: errors.length ? errors.join('; ') : null };
}

/** @brief Waits until every peer stored a chunk (at most START_TIMEOUT_MS, or until every swarm died). */
async function waitReceiving(statuses: () => Promise<(PeerStatus | null)[]>, swarms: Swarm[], errors: string[]): Promise<{ all: boolean; count: number }> {
  const until = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const all = await statuses();
    const count = all.filter((s) => s && s.lastSeq !== null).length;
    if (count === all.length) return { all: true, count };
    if (swarms.every((s) => s.exited)) { errors.push('every swarm process exited'); return { all: false, count }; }
    if (Date.now() > until) {
      errors.push(`only ${count}/${all.length} peers stored a chunk within ${START_TIMEOUT_MS / 1000} s`);
      return { all: false, count };
    }
    await sleep(2000);
  }
}

/** @brief The measured window and every figure of it. */
async function measure(net: Testnet, swarms: Swarm[], ips: string[], statuses: () => Promise<(PeerStatus | null)[]>,
  periodS: number, durationS: number, errors: string[]): Promise<ScaleRow> {
  const pids = new Set(swarms.map((s) => s.child.pid!).filter(Boolean));
  const sampler = new ProcSampler(() => [...pids], 2000);
  const sock = new SocketBytes(() => pids, 5000, new Set([net.httpPort]));
  const before = await statuses();
  const tA = Date.now();
  const mark = sock.mark();
  const wchar0 = [...pids].reduce((x, p) => x + procWchar(p), 0);
  const cpu0 = machineCpu();
  sampler.start();
  sock.start();
  await sleep(durationS * 1000);
  sampler.stop();
  const machinePct = machineCpu(cpu0.snap).pct;
  const atT = await statuses();
  const T = Date.now();
  await sleep(3 * periodS * 1000); // the window's last chunks arrive everywhere
  const final = await statuses();
  sock.stop();
  const wchar1 = [...pids].reduce((x, p) => x + procWchar(p), 0);
  const tEnd = Date.now();
  const folders = new Map<number, Map<number, FileInfo>>();
  await Promise.all(ips.map(async (ip, i) => folders.set(i, await scanFolder(path.join(net.tmp, 'swarm', ip)))));
  const src = atT.findIndex((s) => s?.direct && s.role === 'coordinator');
  const cpuProc = [...pids].map((p) => sampler.cpuPct(p)).filter(Number.isFinite);
  const rssProc = [...pids].map((p) => sampler.rssMb(p)).filter(Number.isFinite);
  const out: ScaleRow = {
    machineCpuPct: r(machinePct, 1),
    cpuPctPerPeer: r(cpuProc.reduce((x, y) => x + y, 0) / ips.length, 2),
    rssMbPerPeer: r(rssProc.reduce((x, y) => x + y, 0) / ips.length, 2),
    rssMbPerProcess: r(rssProc.reduce((x, y) => x + y, 0) / Math.max(1, rssProc.length), 1),
    controlBytesPerPeerPerMin: controlPerMin(before, atT, (T - tA) / 60_000),
  };
  if (src < 0) { errors.push('no peer reports being the source (direct coordinator) at the end of the window'); return out; }
  const lo = (before[src]?.lastSeq ?? atT[src]!.lastSeq!) + 1;
  const hi = atT[src]!.lastSeq!;
  const delivered = deliveredBetween(folders, () => src, tA, tEnd);
  const maxDepth = Math.max(...[before[src], atT[src], final[src]].map((s) => s?.maxDepth ?? -1));
  const sent = sock.available ? sock.sentSince(mark) : Math.max(0, wchar1 - wchar0 - delivered - sourceBytes(folders.get(src)!, tA, tEnd));
  return {
    ...out,
    sourceIp: ips[src],
    chunksInWindow: Math.max(0, hi - lo + 1),
    maxDepth: maxDepth >= 0 ? maxDepth : null,
    ...lossAndLatency(folders, final, src, lo, hi, maxDepth),
    ...balanceOf(before, atT, src),
    uploadPerDelivered: r(sent / Math.max(1, delivered), 4),
    uploadCountedBy: sock.available ? SOCKET_RULE : '/proc/<pid>/io wchar of the swarm processes minus the chunk bytes they wrote to files (ss failed)',
    socketBytesSent: sent,
    bytesDelivered: delivered,
  };
}

/** @brief Chunk bytes the source wrote itself over [from, to] (the fallback subtracts its file writes too). */
function sourceBytes(files: Map<number, FileInfo>, from: number, to: number): number {
  let sum = 0;
  for (const f of files.values()) if (f.mtimeMs >= from && f.mtimeMs <= to) sum += f.size;
  return sum;
}

/** @brief Mean over peers of controlBytesSent over the window, per minute. */
function controlPerMin(before: (PeerStatus | null)[], after: (PeerStatus | null)[], minutes: number): number | null {
  const d = before.map((b, i) => (b && after[i] && after[i]!.pid === b.pid ? after[i]!.controlBytesSent - b.controlBytesSent : NaN)).filter(Number.isFinite);
  return d.length ? r(d.reduce((x, y) => x + y, 0) / d.length / minutes, 0) : null;
}

/** @brief jain / maxOverMean of chunk bytes sent over the window, every peer but the source. */
function balanceOf(before: (PeerStatus | null)[], after: (PeerStatus | null)[], src: number): ScaleRow {
  const sent = before.map((b, i) => (i !== src && b && after[i] ? after[i]!.bytesSent - b.bytesSent : NaN)).filter(Number.isFinite);
  return { jain: r(jain(sent), 4), maxOverMean: r(maxOverMean(sent), 3), balancePeers: sent.length };
}

/**
 * @brief lost: per peer but the source, sequences in [max(lo, its firstSeq), hi] it has no
 * file for (peers that never stored a chunk are counted in peersReceiving, not here); latency:
 * file mtime - the source's; hop: file mtime - its /status parent's for that stripe (its last
 * /status); ideal: maxDepth (the coordinator's, over the window) x median hop.
 */
function lossAndLatency(folders: Map<number, Map<number, FileInfo>>, final: (PeerStatus | null)[], src: number, lo: number, hi: number,
  maxDepth: number): ScaleRow {
  const ipIndex = new Map(final.map((s, i) => [s?.id ?? '', i]));
  const K = final[src]?.stripes || 1;
  const srcFiles = folders.get(src)!;
  let lost = 0;
  let lostMax = 0;
  const lat: number[] = [];
  const hops: number[] = [];
  for (let i = 0; i < final.length; i++) {
    const s = final[i];
    if (i === src || !s || s.firstSeq === null) continue;
    const files = folders.get(i)!;
    const parents = parentsOf(s);
    let mine = 0;
    for (let seq = Math.max(lo, s.firstSeq); seq <= hi; seq++) {
      const f = files.get(seq);
      if (!f) { mine++; continue; }
      const o = srcFiles.get(seq);
      if (o) lat.push(f.mtimeMs - o.mtimeMs);
      const p = ipIndex.get(parents.get(seq % K) ?? '');
      const pf = p !== undefined ? folders.get(p)?.get(seq) : undefined;
      if (pf && f.mtimeMs >= pf.mtimeMs) hops.push(f.mtimeMs - pf.mtimeMs);
    }
    lost += mine;
    lostMax = Math.max(lostMax, mine);
  }
  const hopP50 = percentile(hops, 50);
  return {
    lost, lostMaxPerPeer: lostMax,
    latencyP50Ms: r(percentile(lat, 50), 1), latencyP99Ms: r(percentile(lat, 99), 1), latencyMaxMs: r(lat.length ? Math.max(...lat) : NaN, 1),
    hopP50Ms: r(hopP50, 1), idealLatencyMs: maxDepth >= 0 ? r(maxDepth * hopP50, 1) : null,
  };
}
