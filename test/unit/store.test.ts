/**
 * @file store.test.ts
 * @brief The chunk store and its worker pool: a chunk is written only when its SHA-256 and the
 * source's Ed25519 signature hold, atomically (never half a file); a chunk failing either is
 * never written; a crashed worker thread is replaced (a new thread serves the next task) and
 * is not mistaken for a bad chunk; an unwritable folder is reported while the chunk is kept.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { createHash, generateKeyPairSync, createPublicKey, sign } from 'node:crypto';
import { createChunkPool, sharedBuffer } from '../../src/peer/pool';
import { ChunkStore } from '../../src/peer/store';
import { Ledger } from '../../src/peer/stats';
import { signedBytes, rawPublicKey } from '../../src/protocol/signing';

/** A source key, its raw public part, and a signer. */
function source() {
  const { privateKey } = generateKeyPairSync('ed25519');
  const publicRaw = rawPublicKey(createPublicKey(privateKey));
  const privateDer = privateKey.export({ format: 'der', type: 'pkcs8' });
  const chunk = (seq: number, fill: number) => {
    const data = sharedBuffer(4096).fill(fill);
    const hash = createHash('sha256').update(data).digest();
    return { seq, originMs: 1000 + seq, hash, sig: sign(null, signedBytes(0, seq, 1000 + seq, hash), privateKey), data };
  };
  return { publicRaw, privateDer, chunk };
}

test('only chunks whose hash and source signature hold are written; forged and altered ones never are', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'relaytv-store-'));
  const pool = createChunkPool(1);
  try {
    const stats = new Ledger();
    const store = new ChunkStore({ dir, channel: 0, pool, stats, now: Date.now });
    const src = source();
    const other = source();
    const rejected: string[] = [];
    store.on('rejected', (seq: number, from: string, why: string) => rejected.push(`${seq}:${why}`));
    assert.ok(await store.add(src.chunk(1, 1), 'parent', [src.publicRaw]));
    // A relay that changes the bytes and attaches the matching hash: the signature fails.
    const altered = src.chunk(2, 2);
    altered.data.fill(9);
    altered.hash = createHash('sha256').update(altered.data).digest();
    assert.equal(await store.add(altered, 'liar', [src.publicRaw]), null);
    // A chunk signed by someone else than the source; one whose bytes do not match its hash.
    assert.equal(await store.add(other.chunk(3, 3), 'liar', [src.publicRaw]), null);
    const bad = src.chunk(4, 4);
    bad.data.fill(5);
    assert.equal(await store.add(bad, 'liar', [src.publicRaw]), null);
    // The previous key still verifies (a chunk signed just before a takeover).
    assert.ok(await store.add(other.chunk(5, 5), 'parent', [src.publicRaw, other.publicRaw]));
    assert.deepEqual(rejected, ['2:signature', '3:signature', '4:hash']);
    assert.equal(stats.rejected, 3);
    assert.deepEqual((await fs.readdir(dir)).sort(), ['00000001.mkv', '00000005.mkv']);
    // The source's own chunks: hashed, signed, written; relayed with the signature.
    const own = await store.addOwn(6, sharedBuffer(100).fill(6), 1006, src.privateDer);
    assert.ok(own && own.sig.length === 64);
    assert.ok(await new ChunkStore({ dir: path.join(dir, 'x'), channel: 0, pool, stats, now: Date.now })
      .add({ seq: 6, originMs: 1006, hash: own.hash, sig: own.sig, data: own.data }, 'parent', [src.publicRaw]));
  } finally {
    await pool.destroy();
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('a crashed worker thread is replaced: with one thread, the next task runs on a new thread and succeeds', async () => {
  const pool = createChunkPool(1);
  try {
    const src = source();
    const c = src.chunk(1, 1);
    const first = await pool.run({ kind: 'verify', data: c.data, channel: 0, seq: 1, originMs: c.originMs, hash: c.hash, sig: c.sig, keys: [src.publicRaw] });
    assert.equal(first.failed, '');
    await pool.crashOne();
    const c2 = src.chunk(2, 2);
    const after = await pool.run({ kind: 'verify', data: c2.data, channel: 0, seq: 2, originMs: c2.originMs, hash: c2.hash, sig: c2.sig, keys: [src.publicRaw] });
    assert.equal(after.failed, '', 'the task after the crash succeeds');
    assert.notEqual(after.threadId, first.threadId, 'a new thread serves it');
    assert.equal(pool.workerFailures, 0, 'the crash task itself is not a chunk task failure');
  } finally {
    await pool.destroy();
  }
});

test('an unwritable chunk folder: DIR_UNWRITABLE reported, the chunk kept in memory (it is still relayed)', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'relaytv-store-'));
  const pool = createChunkPool(1);
  try {
    const stats = new Ledger();
    await fs.writeFile(path.join(dir, 'file'), 'not a folder');
    const store = new ChunkStore({ dir: path.join(dir, 'file'), channel: 0, pool, stats, now: Date.now });
    const errors: string[] = [];
    store.on('diskError', (m: string) => errors.push(m));
    const src = source();
    const c = await store.add(src.chunk(0, 1), 'parent', [src.publicRaw]);
    assert.ok(c, 'kept in memory');
    assert.equal(store.get(0)?.data.byteLength, 4096);
    assert.equal(stats.diskErrors, 1);
    assert.match(errors[0], /ENOTDIR/);
  } finally {
    await pool.destroy();
    await fs.rm(dir, { recursive: true, force: true });
  }
});
