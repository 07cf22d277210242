/**
 * @file peer-protocol.test.ts
 * @brief The P2P codec (protocol v2) on exact bytes: every message round trips, frames split at
 * any byte decode the same, bad frames fail with their code before anything is allocated,
 * and (fast-check) any bytes either decode to a message that re-encodes to the same bytes or
 * fail with a RelayError; structured garbage (valid framing, wrong fields) included.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decode, encode, peerFrameDecoder, CODECS, MsgType, MAX_FRAME, PeerMessage, MemberRef } from '../../src/protocol/peer';
import { RelayError } from '../../src/errors';

const h32 = Buffer.alloc(32, 7);
const sig = Buffer.alloc(64, 9);
const ref = (id: string): MemberRef => ({ id, p2pPort: 9092, httpPort: 9093 });

/** One of every message. */
export const SAMPLES: PeerMessage[] = [
  { type: 'hello', id: '127.0.0.12', p2pPort: 9092, httpPort: 9093, slots: 2, channel: 1, direct: true, keyRequired: false, nonce: Buffer.alloc(16, 3) },
  { type: 'auth', mac: h32 },
  { type: 'join' },
  { type: 'redirect', to: ref('10.0.0.2') },
  { type: 'update', full: true, epoch: 7, since: 0, stripes: 2, periodMs: 2000, liveSeq: 41, coordinator: ref('127.0.0.11'),
    successors: [ref('127.0.0.13')], source: { id: '127.0.0.11', key: h32 },
    parents: [{ stripe: 0, parent: ref('127.0.0.11') }, { stripe: 1, parent: null }], children: [{ stripe: 1, id: '127.0.0.14', add: true }] },
  { type: 'replica', full: false, epoch: 9, since: 8, stripes: 2, ops: [
    { op: 'member', ref: ref('127.0.0.15'), slots: 3, home: 1 }, { op: 'gone', id: '127.0.0.16' },
    { op: 'edge', stripe: 1, child: '127.0.0.15', parent: '127.0.0.11' }, { op: 'edge', stripe: 0, child: '127.0.0.15', parent: '' }] },
  { type: 'resync', what: 1 },
  { type: 'heartbeat', maxSeq: 12, direct: false, watching: false },
  { type: 'heartbeat', maxSeq: 13, direct: true, watching: true },
  { type: 'subscribe', stripe: 1, fromSeq: -1 },
  { type: 'subscribed', stripe: 0, fromSeq: 42 },
  { type: 'unsubscribe', stripe: 0 },
  { type: 'refused', stripe: 1, reason: 2 },
  { type: 'chunk', seq: 5, originMs: 1234.5, hash: h32, sig, data: Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 1, 2, 3]) },
  { type: 'fetch', seq: 99 },
  { type: 'missing', seq: 99 },
  { type: 'suspect', id: '127.0.0.13', reason: 3 },
  { type: 'bye', reason: 1, to: ref('127.0.0.12') },
  { type: 'ping', nonce: 77 },
  { type: 'pong', nonce: 77 },
];

/** Decodes every frame of `bytes`. */
function decodeAll(bytes: Buffer): PeerMessage[] {
  return peerFrameDecoder().push(bytes).map((f) => decode(f.type, f.body));
}

/** Asserts `fn` throws a RelayError with `code`. */
function throwsCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => e instanceof RelayError && e.code === code, `expected ${code}`);
}

test('every message of the table has a sample, and every sample round trips', () => {
  assert.deepEqual(new Set(SAMPLES.map((m) => m.type)), new Set(Object.keys(CODECS)));
  for (const m of SAMPLES) assert.deepEqual(decodeAll(Buffer.concat(encode(m))), [m]);
});

test('type ids are unique and 14 stays reserved (ANNOUNCE of version 1)', () => {
  const ids = Object.values(MsgType);
  assert.equal(new Set(ids).size, ids.length);
  assert.ok(!ids.includes(14));
});

test('exact bytes: SUBSCRIBE, and the header of a CHUNK', () => {
  assert.deepEqual(Buffer.concat(encode({ type: 'subscribe', stripe: 1, fromSeq: -1 })), Buffer.from([0, 0, 0, 7, 2, 9, 1, 0xff, 0xff, 0xff, 0xff]));
  const chunk = Buffer.concat(encode({ type: 'chunk', seq: 258, originMs: 0, hash: h32, sig, data: Buffer.from([9]) }));
  assert.equal(chunk.readUInt32BE(0), 2 + 4 + 8 + 32 + 64 + 1);
  assert.deepEqual([...chunk.subarray(4, 10)], [2, 13, 0, 0, 1, 2]);
});

test('frames split at every byte boundary decode the same', () => {
  const bytes = Buffer.concat(SAMPLES.flatMap((m) => encode(m)));
  const d = peerFrameDecoder();
  const got: PeerMessage[] = [];
  for (const b of bytes) for (const f of d.push(Buffer.from([b]))) got.push(decode(f.type, f.body));
  assert.deepEqual(got, SAMPLES);
});

test('bad frames fail with their code: version, unknown type, a length over the type bound (before allocation), truncation, trailing bytes', () => {
  throwsCode(() => decodeAll(Buffer.from([0, 0, 0, 3, 1, 9, 0])), 'BAD_VERSION');
  throwsCode(() => decodeAll(Buffer.from([0, 0, 0, 2, 2, 99])), 'BAD_FRAME');
  // A HEARTBEAT announcing 16 MiB: refused from its header alone, whatever follows.
  const len = 16 * 1024 * 1024;
  throwsCode(() => peerFrameDecoder(() => assert.fail('allocated')).push(Buffer.from([len >>> 24, (len >>> 16) & 255, (len >>> 8) & 255, len & 255, 2, MsgType.heartbeat])), 'FRAME_TOO_LARGE');
  throwsCode(() => decodeAll(Buffer.from([0, 0, 0, 3, 2, MsgType.subscribe, 1])), 'BAD_FRAME');
  throwsCode(() => decodeAll(Buffer.from([0, 0, 0, 3, 2, MsgType.join, 0])), 'FRAME_TOO_LARGE'); // JOIN has no body at all
  assert.equal(MAX_FRAME.get(MsgType.join), 2);
});

test('an id of 255 bytes of 0xFF is refused: by the HELLO bound, and as invalid UTF-8 where a frame could hold it; any id that is not an IP literal too', () => {
  const id = Buffer.alloc(255, 0xff);
  const hello = Buffer.concat([Buffer.from([255]), id, Buffer.alloc(2 + 2 + 2 + 1 + 1 + 16)]);
  const frame = (type: number, body: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, 0, 2, type]), body]).fill(0, 0, 0);
  const f1 = frame(MsgType.hello, hello);
  f1.writeUInt32BE(f1.length - 4, 0);
  throwsCode(() => decodeAll(f1), 'FRAME_TOO_LARGE');
  // A REPLICA member op whose id is those bytes: the frame fits, the string does not decode.
  const replica = Buffer.concat([Buffer.from([0, 0, 0, 0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 1, 1, 255]), id, Buffer.alloc(7)]);
  const f2 = frame(MsgType.replica, replica);
  f2.writeUInt32BE(f2.length - 4, 0);
  throwsCode(() => decodeAll(f2), 'BAD_FRAME');
  for (const bad of ['peer-a', '127.0.0.012', '::FFFF:1.2.3.4', '', '1.2.3.4.5']) {
    const m = { ...(SAMPLES[0] as Extract<PeerMessage, { type: 'hello' }>), id: bad };
    throwsCode(() => decodeAll(Buffer.concat(encode(m))), 'BAD_FRAME');
  }
});

test('encoding a field out of range throws a RelayError (the session then refuses to send: never a crash)', () => {
  throwsCode(() => encode({ type: 'suspect', id: 'x'.repeat(300), reason: 1 }), 'BAD_FRAME');
  throwsCode(() => encode({ type: 'auth', mac: Buffer.alloc(5) }), 'BAD_FRAME');
});

/** Decodes one frame of `type` with `body`, and checks re-encoding gives the same bytes. */
function decodeCanonical(type: number, body: Buffer): void {
  try {
    const m = decode(type, body);
    assert.deepEqual(Buffer.concat(encode(m)).subarray(6), body, `${m.type} does not re-encode to its bytes`);
  } catch (e) {
    if (!(e instanceof RelayError)) throw e;
  }
}

test('property: any body of any type decodes to a message that re-encodes to the same bytes, or fails with a RelayError', () => {
  const types = [...MAX_FRAME.keys()];
  fc.assert(fc.property(fc.constantFrom(...types), fc.uint8Array({ maxLength: 300 }), (type, body) => decodeCanonical(type, Buffer.from(body))), { numRuns: 5000 });
});

test('property: structured garbage (valid samples with bytes flipped, cut or extended) never crashes and stays canonical', () => {
  const bodies = SAMPLES.map((m) => Buffer.concat(encode(m)));
  fc.assert(fc.property(fc.nat(bodies.length - 1), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.integer({ min: -8, max: 8 }), (i, at, byte, cut) => {
    const frame = Buffer.from(bodies[i]);
    const body = Buffer.from(frame.subarray(6));
    if (body.length) body[at % body.length] = byte;
    const changed = cut < 0 ? body.subarray(0, Math.max(0, body.length + cut)) : Buffer.concat([body, Buffer.alloc(cut, byte)]);
    decodeCanonical(frame[5], changed);
  }), { numRuns: 20000 });
});

test('property: arbitrary streams of bytes only ever yield frames or RelayErrors', () => {
  fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }), (parts) => {
    const d = peerFrameDecoder();
    try {
      for (const p of parts) for (const f of d.push(Buffer.from(p))) decode(f.type, f.body);
    } catch (e) {
      assert.ok(e instanceof RelayError, String(e));
    }
  }), { numRuns: 3000 });
});
