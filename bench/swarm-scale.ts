/**
 * @file swarm-scale.ts
 * @brief `npm run bench -- scale`: 50, 100, 200 peers on this machine, hosted 50 per process
 * (`relaytv swarm`: the same Peer objects, one event loop and one chunk pool per process).
 *
 * For each size: our server (limit 1, the given period), the swarm processes joined one peer
 * every 100 ms, then a measured window. Figures come from the chunk folders (every chunk the
 * source stored in the window must be in every peer's folder; latency = a peer's file mtime
 * minus the source's), /status (bytes sent, for Jain) and /proc (CPU, RSS of the processes).
 */
import { spawn, ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Testnet, CLI, getJson } from '../test/helpers/testnet';
import { ProcSampler, scanFolder, jain, maxOverMean, percentile, sleep, r, machineCpu, memAvailableMb } from './common';
import type { PeerStatus } from '../src/peer/status';

/** Peers per swarm process. */
const PER_PROCESS = 50;

/** Figures of one size. */
export type ScaleRow = Record<string, number | string | null>;

/**
 * @brief Runs one size.
 * @param n Peers.
 * @param periodS Chunk period.
 * @param durationS Measured window.
 */
export async function scaleOnce(n: number, periodS: number, durationS: number): Promise<ScaleRow> {
  const net = await Testnet.start({ maxClients: 1, periodS, base: 10, logLevel: 'warn' });
  const procs: ChildProcess[] = [];
  const ip = (i: number) => `127.0.${Math.floor((10 + i) / 250)}.${((10 + i) % 250) + 1}`;
  try {
    const t0 = Date.now();
    for (let first = 0; first < n; first += PER_PROCESS) {
      const count = Math.min(PER_PROCESS, n - first);
      procs.push(spawn(process.execPath, [CLI, 'swarm', '--first-ip', ip(first), '--count', String(count),
        '--server', `127.0.0.1:${net.serverPort}`, '--data-port', String(net.dataPort), '--p2p-port', String(net.p2pPort),
        '--http-port', String(net.httpPort), '--dir', path.join(net.tmp, 'swarm'), '--slots', '2', '--spacing', '100'],
      { stdio: 'ignore', env: { ...process.env, RELAYTV_LOG: 'warn' } }));
    }
    const ips = Array.from({ length: n }, (_, i) => ip(i));
    const status = (a: string) => getJson(`http://${a}:${net.httpPort}/status`).catch(() => null) as Promise<PeerStatus | null>;
    // Poll gently (every 2 s): a /status per peer per poll is load the peers must not carry.
    const deadline = Date.now() + 60_000 + n * 600;
    for (;;) {
      const all = await Promise.all(ips.map(status));
      if (all.every((s) => s && s.lastSeq !== null)) break;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${n} peers receiving`);
      await sleep(2000);
    }
    const startupS = (Date.now() - t0) / 1000;
    const sampler = new ProcSampler(() => procs.map((p) => p.pid!).filter(Boolean), 2000);
    const before = await Promise.all(ips.map(status));
    const cpu0 = machineCpu();
    sampler.start();
    await sleep(durationS * 1000);
    sampler.stop();
    const machinePct = machineCpu(cpu0.snap).pct;
    await sleep(3 * periodS * 1000); // let the window's last chunks arrive everywhere
    const after = await Promise.all(ips.map(status));
    const source = after.findIndex((s) => s?.role === 'coordinator');
    const folders = await Promise.all(ips.map((a) => scanFolder(path.join(net.tmp, 'swarm', a))));
    const lo = Math.max(...before.map((s) => s?.lastSeq ?? 0)) + 1;
    const hi = (before[source]?.lastSeq ?? 0) + Math.floor(durationS / periodS);
    let lost = 0;
    const lat: number[] = [];
    for (let seq = lo; seq <= hi; seq++) {
      const src = folders[source].get(seq);
      for (let i = 0; i < n; i++) {
        if (i === source) continue;
        const f = folders[i].get(seq);
        if (!f) { lost++; continue; }
        if (src) lat.push(f.mtimeMs - src.mtimeMs);
      }
    }
    const sent = after.map((s, i) => (s?.bytesSent ?? 0) - (before[i]?.bytesSent ?? 0));
    const cpuProc = procs.map((p) => sampler.cpuPct(p.pid!));
    const rssProc = procs.map((p) => sampler.rssMb(p.pid!));
    return {
      peers: n, processes: procs.length, startupS: r(startupS, 1), chunksInWindow: hi - lo + 1, lost,
      latencyP50Ms: r(percentile(lat, 50), 1), latencyP99Ms: r(percentile(lat, 99), 1),
      jain: r(jain(sent), 4), maxOverMean: r(maxOverMean(sent), 3),
      cpuPctPerPeer: r(cpuProc.reduce((a, b) => a + b, 0) / n, 2), rssMbPerPeer: r(rssProc.reduce((a, b) => a + b, 0) / n, 1),
      rssMbPerProcess: r(rssProc.reduce((a, b) => a + b, 0) / procs.length, 1), machineCpuPct: r(machinePct, 1),
      memAvailableMbAtEnd: memAvailableMb(),
    };
  } finally {
    for (const p of procs) p.kill('SIGKILL');
    await Promise.all(procs.map((p) => new Promise((res) => (p.exitCode !== null || p.signalCode !== null ? res(null) : p.once('exit', res)))));
    await net.stop();
  }
}
