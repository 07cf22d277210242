/**
 * @file overlay-restart.test.ts
 * @brief One overlay per channel after any crash, in memory: the direct peer's overlay process
 * crashes before and after its first state save and comes back at once (its holder kept 9091),
 * the whole direct peer crashes and comes back with its folder, the coordinator fails while it is
 * not the direct peer; in every case the overlays merge into one, everyone receives again, and
 * every member's numbering stays continuous (sequence differences match content differences).
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { Memnet } from '../helpers/memnet';
import { waitFor, sleep } from '../helpers/wait';

/** Waits until every peer names the same coordinator, one peer is direct, and it coordinates. */
async function oneOverlay(m: Memnet, ms = 20_000): Promise<string> {
  let coord = '';
  await waitFor(async () => {
    const st = await Promise.all([...m.peers.values()].map((p) => p.status()));
    const coords = new Set(st.map((s) => s.coordinator));
    const direct = st.filter((s) => s.direct);
    coord = [...coords][0] ?? '';
    return coords.size === 1 && coord !== null && direct.length === 1 && direct[0].role === 'coordinator';
  }, ms, 'one overlay with the direct peer as its coordinator');
  return coord;
}

/** Asserts peer k's numbering is continuous: sequence gaps match content gaps, and nothing is stored twice. */
async function continuous(m: Memnet, k: number): Promise<void> {
  const seqs = await m.seqs(k);
  let prev: [number, number] | null = null;
  for (const seq of seqs) {
    const idx = await m.contentIndex(k, seq);
    assert.ok(idx >= 0, `peer ${k}: chunk ${seq} is not a server chunk`);
    if (prev) assert.equal(idx, (prev[1] + seq - prev[0]) % m.files.length, `peer ${k}: chunk ${seq} does not follow ${prev[0]}`);
    prev = [seq, idx];
  }
}

/** The number of the peer whose status matches. */
async function which(m: Memnet, pred: (s: Awaited<ReturnType<import('../../src/peer/peer').Peer['status']>>) => boolean): Promise<number> {
  for (const [k, p] of m.peers) if (pred(await p.status())) return k;
  return -1;
}

for (const when of ['before', 'after'] as const) {
  test(`memory: the direct peer's overlay crashes ${when} its first state save, its holder keeps 9091, it comes back at once: one overlay`, { timeout: 60_000 }, async () => {
    const m = await Memnet.start({ maxClients: 1 });
    try {
      await m.addPeer(1, 2, { holder: true });
      if (when === 'before') await m.crashOverlay(1); // not one push numbered yet
      for (let k = 2; k <= 5; k++) await m.addPeer(k, 2, { holder: true });
      if (when === 'after') {
        await m.advance([2, 3, 4, 5], 5);
        await m.crashOverlay(1);
      }
      await sleep(300); // a successor takes the role over meanwhile
      await m.addPeer(1, 2, { holder: true });
      await oneOverlay(m);
      await m.advance([1, 2, 3, 4, 5], 6);
      for (const k of m.peers.keys()) await continuous(m, k);
    } finally {
      await m.stop();
    }
  });
}

test('memory: the whole direct peer crashes (9091 closed) and is restarted with its folder: one overlay, numbering continuous', { timeout: 60_000 }, async () => {
  const m = await Memnet.start({ maxClients: 1 });
  try {
    for (let k = 1; k <= 5; k++) await m.addPeer(k, 2);
    await m.advance([1, 2, 3, 4, 5], 5);
    await m.crash(1);
    await sleep(200);
    await m.addPeer(1, 2);
    await oneOverlay(m);
    await m.advance([1, 2, 3, 4, 5], 6);
    for (const k of m.peers.keys()) await continuous(m, k);
  } finally {
    await m.stop();
  }
});

test('memory: the coordinator fails while it is not the direct peer: its successor takes over, then hands the role to the direct peer', { timeout: 60_000 }, async () => {
  const m = await Memnet.start({ maxClients: 1 });
  try {
    for (let k = 1; k <= 6; k++) await m.addPeer(k, 2, { holder: true });
    await m.advance([1, 2, 3, 4, 5, 6], 5);
    await m.crashOverlay(1);
    // A successor coordinates without the slot until the direct peer is back; it fails too.
    await waitFor(async () => (await which(m, (s) => s.role === 'coordinator')) > 0, 10_000, 'a successor coordinating');
    const successor = await which(m, (s) => s.role === 'coordinator');
    assert.notEqual(successor, 1);
    await m.crash(successor);
    await sleep(200);
    await m.addPeer(1, 2, { holder: true });
    const coord = await oneOverlay(m);
    assert.ok(coord.startsWith(m.ip(1)), `the direct peer coordinates again (${coord})`);
    await m.advance([...m.peers.keys()], 6);
    for (const k of m.peers.keys()) await continuous(m, k);
  } finally {
    await m.stop();
  }
});
