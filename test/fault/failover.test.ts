/**
 * Tier 4-5: failures with real processes. SIGKILL a relaying peer, the coordinator/direct
 * peer, hang one with SIGSTOP, and churn at random; then read every survivor's chunk folder
 * for gaps, duplicates (names are unique) and corrupt chunks (bytes must be server files in
 * server order), and check the slots cap throughout.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { Testnet, gaps, ROOT } from '../helpers/testnet';

const SAMPLE = path.join(ROOT, 'assets/sample');
let sampleIdx: Map<string, number> | null = null;

/** Server-file index of every chunk in peer k's folder, by sequence. */
async function serverOrder(net: Testnet, k: number): Promise<Map<number, number>> {
  if (!sampleIdx) {
    sampleIdx = new Map();
    const names = (await fs.readdir(SAMPLE)).filter((n) => n.endsWith('.mkv')).sort();
    for (const [i, n] of names.entries()) sampleIdx.set(createHash('sha256').update(await fs.readFile(path.join(SAMPLE, n))).digest('hex'), i);
  }
  const out = new Map<number, number>();
  for (const s of await net.seqs(k)) {
    const bytes = await fs.readFile(path.join(net.dir(k), `${String(s).padStart(8, '0')}.mkv`));
    const idx = sampleIdx.get(createHash('sha256').update(bytes).digest('hex'));
    assert.notEqual(idx, undefined, `peer ${k} chunk ${s} is corrupt (not a server file)`);
    out.set(s, idx!);
  }
  return out;
}

/** Asserts sequence numbers and server order agree (continuity across any change of source). */
async function assertContinuous(net: Testnet, k: number): Promise<void> {
  const order = await serverOrder(net, k);
  const seqs = [...order.keys()].sort((a, b) => a - b);
  for (let i = 1; i < seqs.length; i++) {
    const d = seqs[i] - seqs[i - 1];
    assert.equal(order.get(seqs[i]), (order.get(seqs[i - 1])! + d) % 30, `peer ${k}: seq ${seqs[i]} does not follow seq ${seqs[i - 1]} in server order`);
  }
}

/** Waits until every listed peer got `more` chunks beyond what it has now. */
async function advance(net: Testnet, peers: number[], more: number): Promise<void> {
  const base = new Map<number, number>();
  for (const k of peers) base.set(k, Math.max(-1, ...(await net.seqs(k))));
  await net.waitFor(async () => {
    for (const k of peers) if (Math.max(-1, ...(await net.seqs(k))) < base.get(k)! + more) return false;
    return true;
  }, 60_000, `peers ${peers} to advance ${more} chunks`);
}

/** The peer numbers whose /status says role/relaying as asked. */
async function find(net: Testnet, alive: number[], pred: (s: Awaited<ReturnType<Testnet['status']>>) => boolean): Promise<number[]> {
  const out: number[] = [];
  for (const k of alive) if (pred(await net.status(k))) out.push(k);
  return out;
}

test('SIGKILL of relaying peers, then a SIGSTOP hang: no chunk lost in any survivor', { timeout: 240_000 }, async () => {
  const net = await Testnet.start({ maxClients: 1, periodS: 0.5 });
  try {
    const alive = [1, 2, 3, 4, 5, 6, 7];
    for (const k of alive) await net.addPeer(k, 2);
    await advance(net, alive, 6);
    for (let round = 0; round < 2; round++) {
      const relays = await find(net, alive, (s) => s.role === 'member' && s.downstream.length > 0);
      assert.ok(relays.length > 0, 'a relaying peer exists');
      const victim = relays[0];
      net.signal(victim, 'SIGKILL');
      alive.splice(alive.indexOf(victim), 1);
      await advance(net, alive, 6);
    }
    // A hang: silence past the heartbeat timeout is a failure too.
    const relays = await find(net, alive, (s) => s.role === 'member' && s.downstream.length > 0);
    const hung = relays[0];
    net.signal(hung, 'SIGSTOP');
    alive.splice(alive.indexOf(hung), 1);
    await advance(net, alive, 8);
    net.signal(hung, 'SIGKILL');
    for (const k of alive) {
      assert.deepEqual(await net.settledGaps(k), [], `peer ${k} lost chunks`);
      await assertContinuous(net, k);
      const st = await net.status(k);
      assert.ok(st.downstream.reduce((n, d) => n + d.stripes.length, 0) <= 2, `peer ${k} over its slots`);
    }
    const recovered = await find(net, alive, (s) => s.reattaches > 0);
    assert.ok(recovered.length > 0, 'orphans recorded their recovery');
  } finally {
    await net.stop();
  }
});

test('SIGKILL of the only direct peer (the coordinator): survivors take the slot, lose at most 2', { timeout: 240_000 }, async () => {
  const net = await Testnet.start({ maxClients: 1, periodS: 0.5 });
  try {
    const alive = [1, 2, 3, 4, 5];
    for (const k of alive) await net.addPeer(k, 2);
    await advance(net, alive, 6);
    const [source] = await find(net, alive, (s) => s.role === 'coordinator');
    assert.ok(source, 'a source exists');
    net.signal(source, 'SIGKILL');
    alive.splice(alive.indexOf(source), 1);
    await advance(net, alive, 10);
    const sources = await find(net, alive, (s) => s.role === 'coordinator' && s.direct);
    assert.equal(sources.length, 1, 'exactly one survivor took the server slot');
    for (const k of alive) {
      const missing = gaps(await net.seqs(k));
      assert.ok(missing.length <= 2, `peer ${k} lost ${missing.length} chunks: ${missing}`);
      await assertContinuous(net, k);
    }
  } finally {
    await net.stop();
  }
});

test('SIGKILL of the coordinator with a second direct peer: nothing lost', { timeout: 240_000 }, async () => {
  const net = await Testnet.start({ maxClients: 2, periodS: 0.5 });
  try {
    const alive = [1, 2, 3, 4, 5];
    for (const k of alive) await net.addPeer(k, 2);
    await advance(net, alive, 6);
    const [coord] = await find(net, alive, (s) => s.role === 'coordinator');
    net.signal(coord, 'SIGKILL');
    alive.splice(alive.indexOf(coord), 1);
    await advance(net, alive, 10);
    for (const k of alive) {
      assert.deepEqual(await net.settledGaps(k), [], `peer ${k} lost chunks`);
      await assertContinuous(net, k);
    }
  } finally {
    await net.stop();
  }
});

test('the direct peer crashes and is restarted at once (as PM2 does): one overlay, continuous numbering', { timeout: 240_000 }, async () => {
  const net = await Testnet.start({ maxClients: 1, periodS: 0.5 });
  try {
    const all = [1, 2, 3, 4];
    for (const k of all) await net.addPeer(k, 2);
    await advance(net, all, 6);
    const [source] = await find(net, all, (s) => s.role === 'coordinator');
    const old = net.peers.get(source)!;
    net.signal(source, 'SIGKILL');
    await old.exited;
    await net.addPeer(source, 2); // same IP, same folder
    await advance(net, all, 10);
    const statuses = await Promise.all(all.map((k) => net.status(k)));
    assert.equal(new Set(statuses.map((s) => s.coordinator)).size, 1, 'one overlay, one coordinator');
    assert.equal(statuses.filter((s) => s.direct).length, 1, 'one peer holds the slot');
    for (const k of all) {
      const missing = gaps(await net.seqs(k));
      assert.ok(missing.length <= 2, `peer ${k} lost ${missing.length} chunks: ${missing}`);
      await assertContinuous(net, k);
    }
  } finally {
    await net.stop();
  }
});

test('chaos: random kills and joins; slots never exceeded, no survivor loses a chunk', { timeout: 300_000 }, async () => {
  const net = await Testnet.start({ maxClients: 1, periodS: 0.5 });
  try {
    const alive = [1, 2, 3, 4, 5, 6];
    for (const k of alive) await net.addPeer(k, 2);
    await advance(net, alive, 4);
    let next = 7;
    let seed = 7;
    const rand = (n: number) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
    for (let round = 0; round < 4; round++) {
      const relays = await find(net, alive, (s) => s.role === 'member');
      const victim = relays[rand(relays.length)];
      net.signal(victim, 'SIGKILL');
      alive.splice(alive.indexOf(victim), 1);
      await net.addPeer(next, 2);
      alive.push(next++);
      for (const k of alive) {
        const st = await net.status(k);
        assert.ok(st.downstream.reduce((n, d) => n + d.stripes.length, 0) <= 2, `peer ${k} over its slots`);
      }
      await advance(net, alive, 3);
    }
    await advance(net, alive, 4);
    for (const k of alive) {
      assert.deepEqual(await net.settledGaps(k), [], `peer ${k} lost chunks`);
      await assertContinuous(net, k);
    }
  } finally {
    await net.stop();
  }
});
