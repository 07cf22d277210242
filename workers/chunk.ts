/**
 * @file chunk.ts
 * @brief Piscina worker: the CPU and disk work on one chunk, off the master's event loop.
 *
 * `verify`: hashes the chunk (SHA-256), checks it against the hash it travelled with, checks
 * the source's Ed25519 signature over (channel, seq, origin time, hash) with the source's keys,
 * and only then writes it. `sign` (the source, for a server push): hashes, signs, writes.
 * Writes are atomic: a hidden temporary file, then a rename to `<seq>.mkv`, so a reader never
 * sees a partial file and a chunk that fails a check never reaches the folder. The bytes arrive
 * in shared memory (no copy between threads); keys are cached per thread.
 */
import { createHash, createPrivateKey, randomBytes, sign, verify, KeyObject } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { threadId } from 'node:worker_threads';
import { signedBytes, publicKeyFromRaw } from '../src/protocol/signing';

/** One chunk task. */
export interface ChunkTask {
  /** `verify` (a relayed chunk), `sign` (the source's own), `crash` (fault injection: the thread dies). */
  kind: 'verify' | 'sign' | 'crash';
  /** Chunk bytes (shared memory). */
  data?: Uint8Array;
  /** Channel, sequence and origin time (signed). */
  channel?: number;
  /** Sequence number. */
  seq?: number;
  /** Push time at the source, ms. */
  originMs?: number;
  /** verify: the SHA-256 it travelled with. */
  hash?: Uint8Array;
  /** verify: the source's signature. */
  sig?: Uint8Array;
  /** verify: the source's public keys, raw (the current one, then the previous one). */
  keys?: Uint8Array[];
  /** sign: the source's private key, PKCS#8 DER. */
  privateKey?: Uint8Array;
  /** Chunk folder; empty to skip the write. */
  dir?: string;
  /** File name inside `dir`. */
  name?: string;
}

/** Result of a chunk task. */
export interface ChunkResult {
  /** The data's SHA-256. */
  hash: Uint8Array;
  /** sign: the signature. */
  sig?: Uint8Array;
  /** verify: '' when the chunk is good, else what failed. */
  failed: '' | 'hash' | 'signature';
  /** Error message of a failed write (the chunk is still good and relayed). */
  writeError?: string;
  /** The worker thread that did it. */
  threadId: number;
}

const publicKeys = new Map<string, KeyObject>();
let privateKey: { der: string; key: KeyObject } | null = null;

/** @brief A cached public key object. */
function pub(raw: Uint8Array): KeyObject {
  const hex = Buffer.from(raw).toString('hex');
  let k = publicKeys.get(hex);
  if (!k) {
    if (publicKeys.size > 16) publicKeys.clear();
    publicKeys.set(hex, (k = publicKeyFromRaw(raw)));
  }
  return k;
}

/** @brief Writes `data` to dir/name through a temporary file; returns the error message, if any. */
async function write(task: ChunkTask, data: Uint8Array): Promise<string | undefined> {
  if (!task.dir) return undefined;
  const tmp = path.join(task.dir, `.${task.name}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await fs.writeFile(tmp, data);
    await fs.rename(tmp, path.join(task.dir, task.name!));
    return undefined;
  } catch (err) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    return (err as Error).message;
  }
}

/**
 * @brief Runs one chunk task.
 * @param task The task.
 * @return The hash, the verdict (or signature) and any write error.
 */
export default async function run(task: ChunkTask): Promise<ChunkResult> {
  if (task.kind === 'crash') process.exit(1);
  const data = task.data!;
  const hash = createHash('sha256').update(data).digest();
  const signed = signedBytes(task.channel!, task.seq!, task.originMs!, hash);
  if (task.kind === 'sign') {
    const der = Buffer.from(task.privateKey!).toString('base64');
    if (privateKey?.der !== der) privateKey = { der, key: createPrivateKey({ key: Buffer.from(task.privateKey!), format: 'der', type: 'pkcs8' }) };
    const sig = sign(null, signed, privateKey.key);
    return { hash, sig, failed: '', writeError: await write(task, data), threadId };
  }
  if (!task.hash || !hash.equals(Buffer.from(task.hash))) return { hash, failed: 'hash', threadId };
  const good = (task.keys ?? []).some((k) => verify(null, signed, pub(k), task.sig!));
  if (!good) return { hash, failed: 'signature', threadId };
  return { hash, failed: '', writeError: await write(task, data), threadId };
}
