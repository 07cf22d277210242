/**
 * @file pool.ts
 * @brief `bench pool`: the Piscina trade-off, in process. The master receives chunks at a high
 * rate, does the source's chunk work (SHA-256 + Ed25519 signature + write-then-rename,
 * workers/chunk.ts) either in
 * the pool (src/peer/pool.ts, as the peer does) or the same function on the main thread, then
 * relays each stored chunk to C children (sink processes over TCP, with backpressure).
 * Measured: event-loop delay (perf_hooks.monitorEventLoopDelay, 1 ms resolution) p50/p99/max,
 * the lateness of a 200 ms heartbeat timer (the peer's failure detector), relay throughput.
 * Two loads: a burst (as fast as possible, 8 chunks in flight) and a fixed high rate.
 *
 * Also the cost of one chunk's cryptography on this machine (main thread, medians of many
 * single operations, KeyObjects made once as the worker caches them): signUs, an Ed25519
 * signature over the bytes the source signs (src/protocol/signing.ts signedBytes: tag,
 * channel, seq, origin time, SHA-256); verifyUs, its check; sha256Us, SHA-256 of a 2 MB chunk
 * (sha256SampleUs: of the median-sized sample chunk). Signing a chunk = sha256 + sign; checking one
 * at a relay = sha256 + verify.
 */
import { spawn, ChildProcess } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promises as fs, readdirSync, readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { generateKeyPairSync, createHash, sign, verify, randomBytes } from 'node:crypto';
import { signedBytes } from '../src/protocol/signing';
import { ROOT, writeResult, printTable, r, percentile } from './common';
import { groupedBars } from './plot';

const SINK = `
const net = require('node:net');
let bytes = 0;
const srv = net.createServer((s) => s.on('data', (b) => { bytes += b.length; }));
srv.listen(0, '127.0.0.1', () => process.send({ port: srv.address().port }));
process.on('message', (m) => { if (m === 'count') process.send({ bytes }); });
process.on('disconnect', () => process.exit(0));
`;

type Mode = 'pool' | 'main';

/** @brief One run: `n` chunks, `children` sinks, in flight `inflight`, or paced at `rate`/s. */
async function once(mode: Mode, chunks: Buffer[], n: number, sockets: net.Socket[], dir: string,
  load: { inflight?: number; rate?: number }): Promise<Record<string, number>> {
  const poolMod = require(path.join(ROOT, 'dist/src/peer/pool.js')) as typeof import('../src/peer/pool');
  const work = (require(path.join(ROOT, 'dist/workers/chunk.js')) as { default: typeof import('../workers/chunk').default }).default;
  const pool = mode === 'pool' ? poolMod.createChunkPool(2) : null;
  const privateKey = generateKeyPairSync('ed25519').privateKey.export({ format: 'der', type: 'pkcs8' });
  const warm = { kind: 'sign' as const, data: new Uint8Array(16), channel: 0, seq: 0, originMs: 0, privateKey, dir: '', name: 'w' };
  if (pool) await Promise.all([0, 1, 2, 3].map(() => pool.run(warm)));
  const h = monitorEventLoopDelay({ resolution: 1 });
  const late: number[] = [];
  let expect = performance.now() + 200;
  const hb = setInterval(() => { const now = performance.now(); late.push(now - expect); expect = now + 200; }, 200);
  h.enable();
  const t0 = performance.now();
  let sent = 0;
  const send = async (buf: Uint8Array) => {
    await Promise.all(sockets.map((s) => new Promise<void>((res) => { if (s.write(buf)) res(); else s.once('drain', () => res()); })));
    sent += buf.byteLength * sockets.length;
  };
  const one = async (i: number) => {
    const src = chunks[i % chunks.length];
    const data = poolMod.sharedBuffer(src.length);
    src.copy(data);
    const task = { kind: 'sign' as const, data, channel: 0, seq: i, originMs: Date.now(), privateKey, dir, name: `${String(i).padStart(8, '0')}.mkv` };
    const res = pool ? await pool.run(task) : await work(task);
    if (res.failed || res.writeError) throw new Error(res.failed || res.writeError);
    await send(data);
  };
  if (load.rate) {
    const gap = 1000 / load.rate;
    const pending: Promise<void>[] = [];
    for (let i = 0; i < n; i++) {
      const due = t0 + i * gap;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((res) => setTimeout(res, wait));
      pending.push(one(i));
    }
    await Promise.all(pending);
  } else {
    let next = 0;
    await Promise.all(Array.from({ length: load.inflight ?? 8 }, async () => { while (next < n) await one(next++); }));
  }
  const secs = (performance.now() - t0) / 1000;
  h.disable();
  clearInterval(hb);
  await pool?.destroy();
  return {
    seconds: secs,
    chunksPerS: n / secs,
    relayMiBps: sent / secs / 1048576,
    loopDelayP50Ms: h.percentile(50) / 1e6,
    loopDelayP99Ms: h.percentile(99) / 1e6,
    loopDelayMaxMs: h.max / 1e6,
    heartbeatLateMaxMs: late.length ? Math.max(...late) : 0,
    heartbeatLateP99Ms: percentile(late, 99),
  };
}

/** Operations timed per crypto figure (sign/verify are ~50 us: thousands take well under a second). */
const CRYPTO_OPS = { sign: 3000, verify: 3000, sha256: 200 };

/** @brief Median microseconds of `n` single calls of `fn` (after a few warm-up calls). */
function medianUs(n: number, fn: () => unknown): number {
  for (let i = 0; i < 10; i++) fn();
  const us: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    fn();
    us.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  return percentile(us, 50);
}

/** @brief signUs / verifyUs / sha256Us (see the file header). @param sample A sample chunk. */
export function cryptoCosts(sample: Buffer): Record<string, number | null | string> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const big = randomBytes(2 * 1024 * 1024);
  const hash = createHash('sha256').update(big).digest();
  let seq = 0;
  const msg = () => signedBytes(0, seq++, Date.now(), hash);
  const sig = sign(null, msg(), privateKey);
  const fixed = signedBytes(0, seq - 1, 0, hash);
  const fixedSig = sign(null, fixed, privateKey);
  if (!verify(null, fixed, publicKey, fixedSig) || sig.length !== 64) throw new Error('Ed25519 self-check failed');
  return {
    signUs: r(medianUs(CRYPTO_OPS.sign, () => sign(null, msg(), privateKey)), 1),
    verifyUs: r(medianUs(CRYPTO_OPS.verify, () => verify(null, fixed, publicKey, fixedSig)), 1),
    sha256Us: r(medianUs(CRYPTO_OPS.sha256, () => createHash('sha256').update(big).digest()), 1),
    sha256SampleUs: r(medianUs(CRYPTO_OPS.sha256, () => createHash('sha256').update(sample).digest()), 1),
    sampleChunkBytes: sample.length,
    signedBytesLength: fixed.length,
    cryptoNote: `medians of ${CRYPTO_OPS.sign} signs, ${CRYPTO_OPS.verify} verifies, ${CRYPTO_OPS.sha256} SHA-256 of 2 MiB (and of the median-sized sample chunk), main thread, node:crypto`,
  };
}

/** @brief The pool scenario. */
export async function runPool(_a: unknown): Promise<void> {
  const content = path.join(ROOT, 'assets/sample');
  const chunks = readdirSync(content).filter((f) => f.endsWith('.mkv')).sort().map((f) => readFileSync(path.join(content, f)));
  const meanKb = chunks.reduce((a, b) => a + b.length, 0) / chunks.length / 1024;
  const medianChunk = [...chunks].sort((a, b) => a.length - b.length)[Math.floor(chunks.length / 2)];
  const crypto = cryptoCosts(medianChunk);
  const C = 4;
  const sinks: ChildProcess[] = [];
  const sockets: net.Socket[] = [];
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'relaytv-poolbench-'));
  const results: Record<string, Record<string, number>[]> = {};
  try {
    for (let i = 0; i < C; i++) {
      const c = spawn(process.execPath, ['-e', SINK], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      sinks.push(c);
      const port = await new Promise<number>((res) => c.once('message', (m: { port: number }) => res(m.port)));
      const s = net.connect(port, '127.0.0.1');
      await new Promise((res) => s.once('connect', res));
      sockets.push(s);
    }
    const loads = [
      { name: 'burst', n: 1200, load: { inflight: 8 } },
      { name: 'rate100', n: 600, load: { rate: 100 } },
    ];
    for (let rep = 0; rep < 3; rep++) {
      for (const l of loads) {
        for (const mode of (rep % 2 ? ['main', 'pool'] : ['pool', 'main']) as Mode[]) {
          const key = `${l.name}/${mode}`;
          const res = await once(mode, chunks, l.n, sockets, dir, l.load);
          (results[key] ??= []).push(res);
          for (const f of await fs.readdir(dir)) await fs.rm(path.join(dir, f), { force: true });
        }
      }
    }
  } finally {
    for (const s of sockets) s.destroy();
    for (const c of sinks) c.kill('SIGKILL');
    await fs.rm(dir, { recursive: true, force: true });
  }
  const med = (xs: number[]) => percentile(xs, 50);
  const table: Record<string, Record<string, number | null>> = {};
  for (const [key, runs] of Object.entries(results)) {
    const keys = Object.keys(runs[0]);
    table[key] = Object.fromEntries(keys.map((k) => [k, r(med(runs.map((x) => x[k])), 2)]));
  }
  const out = {
    scenario: 'pool', chunkKbMean: r(meanKb, 1), children: C, threads: Math.min(2, os.availableParallelism()), cores: os.availableParallelism(),
    note: 'medians of 3 runs; burst = 1200 chunks, 8 in flight; rate100 = 600 chunks at 100 chunks/s; main = the same workers/chunk.ts function awaited on the master thread',
    ...crypto,
    results: table,
  };
  writeResult('pool', out);
  console.log('\n=== pool (medians of 3) ===');
  console.table(table);
  const metrics = ['loopDelayP99Ms', 'loopDelayMaxMs', 'heartbeatLateMaxMs', 'relayMiBps'];
  const plot = groupedBars('pool-compare.svg', 'pool vs main thread (burst load)', metrics, [
    { label: 'pool', values: metrics.map((m) => table['burst/pool'][m]) },
    { label: 'main thread', values: metrics.map((m) => table['burst/main'][m]) },
  ]);
  printTable('pool summary', { chunkKbMean: out.chunkKbMean, children: C, ...crypto, plot });
}
