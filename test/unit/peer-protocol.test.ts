/**
 * Tier 1-2: the P2P codec on exact bytes, round trips, rejection of bad frames (fast-check),
 * and two sessions crossed in memory.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { Duplex, PassThrough } from 'node:stream';
import fc from 'fast-check';
import { decode, encode, FrameDecoder, PeerMessage, MAX_FRAME_BYTES } from '../../src/protocol/peer';
import { RelayError } from '../../src/errors';
import { Session } from '../../src/peer/session';

const hash = Buffer.alloc(32, 7);
const samples: PeerMessage[] = [
  { type: 'hello', id: '127.0.0.12', p2pPort: 9092, httpPort: 9093, slots: 2, channel: 1, direct: true, maxSeq: -1 },
  { type: 'join' },
  { type: 'redirect', ip: '10.0.0.2', port: 9092 },
  { type: 'view', epoch: 7, stripes: 2, periodMs: 2000, liveSeq: 41, coordinator: '127.0.0.11',
    members: [{ id: '127.0.0.11', p2pPort: 9092, httpPort: 9093, slots: 2, home: -1, direct: true, sent: 1.5e6 },
      { id: '127.0.0.12', p2pPort: 9092, httpPort: 9093, slots: 0, home: 1, direct: false, sent: 0 }],
    edges: [[[1, 0]], [[1, 0]]] },
  { type: 'heartbeat', maxSeq: 12, sent: 3e9, direct: false },
  { type: 'subscribe', stripe: 1, fromSeq: -1 },
  { type: 'unsubscribe', stripe: 0 },
  { type: 'refused', stripe: 1, reason: 1 },
  { type: 'chunk', seq: 5, hash, originMs: 1234.5, data: Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 1, 2, 3]) },
  { type: 'fetch', seq: 99 },
  { type: 'missing', seq: 99 },
  { type: 'suspect', id: '127.0.0.13' },
  { type: 'bye', reason: 0 },
  { type: 'announce', seq: 3, hash },
  { type: 'subscribed', stripe: 0, fromSeq: 42 },
];

function roundTrip(m: PeerMessage): PeerMessage {
  const frames = new FrameDecoder().push(Buffer.concat(encode(m)));
  assert.equal(frames.length, 1);
  return decode(frames[0].type, frames[0].body);
}

test('every message survives a round trip', () => {
  for (const m of samples) assert.deepEqual(roundTrip(m), m);
});

test('exact bytes of SUBSCRIBE and of a CHUNK header', () => {
  assert.deepEqual(Buffer.concat(encode({ type: 'subscribe', stripe: 1, fromSeq: -1 })),
    Buffer.from([0, 0, 0, 7, 1, 6, 1, 0xff, 0xff, 0xff, 0xff]));
  const chunk = Buffer.concat(encode({ type: 'chunk', seq: 258, hash, originMs: 0, data: Buffer.from([9]) }));
  assert.equal(chunk.readUInt32BE(0), 2 + 4 + 32 + 8 + 1);
  assert.deepEqual([...chunk.subarray(4, 10)], [1, 9, 0, 0, 1, 2]);
});

test('frames split at every byte boundary decode the same', () => {
  const bytes = Buffer.concat(samples.flatMap((m) => encode(m)));
  const d = new FrameDecoder();
  const got: PeerMessage[] = [];
  for (const b of bytes) for (const f of d.push(Buffer.from([b]))) got.push(decode(f.type, f.body));
  assert.deepEqual(got, samples);
  assert.ok(d.idle());
});

test('wrong version, oversized and truncated frames are rejected with codes', () => {
  const bad = (bytes: number[], code: string) => assert.throws(() => {
    const fs = new FrameDecoder().push(Buffer.from(bytes));
    for (const f of fs) decode(f.type, f.body);
  }, (e: RelayError) => e.code === code);
  bad([0, 0, 0, 3, 2, 5, 0], 'BAD_VERSION');
  const len = MAX_FRAME_BYTES + 1;
  bad([len >>> 24, (len >>> 16) & 255, (len >>> 8) & 255, len & 255, 1, 9], 'FRAME_TOO_LARGE');
  bad([0, 0, 0, 3, 1, 6, 1], 'BAD_FRAME'); // SUBSCRIBE without its fromSeq
  bad([0, 0, 0, 2, 1, 99], 'BAD_FRAME'); // unknown type
  bad([0, 0, 0, 4, 1, 2, 0, 0], 'BAD_FRAME'); // JOIN with trailing bytes
});

test('property: any bytes either decode or fail with a RelayError', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
    try {
      const d = new FrameDecoder(undefined, 1 << 16);
      for (const f of d.push(Buffer.from(bytes))) decode(f.type, f.body);
    } catch (e) {
      assert.ok(e instanceof RelayError, String(e));
    }
  }), { numRuns: 2000 });
  fc.assert(fc.property(fc.integer({ min: 1, max: 16 }), fc.uint8Array({ maxLength: 200 }), (type, body) => {
    try { decode(type, Buffer.from(body)); } catch (e) { assert.ok(e instanceof RelayError); }
  }), { numRuns: 2000 });
});

/** Two in-memory duplex ends joined to each other. */
function pair(): [Duplex, Duplex] {
  const ab = new PassThrough();
  const ba = new PassThrough();
  const a = Duplex.from({ writable: ab, readable: ba });
  const b = Duplex.from({ writable: ba, readable: ab });
  return [a, b];
}

test('two sessions crossed in memory: HELLO, messages, silence timeout', async () => {
  const [a, b] = pair();
  let now = 0;
  const hb = () => ({ type: 'heartbeat' as const, maxSeq: 1, sent: 0, direct: false });
  const hello = (id: string) => ({ type: 'hello' as const, id, p2pPort: 1, httpPort: 2, slots: 2, channel: 0, direct: false, maxSeq: -1 });
  const sa = new Session(a, { hello: hello('A'), heartbeat: hb, outbound: true, now: () => now });
  const sb = new Session(b, { hello: hello('B'), heartbeat: hb, outbound: false, now: () => now });
  const got: PeerMessage[] = [];
  sb.on('message', (m) => got.push(m));
  await new Promise((r) => setImmediate(r));
  assert.equal(sa.remote?.id, 'B');
  assert.equal(sb.remote?.id, 'A');
  sa.send({ type: 'fetch', seq: 3 });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(got, [{ type: 'fetch', seq: 3 }]);
  const closed = new Promise<string>((r) => sb.once('close', r));
  now = 5_000;
  sb.tick(now);
  assert.match(await closed, /PEER_TIMEOUT/);
});

test('a session that does not start with HELLO is closed as a protocol violation', async () => {
  const [a, b] = pair();
  a.on('error', () => undefined); // the other end is torn down when B closes
  const sb = new Session(b, { hello: { type: 'hello', id: 'B', p2pPort: 1, httpPort: 2, slots: 1, channel: 0, direct: false, maxSeq: -1 },
    heartbeat: () => ({ type: 'heartbeat', maxSeq: -1, sent: 0, direct: false }), outbound: false });
  const closed = new Promise<string>((r) => sb.once('close', r));
  for (const p of encode({ type: 'join' })) a.write(p);
  assert.match(await closed, /expected HELLO/);
});
