/**
 * @file relay.test.ts
 * @brief The parent side (relay.ts) over a real chunk store: a chunk this peer lacks while it
 * holds a later chunk of another stripe (its own repair under way) is waited for and sent the
 * moment it is stored, in stripe order; it is skipped only once a later chunk of its stripe is
 * here. Restriction 3: a SUBSCRIBE beyond the slots is refused.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { createChunkPool, sharedBuffer } from '../../src/peer/pool';
import { ChunkStore } from '../../src/peer/store';
import { Ledger } from '../../src/peer/stats';
import { Relay } from '../../src/peer/relay';
import { RefuseReason } from '../../src/protocol/peer';
import type { Session } from '../../src/peer/session';
import { silentLogger } from '../../src/log';

test('a child that subscribes while a chunk of its stripe is missing here (a later one of another stripe stored) gets it when it arrives; it is skipped once a later one of its stripe is', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'relaytv-relay-'));
  const pool = createChunkPool(1);
  try {
    const stats = new Ledger();
    const store = new ChunkStore({ dir, channel: 0, pool, stats, now: Date.now });
    const { privateKey } = generateKeyPairSync('ed25519');
    const der = privateKey.export({ format: 'der', type: 'pkcs8' });
    const own = async (seq: number) => {
      const c = await store.addOwn(seq, sharedBuffer(256).fill(seq), 1000 + seq, der);
      assert.ok(c, `chunk ${seq} stored`);
      relay.onStored(c);
    };
    const sent: { to: string; type: string; seq?: number; stripe?: number; reason?: number }[] = [];
    const session = (to: string) => ({
      send: (m: { type: string; stripe?: number; reason?: number }) => { sent.push({ to, type: m.type, stripe: m.stripe, reason: m.reason }); return true; },
      sendChunk: (m: { seq: number }) => { sent.push({ to, type: 'chunk', seq: m.seq }); return true; },
      queuedBytes: 0,
    }) as unknown as Session;
    const sessions = new Map([['a', session('a')], ['b', session('b')]]);
    const relay = new Relay({
      store, stats, log: silentLogger(), now: Date.now, slots: 2, slowReceiverMs: 5_000, stripes: () => 2,
      isChild: () => true, session: (id) => sessions.get(id), watch: () => {},
    });
    const chunksTo = (to: string) => sent.filter((m) => m.to === to && m.type === 'chunk').map((m) => m.seq);
    await own(0);
    await own(1);
    await own(3); // 2 is missing (being repaired here) while 3, of stripe 1, is stored
    // A child moved to us (a rebalance) subscribes to stripe 0 (0, 2, 4, ...) from 0.
    assert.equal(relay.subscribe('a', 0, 0), 'accepted');
    assert.deepEqual(chunksTo('a'), [0], 'nothing skipped past 2 yet');
    await own(2); // the repair lands
    assert.deepEqual(chunksTo('a'), [0, 2], 'sent the moment it is stored');
    await own(5);
    await own(6); // 4 never came, and 6, of its own stripe, is here: 4 is skipped
    assert.deepEqual(chunksTo('a'), [0, 2, 6]);
    // Restriction 3: two slots, two edges in use (a in stripe 0, b in stripe 1); a third is refused.
    assert.equal(relay.subscribe('b', 1, 5), 'accepted');
    assert.equal(relay.subscribe('b', 0, 6), 'refused');
    assert.ok(sent.some((m) => m.to === 'b' && m.type === 'refused' && m.reason === RefuseReason.SLOTS_FULL));
    assert.equal(relay.edges(), 2);
  } finally {
    await pool.destroy();
    await fs.rm(dir, { recursive: true, force: true });
  }
});
