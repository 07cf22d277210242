/**
 * @file signing.ts
 * @brief What the source signs for each chunk, and Ed25519 keys in the forms the wire uses.
 *
 * The source signs, with Ed25519 (`node:crypto`), the bytes
 * `"relaytv-chunk-v2" | channel:u8 | seq:u32 | originMs:f64 | sha256:32`, so a relaying member
 * can change neither the bytes (the hash), nor the number, nor the time, nor the channel of a
 * chunk. The public key travels raw (32 bytes) in the coordinator's UPDATE.
 */
import { createPublicKey, KeyObject } from 'node:crypto';

const TAG = Buffer.from('relaytv-chunk-v2');
/** DER prefix of an Ed25519 SubjectPublicKeyInfo; the raw key follows. */
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/**
 * @brief The bytes the source signs for one chunk.
 * @param channel Channel. @param seq Sequence. @param originMs Push time at the source. @param hash SHA-256 of the data.
 */
export function signedBytes(channel: number, seq: number, originMs: number, hash: Uint8Array): Buffer {
  const b = Buffer.alloc(TAG.length + 1 + 4 + 8 + 32);
  TAG.copy(b, 0);
  let o = TAG.length;
  b[o++] = channel;
  b.writeUInt32BE(seq, o);
  b.writeDoubleBE(originMs, o + 4);
  Buffer.from(hash.buffer, hash.byteOffset, hash.byteLength).copy(b, o + 12);
  return b;
}

/** @brief The raw 32 bytes of an Ed25519 public key. @param key The key object. */
export function rawPublicKey(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length);
}

/** @brief A public key object from its raw 32 bytes. @param raw The key as the wire carries it. */
export function publicKeyFromRaw(raw: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, Buffer.from(raw)]), format: 'der', type: 'spki' });
}
