/**
 * @file hardening.test.ts
 * @brief Hardening of real peer processes: strangers and garbage on every port (data 9091, P2P,
 * HTTP), the server restarted mid-stream, idle and flooding connections, chunk workers crashed,
 * the chunk folder gone bad. Nothing crashes, each fault gets its code, the stream goes on.
 * Hostile peers that pass the handshake are in hostile.test.ts; the store's checks in
 * unit/store.test.ts; network faults from the kernel in lab-faults.test.ts.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import { promises as fs } from 'node:fs';
import { waitFor } from '../helpers/wait';
import { Testnet } from '../helpers/testnet';
import { PROTOCOL_VERSION } from '../../src/protocol/framing';

/** Opens a TCP connection from `local` to host:port, writes `bytes`, resolves when closed. */
function poke(host: string, port: number, local: string, bytes: Buffer[]): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, localAddress: local }, () => { for (const b of bytes) s.write(b); });
    s.on('error', () => resolve());
    s.on('close', () => resolve());
    s.setTimeout(5000, () => s.destroy());
  });
}

test('strangers and garbage on every port of a running peer: each closed with its own code, the stream goes on', { timeout: 180_000 }, async () => {
  const tn = await Testnet.start({ maxClients: 1, periodS: 0.5 });
  try {
    for (const k of [1, 2, 3]) await tn.addPeer(k, 2);
    await waitFor(async () => (await tn.seqs(3)).length >= 3, 60_000, 'peer 3 receiving');
    const victim = tn.ip(2);
    const log = () => tn.peers.get(2)!.log.join('\n');
    // A stranger pushes into the data port.
    await poke(victim, tn.dataPort, '127.0.0.99', [Buffer.alloc(5000, 1)]);
    // Into the P2P port, each from its own address so each close is told apart: HTTP text,
    // a frame of another protocol version, a frame longer than its type allows.
    const len = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
    await poke(victim, tn.p2pPort, '127.0.0.95', [Buffer.from('GET / HTTP/1.0\r\n\r\n')]);
    await poke(victim, tn.p2pPort, '127.0.0.94', [Buffer.concat([len(2), Buffer.from([9, 1])])]);
    await poke(victim, tn.p2pPort, '127.0.0.93', [Buffer.concat([len(0x7fffffff), Buffer.from([PROTOCOL_VERSION, 1])])]);
    // HTTP: a POST is refused.
    const code = await new Promise<number>((resolve) => {
      const req = http.request({ host: victim, port: tn.httpPort, method: 'POST', path: '/status' }, (res) => { res.resume(); resolve(res.statusCode!); });
      req.on('error', () => resolve(0));
      req.end('x');
    });
    assert.equal(code, 405);
    const closed = (from: string, code: string) => log().split('\n').some((l) => l.includes(`"${from}"`) && l.includes(`"${code}"`));
    await waitFor(() => /"STRANGER_PUSH"/.test(log()) && /127\.0\.0\.99/.test(log()), 5000, 'the stranger\'s push logged');
    await waitFor(() => closed('127.0.0.94', 'BAD_VERSION'), 5000, 'the other version closed as BAD_VERSION');
    await waitFor(() => closed('127.0.0.93', 'FRAME_TOO_LARGE'), 5000, 'the oversized frame closed as FRAME_TOO_LARGE');
    await waitFor(() => closed('127.0.0.95', 'BAD_VERSION') || closed('127.0.0.95', 'BAD_FRAME'), 5000, 'HTTP text closed as a bad frame');
    // The stream goes on, with nothing from strangers on disk.
    const before = Math.max(...(await tn.seqs(2)));
    await waitFor(async () => Math.max(...(await tn.seqs(2))) >= before + 4, 30_000, 'stream to go on');
    // A chunk still being fetched from a ring buffer is not lost: wait (bounded) for the repair.
    await waitFor(async () => (await tn.lost(2)).length === 0, 10_000, 'peer 2 to repair').catch(() => undefined);
    assert.deepEqual(await tn.lost(2), []);
    assert.equal(tn.peers.get(2)!.child.exitCode, null, 'the peer is still running');
  } finally {
    await tn.stop();
  }
});

test('the server restarted mid-stream: peers rejoin by themselves and the stream goes on', { timeout: 180_000 }, async () => {
  const tn = await Testnet.start({ maxClients: 1, periodS: 0.5 });
  try {
    for (const k of [1, 2, 3]) await tn.addPeer(k, 2);
    await waitFor(async () => (await tn.seqs(3)).length >= 4, 60_000, 'peer 3 receiving');
    await tn.killServer();
    await new Promise((r) => setTimeout(r, 1500));
    await tn.startServer();
    const base = new Map<number, number>();
    for (const k of [1, 2, 3]) base.set(k, Math.max(...(await tn.seqs(k))));
    await waitFor(async () => {
      for (const k of [1, 2, 3]) if (Math.max(...(await tn.seqs(k))) < base.get(k)! + 6) return false;
      return true;
    }, 60_000, 'every peer receiving again after the restart');
    const statuses = await Promise.all([1, 2, 3].map((k) => tn.status(k)));
    assert.equal(statuses.filter((s) => s.direct).length, 1, 'one peer holds the slot again');
    assert.equal(new Set(statuses.map((s) => s.coordinator)).size, 1, 'one overlay');
    for (const k of [1, 2, 3]) assert.deepEqual(await tn.lost(k), [], `peer ${k}: numbering stays continuous`);
  } finally {
    await tn.stop();
  }
});

test('idle and flooding connections, a crashed worker, a folder gone bad: the peer keeps relaying', { timeout: 180_000 }, async () => {
  const tn = await Testnet.start({ maxClients: 1, periodS: 0.5 });
  try {
    for (const k of [1, 2, 3, 4]) await tn.addPeer(k, 2);
    await waitFor(async () => (await tn.seqs(4)).length >= 3, 60_000, 'peer 4 receiving');
    // The victim is a member that feeds others (its relaying is what must go on).
    let v = 0;
    await waitFor(async () => {
      for (const k of [2, 3, 4]) if ((await tn.status(k)).downstream.length > 0) { v = k; return true; }
      return false;
    }, 20_000, 'a member with children');
    const others = [2, 3, 4].filter((k) => k !== v);
    const victim = tn.ip(v);
    const log = () => tn.peers.get(v)!.log.join('\n');
    // An idle connection (never says HELLO) is cut; a flood beyond the cap is refused.
    const idle = net.connect({ host: victim, port: tn.p2pPort, localAddress: '127.0.0.97' });
    idle.on('error', () => undefined);
    const flood: net.Socket[] = [];
    for (let i = 0; i < 300; i++) {
      const s = net.connect({ host: victim, port: tn.p2pPort, localAddress: '127.0.0.96' });
      s.on('error', () => undefined);
      flood.push(s);
    }
    const closed = (from: string, code: string) => log().split('\n').some((l) => l.includes(`"${from}"`) && l.includes(`"${code}"`));
    await waitFor(() => closed('127.0.0.96', 'CONNECTION_LIMIT'), 10_000, 'the flood beyond the per-address cap refused');
    await waitFor(() => closed('127.0.0.97', 'PEER_TIMEOUT'), 10_000, 'the connection that never said HELLO cut');
    for (const s of flood) s.destroy();
    idle.destroy();
    // Its only chunk worker crashes twice on purpose (SIGUSR2): the pool replaces it, and the
    // chunks that follow are still checked and stored (none counted as a worker failure).
    const stored = (await tn.status(v)).chunksReceived;
    await tn.signalOverlay(v, 'SIGUSR2');
    await waitFor(() => (log().match(/worker was crashed/g) ?? []).length >= 1, 10_000, 'first worker crash');
    await tn.signalOverlay(v, 'SIGUSR2');
    await waitFor(() => (log().match(/worker was crashed/g) ?? []).length >= 2, 10_000, 'second worker crash');
    await waitFor(async () => (await tn.status(v)).chunksReceived >= stored + 3, 20_000, 'chunks stored after the crashes');
    assert.equal((await tn.status(v)).workerFailures, 0, 'a crash between tasks fails no chunk');
    // The chunk folder is replaced by a file: writes fail, the peer still relays from memory.
    await fs.rm(tn.dir(v), { recursive: true, force: true });
    await fs.writeFile(tn.dir(v), 'not a folder');
    await waitFor(() => /DIR_UNWRITABLE/.test(log()), 20_000, 'disk error logged');
    // It keeps relaying: its children go on receiving from it, and it sends more chunk bytes.
    const sent = (await tn.status(v)).bytesSent;
    const before = Math.max(...(await tn.seqs(others[0])));
    await waitFor(async () => Math.max(...(await tn.seqs(others[0]))) >= before + 6, 30_000, 'the stream to go on downstream');
    for (const k of others) assert.deepEqual(await tn.lost(k), [], `peer ${k} lost chunks`);
    const st = await tn.status(v);
    assert.ok(st.diskErrors > 0);
    assert.ok(st.downstream.some((d) => d.bytes > 0), 'it still has children it feeds');
    await waitFor(async () => (await tn.status(v)).bytesSent > sent, 20_000, 'it sends chunks after its folder went bad');
    assert.equal(tn.peers.get(v)!.child.exitCode, null, 'the peer is still running');
  } finally {
    await tn.stop();
  }
});
