/**
 * Hardening: bad input on a running peer's ports (data 9091, P2P, HTTP), strangers, and a
 * chunk failing its hash. Nothing crashes, each gets a log line and is closed, the stream goes on.
 * Network faults (partition, slow host, resets, loss, link down) come from the kernel in the
 * lab: lab-faults.test.ts.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { createHash } from 'node:crypto';
import { Testnet, gaps } from '../helpers/testnet';
import { encode } from '../../src/protocol/peer';
import { createChunkPool, sharedBuffer } from '../../src/peer/pool';
import { ChunkStore } from '../../src/peer/store';

/** Opens a TCP connection from `local` to host:port, writes `bytes`, resolves when closed. */
function poke(host: string, port: number, local: string, bytes: Buffer[]): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, localAddress: local }, () => { for (const b of bytes) s.write(b); });
    s.on('error', () => resolve());
    s.on('close', () => resolve());
    s.setTimeout(5000, () => s.destroy());
  });
}

test('strangers, garbage, oversized frames and unexpected chunks on every port: logged, closed, stream goes on', { timeout: 180_000 }, async () => {
  const tn = await Testnet.start({ maxClients: 1, periodS: 0.5 });
  try {
    for (const k of [1, 2, 3]) await tn.addPeer(k, 2);
    await tn.waitFor(async () => (await tn.seqs(3)).length >= 3, 60_000, 'peer 3 receiving');
    const victim = tn.ip(2);
    // A stranger pushes into the data port.
    await poke(victim, tn.dataPort, '127.0.0.99', [Buffer.alloc(5000, 1)]);
    // Garbage, a wrong version, an oversized frame into the P2P port.
    await poke(victim, tn.p2pPort, '127.0.0.99', [Buffer.from('GET / HTTP/1.0\r\n\r\n')]);
    await poke(victim, tn.p2pPort, '127.0.0.99', [Buffer.from([0, 0, 0, 4, 9, 1, 0, 0])]);
    await poke(victim, tn.p2pPort, '127.0.0.99', [Buffer.from([0x7f, 0xff, 0xff, 0xff, 1, 9])]);
    // A "peer" that says HELLO and pushes a chunk it was never asked for, with a matching hash.
    const data = Buffer.alloc(1000, 7);
    const hash = createHash('sha256').update(data).digest();
    await new Promise<void>((resolve) => {
      const s = net.connect({ host: victim, port: tn.p2pPort, localAddress: '127.0.0.98' }, () => {
        for (const b of encode({ type: 'hello', id: '127.0.0.98', p2pPort: tn.p2pPort, httpPort: 1, slots: 0, channel: 0, direct: false, maxSeq: -1 })) s.write(b);
        for (const b of encode({ type: 'chunk', seq: 1_000_000, hash, originMs: 0, data })) s.write(b);
        setTimeout(() => s.destroy(), 500);
      });
      s.on('error', () => undefined);
      s.on('close', () => resolve());
    });
    // Garbage into HTTP: a POST and a bogus path.
    const code = await new Promise<number>((resolve) => {
      const req = http.request({ host: victim, port: tn.httpPort, method: 'POST', path: '/status' }, (res) => { res.resume(); resolve(res.statusCode!); });
      req.on('error', () => resolve(0));
      req.end('x');
    });
    assert.equal(code, 405);
    const log = tn.peers.get(2)!.log.join('\n');
    await tn.waitFor(() => /STRANGER_PUSH/.test(tn.peers.get(2)!.log.join('\n')), 5000, 'stranger logged');
    assert.match(log + tn.peers.get(2)!.log.join('\n'), /protocol violation/);
    assert.match(tn.peers.get(2)!.log.join('\n'), /BAD_VERSION|FRAME_TOO_LARGE/);
    assert.match(tn.peers.get(2)!.log.join('\n'), /UNEXPECTED_CHUNK/);
    // The stream goes on, with nothing from strangers on disk.
    const before = Math.max(...(await tn.seqs(2)));
    await tn.waitFor(async () => Math.max(...(await tn.seqs(2))) >= before + 4, 30_000, 'stream to go on');
    const seqs = await tn.seqs(2);
    assert.ok(!seqs.includes(1_000_000), 'the unexpected chunk was not stored');
    assert.deepEqual(gaps(seqs), []);
    assert.equal(tn.peers.get(2)!.child.exitCode, null, 'the peer is still running');
  } finally {
    await tn.stop();
  }
});

test('a chunk failing its hash is dropped and never written; a crashed worker is replaced', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'relaytv-store-'));
  const pool = createChunkPool(2);
  try {
    const store = new ChunkStore({ dir, pool });
    await store.init();
    const data = sharedBuffer(4096).fill(3);
    const wrong = Buffer.alloc(32, 1);
    assert.equal(await store.add(5, data, wrong, 0, 'liar'), null);
    assert.equal(store.rejected, 1);
    assert.deepEqual(await fs.readdir(dir), []);
    await pool.crashOne();
    const right = createHash('sha256').update(data).digest();
    const ok = await store.add(5, sharedBuffer(4096).fill(3), right, 0, 'honest');
    assert.ok(ok);
    assert.deepEqual(await fs.readdir(dir), ['00000005.mkv']);
    assert.deepEqual(store.missing(), []);
  } finally {
    await pool.destroy();
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('an unwritable chunk folder: clear error, the chunk is still kept and relayed from memory', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'relaytv-store-'));
  const pool = createChunkPool(1);
  try {
    const store = new ChunkStore({ dir: path.join(dir, 'gone'), pool });
    const errors: string[] = [];
    store.on('diskError', (m: string) => errors.push(m));
    const data = sharedBuffer(100).fill(9);
    const c = await store.add(0, data, null, 0, 'server'); // folder never created: ENOENT
    assert.ok(c, 'kept in memory');
    assert.equal(store.get(0)?.data.byteLength, 100);
    assert.equal(store.diskErrors, 1);
    assert.match(errors[0], /ENOENT/);
  } finally {
    await pool.destroy();
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('the server restarted mid-stream: peers rejoin by themselves and the stream goes on', { timeout: 180_000 }, async () => {
  const tn = await Testnet.start({ maxClients: 1, periodS: 0.5 });
  try {
    for (const k of [1, 2, 3]) await tn.addPeer(k, 2);
    await tn.waitFor(async () => (await tn.seqs(3)).length >= 4, 60_000, 'peer 3 receiving');
    await tn.killServer();
    await new Promise((r) => setTimeout(r, 1500));
    await tn.startServer();
    const base = new Map<number, number>();
    for (const k of [1, 2, 3]) base.set(k, Math.max(...(await tn.seqs(k))));
    await tn.waitFor(async () => {
      for (const k of [1, 2, 3]) if (Math.max(...(await tn.seqs(k))) < base.get(k)! + 6) return false;
      return true;
    }, 60_000, 'every peer receiving again after the restart');
    const statuses = await Promise.all([1, 2, 3].map((k) => tn.status(k)));
    assert.equal(statuses.filter((s) => s.direct).length, 1, 'one peer holds the slot again');
    assert.equal(new Set(statuses.map((s) => s.coordinator)).size, 1, 'one overlay');
    for (const k of [1, 2, 3]) assert.deepEqual(await tn.settledGaps(k), [], `peer ${k}: numbering stays continuous`);
  } finally {
    await tn.stop();
  }
});

test('idle and flooding connections, a crashed worker, a folder gone bad: the peer keeps relaying', { timeout: 180_000 }, async () => {
  const tn = await Testnet.start({ maxClients: 1, periodS: 0.5 });
  try {
    for (const k of [1, 2, 3, 4]) await tn.addPeer(k, 2);
    await tn.waitFor(async () => (await tn.seqs(4)).length >= 3, 60_000, 'peer 4 receiving');
    const victim = tn.ip(2);
    const log = () => tn.peers.get(2)!.log.join('\n');
    // An idle connection (never says HELLO) is cut; a flood beyond the cap is refused.
    const idle = net.connect({ host: victim, port: tn.p2pPort, localAddress: '127.0.0.97' });
    idle.on('error', () => undefined);
    const flood: net.Socket[] = [];
    for (let i = 0; i < 300; i++) {
      const s = net.connect({ host: victim, port: tn.p2pPort, localAddress: '127.0.0.96' });
      s.on('error', () => undefined);
      flood.push(s);
    }
    await tn.waitFor(() => /no HELLO/.test(log()), 10_000, 'idle connections cut');
    for (const s of flood) s.destroy();
    idle.destroy();
    // Two chunk workers crash on purpose (SIGUSR2): the pool replaces them.
    tn.signal(2, 'SIGUSR2');
    tn.signal(2, 'SIGUSR2');
    await tn.waitFor(() => /worker was crashed/.test(log()), 10_000, 'worker crash logged');
    // The chunk folder is replaced by a file: writes fail, the peer still relays from memory.
    await fs.rm(tn.dir(2), { recursive: true, force: true });
    await fs.writeFile(tn.dir(2), 'not a folder');
    await tn.waitFor(() => /DIR_UNWRITABLE/.test(log()), 20_000, 'disk error logged');
    const before = Math.max(...(await tn.seqs(4)));
    await tn.waitFor(async () => Math.max(...(await tn.seqs(4))) >= before + 6, 30_000, 'the stream to go on downstream');
    for (const k of [3, 4]) assert.deepEqual(await tn.settledGaps(k), [], `peer ${k} lost chunks`);
    const st = await tn.status(2);
    assert.ok(st.diskErrors > 0);
    assert.ok(st.downstream.length > 0 || (await tn.status(3)).upstream.length > 0);
    assert.equal(tn.peers.get(2)!.child.exitCode, null, 'the peer is still running');
  } finally {
    await tn.stop();
  }
});
