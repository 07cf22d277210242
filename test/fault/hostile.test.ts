/**
 * @file hostile.test.ts
 * @brief The hostile-peer suite (real peers, real sockets): strangers and a malicious member try
 * every attack of the threat model against a running overlay (a member that stops reading: the
 * memory tier, overlay-memory.test.ts). For every one of them: every
 * honest peer stays up (its overlay process is never restarted), keeps storing every chunk with
 * no hole, stores nothing that is not a server chunk in server order, its numbering does not
 * move, and its memory stays bounded; the attack is logged with its code.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { Testnet } from '../helpers/testnet';
import { Hostile } from '../helpers/hostile';
import { ServerOrder, holes } from '../helpers/chunks';
import { waitFor, sleep } from '../helpers/wait';
import { Peer } from '../../src/peer/peer';
import { silentLogger } from '../../src/log';
import { createChunkPool } from '../../src/peer/pool';
import type { Msg } from '../../src/protocol/peer';

/** @brief Resident memory of a process, MB. */
function rssMb(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
}

test('hostile peers: bad strings, claimed ids, forged views, poisoned numbers, injected and altered chunks, squatting, floods', { timeout: 240_000 }, async (t) => {
  // Chunks of 512 KB: a reader that stops fills the kernel's buffers within seconds.
  const content = await mkdtemp(path.join(os.tmpdir(), 'relaytv-hostile-'));
  for (let i = 0; i < 12; i++) await writeFile(path.join(content, `big_${String(i).padStart(5, '0')}.mkv`), Buffer.concat([Buffer.from([0x1a, 0x45, 0xdf, 0xa3]), randomBytes(512 * 1024)]));
  const tn = await Testnet.start({ maxClients: 1, periodS: 0.5, content });
  const pool = createChunkPool(1);
  let liar: Peer | null = null;
  try {
    await tn.addPeer(1, 2);
    await waitFor(async () => (await tn.seqs(1)).length >= 2, 30_000, 'the source storing');
    // A malicious member (in this process): it relays every chunk with its bytes changed and a
    // hash recomputed to match, as a buggy or hostile relay would.
    const liarIp = tn.ip(2);
    liar = new Peer({
      ip: liarIp, serverHost: '127.0.0.1', serverPort: tn.serverPort, channel: 0, slots: 3, dir: `${tn.tmp}/liar`,
      p2pPort: tn.p2pPort, httpPort: tn.httpPort, dataPort: tn.dataPort, log: silentLogger(), pool,
    });
    const conns = liar.parts.connections;
    const get = conns.get.bind(conns);
    conns.get = (id: string) => {
      const s = get(id);
      if (s && !(s as unknown as { tampered?: boolean }).tampered) {
        const send = s.sendChunk.bind(s);
        s.sendChunk = (m: Msg<'chunk'>) => {
          const data = Buffer.from(m.data);
          data[data.length - 1] ^= 0xff;
          return send({ ...m, data, hash: createHash('sha256').update(data).digest() });
        };
        (s as unknown as { tampered: boolean }).tampered = true;
      }
      return s;
    };
    await liar.start();
    // With the source (2 slots), the liar and one honest peer, the source can feed only two of the
    // four edges needed: the liar must feed the honest peer in a stripe, and its altered chunks are
    // caught there, before any attack of the list.
    await tn.addPeer(3, 2);
    const honest = [1, 3, 4, 5, 6];
    const honestLogs = (): string => honest.map((k) => tn.peers.get(k)?.log.join('\n') ?? '').join('\n');
    await waitFor(() => /CHUNK_REJECTED/.test(honestLogs()), 30_000, 'an honest peer rejecting the liar\'s chunks')
      .catch((err) => {
        t.diagnostic(`liar: children ${JSON.stringify(liar!.parts.relay.list())}, stats ${JSON.stringify(liar!.parts.stats)}`);
        throw err;
      });
    for (const k of [4, 5, 6]) await tn.addPeer(k, 2);
    await waitFor(async () => (await Promise.all(honest.map((k) => tn.seqs(k)))).every((s) => s.length >= 6), 60_000, 'every honest peer receiving')
      .catch(async (err) => {
        for (const k of honest) {
          const st = await tn.status(k);
          t.diagnostic(`peer ${k}: ${st.role} chunks ${st.chunksReceived} rejected ${st.rejected} up ${st.upstream.map((x) => `${x.addr}:${x.stripes}`)} ${tn.peers.get(k)!.log.filter((l) => /"level":[45]0/.test(l)).slice(-5).join(' | ').slice(0, 1500)}`);
        }
        throw err;
      });
    const pids = new Map<number, number>();
    for (const k of honest) pids.set(k, (await tn.status(k)).pid);
    const coordinator = tn.ip(1);
    const rss0 = rssMb(pids.get(1)!);
    const src0 = (await tn.status(1)).lastSeq!;
    const t0 = Date.now();

    // 1. The HELLO of the report: an id of 255 bytes of 0xFF, then JOIN.
    const h1 = await Hostile.open(coordinator, tn.p2pPort, '127.0.0.91', false);
    const id = Buffer.alloc(255, 0xff);
    const body = Buffer.concat([Buffer.from([255]), id, Buffer.alloc(2 + 2 + 2 + 1 + 1 + 16)]);
    const head = Buffer.alloc(6);
    head.writeUInt32BE(body.length + 2, 0);
    head[4] = 2;
    head[5] = 1;
    h1.raw(Buffer.concat([head, body]));
    h1.send({ type: 'join' });
    assert.ok(await h1.closedWithin(3000), 'the bad HELLO is closed');
    // 2. Claimed ids: the coordinator's, and a member's.
    for (const claimed of [coordinator, tn.ip(3)]) {
      const h = await Hostile.open(tn.ip(4), tn.p2pPort, '127.0.0.92', { id: claimed });
      h.send({ type: 'update', full: true, epoch: 999, since: 0, stripes: 2, periodMs: 500, liveSeq: 9_999_999, coordinator: { id: claimed, p2pPort: tn.p2pPort, httpPort: tn.httpPort },
        successors: [], source: { id: claimed, key: randomBytes(32) }, parents: [], children: [] });
      assert.ok(await h.closedWithin(3000), `claiming ${claimed} is refused`);
    }
    // 3. A forged view and poisoned numbers from a stranger with its own (true) id.
    const h3 = await Hostile.open(tn.ip(4), tn.p2pPort, '127.0.0.93');
    await waitFor(() => h3.got.some((m) => m.type === 'hello'), 3000, 'the victim\'s HELLO');
    h3.send({ type: 'heartbeat', maxSeq: 2 ** 31 - 1, direct: true, watching: true });
    h3.send({ type: 'update', full: true, epoch: 999, since: 0, stripes: 2, periodMs: 500, liveSeq: 99_000_000, coordinator: { id: '127.0.0.93', p2pPort: tn.p2pPort, httpPort: 1 },
      successors: [], source: { id: '127.0.0.93', key: randomBytes(32) }, parents: [], children: [] });
    assert.ok(await h3.closedWithin(3000), 'the forged view is refused');
    // 4. Injected chunks: a far-future one and a plausible one, from a stranger.
    const h4 = await Hostile.open(tn.ip(5), tn.p2pPort, '127.0.0.94');
    const data = Buffer.alloc(2000, 7);
    h4.send({ type: 'chunk', seq: 99_999_998, originMs: Date.now(), hash: createHash('sha256').update(data).digest(), sig: randomBytes(64), data });
    assert.ok(await h4.closedWithin(3000), 'the injected chunk is refused');
    // 5. Slot squatting: a stranger subscribes to a relaying member; it is held, then refused, never fed.
    const h5 = await Hostile.open(tn.ip(3), tn.p2pPort, '127.0.0.95');
    h5.send({ type: 'subscribe', stripe: 0, fromSeq: -1 });
    h5.send({ type: 'subscribe', stripe: 1, fromSeq: -1 });
    await waitFor(() => h5.got.filter((m) => m.type === 'refused').length === 2, 5000, 'both subscriptions refused');
    assert.ok(!h5.got.some((m) => m.type === 'chunk' || m.type === 'subscribed'), 'the squatter got nothing');
    h5.close();
    // 6. Floods: 300 connections from one address, and from many; FETCH from a stranger.
    const flood: net.Socket[] = [];
    for (let i = 0; i < 300; i++) {
      const s = net.connect({ host: coordinator, port: tn.p2pPort, localAddress: i < 100 ? '127.0.1.1' : `127.0.1.${2 + (i % 150)}` });
      s.on('error', () => undefined);
      flood.push(s);
    }
    const h6 = await Hostile.open(tn.ip(3), tn.p2pPort, '127.0.0.96');
    for (let i = 0; i < 2000; i++) h6.send({ type: 'fetch', seq: src0 + (i % 10) });
    await sleep(3000);
    for (const s of flood) s.destroy();
    assert.ok(!h6.got.some((m) => m.type === 'chunk'), 'FETCH from a stranger is never answered with a chunk');
    h6.close();
    // 7. A member (it joined for real) floods its parent with FETCH: answers are bounded (a few
    // chunks per second, MISSING for the rest); the parent goes on. (A member that stops reading
    // is the memory tier's: the kernel here would absorb tens of MB first.)
    const h7 = await Hostile.open(coordinator, tn.p2pPort, '127.0.0.97', { slots: 2 });
    h7.send({ type: 'join' });
    await waitFor(() => h7.got.some((m) => m.type === 'update'), 5000, 'the member\'s UPDATE');
    const u = h7.got.find((m) => m.type === 'update') as Msg<'update'>;
    const parent = u.parents.find((p) => p.parent)!.parent!;
    const f = await Hostile.open(parent.id, parent.p2pPort, '127.0.0.97');
    const live = (await tn.status(1)).lastSeq!;
    for (let i = 0; i < 3000; i++) f.send({ type: 'fetch', seq: live - (i % 8) });
    await sleep(2000);
    const answered = f.got.filter((m) => m.type === 'chunk').length;
    assert.ok(answered <= 40, `${answered} chunks answered to a FETCH flood`);
    assert.ok(f.got.some((m) => m.type === 'missing'), 'the rest is refused with MISSING');
    f.close();
    h7.close();

    // The overlay went on: every honest peer up, same process, receiving, nothing foreign stored.
    await waitFor(async () => (await tn.status(6)).lastSeq! > src0 + 10, 30_000, 'the stream to go on');
    await sleep(3000);
    const order = new ServerOrder(content);
    for (const k of honest) {
      const st = await tn.status(k);
      assert.equal(st.pid, pids.get(k), `peer ${k}'s overlay process never died`);
      const seqs = await tn.seqs(k);
      assert.deepEqual(holes(seqs), [], `peer ${k} has holes`);
      assert.deepEqual(await order.problems(tn.dir(k), seqs.slice(-40)), [], `peer ${k} stored something that is not the server's stream`);
      assert.ok(!seqs.some((s) => s > 1_000_000), `peer ${k} stored a far-future chunk`);
    }
    // Numbering did not move: the source advanced by the pushes of the elapsed time (the server
    // pushes every 0.9 period, as the course's: it sleeps 1.8 s of 2).
    const src1 = (await tn.status(1)).lastSeq!;
    const periods = (Date.now() - t0) / (0.5 * 0.9 * 1000);
    assert.ok(src1 - src0 <= periods + 3 && src1 - src0 >= periods / 2, `source numbering moved: ${src0} -> ${src1} in ${periods.toFixed(0)} periods`);
    assert.ok(rssMb(pids.get(1)!) - rss0 < 64, `the coordinator grew from ${rss0} to ${rssMb(pids.get(1)!)} MB`);
    // Each attack left its code in the logs.
    const logs = honestLogs();
    for (const code of ['FRAME_TOO_LARGE', 'IDENTITY_MISMATCH', 'NOT_AUTHORIZED', 'CONNECTION_LIMIT']) {
      assert.match(logs, new RegExp(code), `no ${code} in the honest peers' logs`);
    }
    // The liar was reported and lost its interior place.
    const c = await tn.status(1);
    t.diagnostic(`coordinator: refused ${JSON.stringify(c.messages.refused)}, rss ${rss0.toFixed(0)} -> ${rssMb(pids.get(1)!).toFixed(0)} MB`);
  } finally {
    await liar?.destroy();
    await pool.destroy();
    await tn.stop();
    await rm(content, { recursive: true, force: true });
  }
});
