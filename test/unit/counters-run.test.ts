/**
 * @file counters-run.test.ts
 * @brief Counters describe the peer's current run, in memory: after every peer left and the
 * server restarted (`npm stop`, `npm start` over the folders of the earlier run), and with a
 * folder left by another overlay, no peer reports a chunk lost that it did not miss, and what
 * it received this run is counted from its join point.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Memnet } from '../helpers/memnet';
import { lost } from '../helpers/chunks';
import { waitFor } from '../helpers/wait';
import { chunkFileName } from '../../src/content/folder';

/** Asserts peer k reports no loss and its folder has none since its first chunk this run. */
async function noLoss(m: Memnet, k: number): Promise<void> {
  const st = await m.peers.get(k)!.status();
  assert.equal(st.chunksLost, 0, `peer ${k} reports ${st.chunksLost} lost (firstSeq ${st.firstSeq}, lastSeq ${st.lastSeq})`);
  assert.deepEqual(lost(await m.seqs(k), st.firstSeq), [], `peer ${k}: a chunk missing since its first this run`);
  assert.ok(st.chunksReceived <= (st.lastSeq ?? 0) - (st.firstSeq ?? 0) + 1, `peer ${k} counts ${st.chunksReceived} chunks for ${st.firstSeq}..${st.lastSeq}: ${JSON.stringify(await m.seqs(k))} dup ${st.duplicates}`);
}

test('memory: every peer leaves, the server restarts, the peers start again over their folders: nothing reported lost', { timeout: 60_000 }, async () => {
  const m = await Memnet.start({ maxClients: 1 });
  try {
    for (let k = 1; k <= 4; k++) await m.addPeer(k, 2);
    await m.advance([1, 2, 3, 4], 8);
    for (const k of [4, 3, 2, 1]) await m.leave(k);
    await m.restartServer();
    for (let k = 1; k <= 4; k++) await m.addPeer(k, 2);
    await m.advance([1, 2, 3, 4], 8);
    for (let k = 1; k <= 4; k++) await noLoss(m, k);
  } finally {
    await m.stop();
  }
});

test('memory: a folder left by another overlay (far numbers) makes its peer report no loss', { timeout: 60_000 }, async () => {
  const m = await Memnet.start({ maxClients: 1 });
  try {
    // Peer 3's folder holds chunks 500..509 of some other overlay (their bytes are no chunk of ours).
    await fs.mkdir(m.dir(3), { recursive: true });
    for (let s = 500; s < 510; s++) await fs.writeFile(path.join(m.dir(3), chunkFileName(s)), Buffer.alloc(100, s % 256));
    for (let k = 1; k <= 4; k++) await m.addPeer(k, 2);
    await m.advance([1, 2, 4], 8); // peer 3's newest file stays 509 for a while
    await waitFor(async () => (await m.peers.get(3)!.status()).chunksReceived >= 6, 10_000, 'peer 3 receiving this overlay');
    for (let k = 1; k <= 4; k++) await noLoss(m, k);
    const st = await m.peers.get(3)!.status();
    assert.ok((st.firstSeq ?? 0) < 500, `peer 3 follows this overlay's numbering (firstSeq ${st.firstSeq})`);
  } finally {
    await m.stop();
  }
});
