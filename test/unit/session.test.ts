/**
 * @file session.test.ts
 * @brief Sessions and connections over the in-memory transport: the handshake binds identity to
 * the connection, the overlay key is checked, silence kills only watched links, backpressure
 * refuses chunks to a reader that stopped, and two peers dialing each other keep one link.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MemoryNetwork } from '../../src/transport/memory';
import type { Transport } from '../../src/transport/transport';
import { Session, SessionOptions } from '../../src/peer/session';
import { Connections } from '../../src/peer/connections';
import { Ledger } from '../../src/peer/stats';
import { silentLogger } from '../../src/log';
import { encode, Msg, PeerMessage } from '../../src/protocol/peer';
import { SEND_QUEUE_BYTES } from '../../src/constants';
import { waitFor } from '../helpers/wait';

const hello = (id: string, key = false): Msg<'hello'> => ({
  type: 'hello', id, p2pPort: 9092, httpPort: 9093, slots: 2, channel: 0, direct: false, keyRequired: key, nonce: randomBytes(16),
});

/** Options of a test session. */
function opts(id: string, over: Partial<SessionOptions> = {}): SessionOptions {
  return {
    hello: hello(id, !!over.key), outbound: false, key: null, now: Date.now, heartbeatMs: 20, timeoutMs: 100, helloTimeoutMs: 300,
    maxSeq: () => -1, direct: () => false, ...over,
  };
}

/** A connected pair of sessions A (dialer, 10.0.0.1) and B (acceptor, 10.0.0.2). */
async function pair(a: Partial<SessionOptions> = {}, b: Partial<SessionOptions> = {}, bId = '10.0.0.2'): Promise<[Session, Session]> {
  const net = new MemoryNetwork();
  let sb: Session | null = null;
  await net.listen({ host: '10.0.0.2', port: 1 }, (c) => { sb = new Session(c, c.remoteAddress!, opts(bId, b)); });
  const ca = await net.dial({ host: '10.0.0.2', port: 1, localAddress: '10.0.0.1', timeoutMs: 100 });
  const sa = new Session(ca, ca.remoteAddress!, opts('10.0.0.1', { outbound: true, dialed: '10.0.0.2', ...a }));
  await waitFor(() => sb !== null, 1000, 'the accept');
  return [sa, sb!];
}

/** Resolves with the close code of `s`. */
const closeCode = (s: Session): Promise<string> => new Promise((r) => (s.state === 'closed' ? r(s.closeCode) : s.once('close', r)));

test('handshake: both sessions open with the other end\'s identity, then messages flow', async () => {
  const [a, b] = await pair();
  await waitFor(() => a.state === 'open' && b.state === 'open', 1000, 'both open');
  assert.equal(a.id, '10.0.0.2');
  assert.equal(b.id, '10.0.0.1');
  const got: PeerMessage[] = [];
  b.on('message', (m) => got.push(m));
  a.send({ type: 'fetch', seq: 3 });
  await waitFor(() => got.length === 1, 1000, 'the message');
  assert.deepEqual(got, [{ type: 'fetch', seq: 3 }]);
  a.close('LEAVING');
  assert.equal(await closeCode(b), 'CLOSED');
});

test('identity is the connection\'s address: an inbound HELLO claiming another id is refused, and so is a dialed peer answering as another', async () => {
  // A dials from 10.0.0.1 but says it is 10.0.0.9 (the coordinator, say).
  const [a, b] = await pair({ hello: hello('10.0.0.9') });
  assert.equal(await closeCode(b), 'IDENTITY_MISMATCH');
  assert.equal(await closeCode(a), 'CLOSED');
  // B, dialed as 10.0.0.2, claims to be 10.0.0.7.
  const [a2] = await pair({}, {}, '10.0.0.7');
  assert.equal(await closeCode(a2), 'IDENTITY_MISMATCH');
});

test('overlay key: the same key opens; another key, or none, is AUTH_FAILED on both sides', async () => {
  const k = Buffer.from('a shared secret');
  const [a, b] = await pair({ key: k }, { key: k });
  await waitFor(() => a.state === 'open' && b.state === 'open', 1000, 'both open with the key');
  const [a2, b2] = await pair({ key: k }, { key: Buffer.from('another secret!') });
  assert.equal(await closeCode(b2), 'AUTH_FAILED');
  assert.notEqual(a2.state, 'open');
  const [a3, b3] = await pair({ key: k }, {});
  assert.equal(await closeCode(b3), 'AUTH_FAILED');
  assert.notEqual(a3.state, 'open');
});

test('a connection that never says HELLO is cut at the handshake deadline; a message before HELLO is a BAD_FRAME', async () => {
  const net = new MemoryNetwork();
  const seen: Session[] = [];
  await net.listen({ host: '10.0.0.2', port: 1 }, (c) => seen.push(new Session(c, c.remoteAddress!, opts('10.0.0.2'))));
  const mute = await net.dial({ host: '10.0.0.2', port: 1, localAddress: '10.0.0.1', timeoutMs: 100 });
  mute.on('error', () => undefined);
  await waitFor(() => seen.length === 1, 1000, 'accept');
  const timer = setInterval(() => seen[0].tick(Date.now(), false), 20);
  assert.equal(await closeCode(seen[0]), 'PEER_TIMEOUT');
  clearInterval(timer);
  const rude = await net.dial({ host: '10.0.0.2', port: 1, localAddress: '10.0.0.1', timeoutMs: 100 });
  rude.on('error', () => undefined);
  for (const p of encode({ type: 'join' })) rude.write(p);
  await waitFor(() => seen.length === 2, 1000, 'accept');
  assert.equal(await closeCode(seen[1]), 'BAD_FRAME');
});

test('silence kills a watched link only; a watched link that hears nothing is closed PEER_TIMEOUT', async () => {
  const net = new MemoryNetwork();
  let b: Session | null = null;
  // Generous durations: other test files share the machine; a late tick judges nobody (as the peer's).
  const slow = { heartbeatMs: 50, timeoutMs: 600 };
  await net.listen({ host: '10.0.0.2', port: 1 }, (c) => { b = new Session(c, c.remoteAddress!, opts('10.0.0.2', slow)); });
  const ca = await net.dial({ host: '10.0.0.2', port: 1, localAddress: '10.0.0.1', timeoutMs: 100 });
  const a = new Session(ca, ca.remoteAddress!, opts('10.0.0.1', { outbound: true, dialed: '10.0.0.2', ...slow }));
  await waitFor(() => a.state === 'open' && b?.state === 'open', 1000, 'open');
  let last = Date.now();
  const tick = setInterval(() => {
    const now = Date.now();
    const stalled = now - last > 150;
    last = now;
    a.tick(now, stalled);
    b!.tick(now, stalled);
  }, 25);
  try {
    // Both watched: heartbeats keep the link alive past several timeouts.
    a.watched = b!.watched = true;
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(a.state, 'open');
    // Only A watches (B holds A's SUBSCRIBE until its view names A): B answers A's heartbeats.
    b!.watched = false;
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(a.state, 'open', 'a quiet end that does not watch the link answers one that does');
    // Neither watches: no heartbeat goes either way (an unwatched end only answers a watching one).
    a.watched = false;
    await new Promise((r) => setTimeout(r, 700)); // B's record of A watching runs out
    const beats: string[] = [];
    a.on('message', (m: PeerMessage) => beats.push(`to a: ${m.type}`));
    b!.on('message', (m: PeerMessage) => beats.push(`to b: ${m.type}`));
    await new Promise((r) => setTimeout(r, 700));
    assert.deepEqual(beats, [], 'heartbeats on a link neither end watches');
    // A watches again after 1.4 s of quiet (past its 0.6 s timeout): the silence is judged from
    // then on, B answers, the link stays.
    a.watched = true;
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(a.state, 'open', 'a link quiet while unwatched is not dead when watching starts');
    // B goes silent (a hang): A notices.
    net.silence('10.0.0.2');
    assert.equal(await closeCode(a), 'PEER_TIMEOUT');
  } finally {
    clearInterval(tick);
  }
});

test('backpressure: chunks to a reader that stopped are refused once SEND_QUEUE_BYTES wait, other messages still go', async () => {
  const net = new MemoryNetwork();
  await net.listen({ host: '10.0.0.2', port: 1 }, (c) => new Session(c, c.remoteAddress!, opts('10.0.0.2')));
  const ca = await net.dial({ host: '10.0.0.2', port: 1, localAddress: '10.0.0.1', timeoutMs: 100 });
  const a = new Session(ca, ca.remoteAddress!, opts('10.0.0.1', { outbound: true, dialed: '10.0.0.2' }));
  await waitFor(() => a.state === 'open', 1000, 'open');
  net.stick('10.0.0.2');
  const data = Buffer.alloc(256 * 1024);
  let sent = 0;
  for (let i = 0; i < 64; i++) if (a.sendChunk({ type: 'chunk', seq: i, originMs: 0, hash: Buffer.alloc(32), sig: Buffer.alloc(64), data })) sent++;
  assert.ok(a.queuedBytes <= SEND_QUEUE_BYTES + data.length + 1024, `queued ${a.queuedBytes}`);
  assert.ok(sent < 64 && sent >= SEND_QUEUE_BYTES / data.length, `sent ${sent}`);
  assert.ok(a.send({ type: 'ping', nonce: 1 }));
  net.heal();
  a.close('LEAVING');
});

test('a remote that takes none of the bytes queued to it for slowReceiverMs is closed SLOW_RECEIVER, watched or not; one that reads stays', async () => {
  const net = new MemoryNetwork();
  await net.listen({ host: '10.0.0.2', port: 1 }, (c) => new Session(c, c.remoteAddress!, opts('10.0.0.2')));
  const dial = async (): Promise<Session> => {
    const c = await net.dial({ host: '10.0.0.2', port: 1, localAddress: '10.0.0.1', timeoutMs: 100 });
    const s = new Session(c, c.remoteAddress!, opts('10.0.0.1', { outbound: true, dialed: '10.0.0.2', slowReceiverMs: 150 }));
    await waitFor(() => s.state === 'open', 1000, 'open');
    return s;
  };
  const data = Buffer.alloc(64 * 1024);
  const chunk = (seq: number): Msg<'chunk'> => ({ type: 'chunk', seq, originMs: 0, hash: Buffer.alloc(32), sig: Buffer.alloc(64), data });
  // Reading: a steady flow of chunks, ticks for several times slowReceiverMs, never closed.
  const reader = await dial();
  for (let t = 0; t < 30; t++) {
    reader.sendChunk(chunk(t));
    reader.tick(Date.now(), false);
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(reader.state, 'open');
  reader.close('LEAVING');
  // Stopped reading (not watched: no heartbeats judge it): closed once nothing moved for 150 ms.
  const stuck = await dial();
  net.stick('10.0.0.2');
  for (let i = 0; i < 8; i++) stuck.sendChunk(chunk(i));
  assert.ok(stuck.queuedBytes > 0);
  const code = closeCode(stuck);
  const ticks = setInterval(() => stuck.tick(Date.now(), false), 20);
  try {
    assert.equal(await code, 'SLOW_RECEIVER');
  } finally {
    clearInterval(ticks);
    net.heal();
  }
});

/** A Connections registry for `id` on `transport` that records every session its parts hear of (onOpen). */
function registry(id: string, transport: Transport, opened: Session[]): Connections {
  return new Connections({
    self: { id, p2pPort: 9092, httpPort: 9093, slots: 2, channel: 0 }, transport, key: null, now: Date.now, log: silentLogger(), stats: new Ledger(),
    timings: { heartbeatMs: 50, heartbeatTimeoutMs: 300, helloTimeoutMs: 500, dialTimeoutMs: 300, slowReceiverMs: 1_000 }, alloc: (n) => Buffer.allocUnsafe(n),
    maxSeq: () => -1, direct: () => false, onOpen: (s) => opened.push(s), onMessage: () => undefined, onClose: () => undefined, keep: () => true,
  });
}

test('two peers dialing each other at once keep one connection, the one dialed by the lower id; each end\'s parts hear of the one it keeps', async () => {
  const net = new MemoryNetwork();
  const openedA: Session[] = [];
  const openedB: Session[] = [];
  const A = registry('10.0.0.1', net, openedA);
  const B = registry('10.0.0.2', net, openedB);
  await A.listen();
  await B.listen();
  const [sa, sb] = await Promise.all([A.dial('10.0.0.2', 9092), B.dial('10.0.0.1', 9092)]);
  await waitFor(() => A.get('10.0.0.2') !== undefined && B.get('10.0.0.1') !== undefined, 1000, 'registered');
  await new Promise((r) => setTimeout(r, 50));
  const keptA = A.get('10.0.0.2')!;
  const keptB = B.get('10.0.0.1')!;
  assert.equal(keptA.outbound, true, 'A keeps the connection it dialed (10.0.0.1 < 10.0.0.2)');
  assert.equal(keptB.outbound, false, 'B keeps the same connection, inbound');
  assert.ok(sa && sb);
  // What was sent on a link that closed as a duplicate may be lost: the parts hear of the link
  // that replaced it (onOpen), and the last link they heard of is the one kept.
  assert.deepEqual(openedA.map((s) => s.id), openedA.map(() => '10.0.0.2'));
  assert.deepEqual(openedB.map((s) => s.id), openedB.map(() => '10.0.0.1'));
  assert.equal(openedA.at(-1), keptA, 'A heard of the link it keeps');
  assert.equal(openedB.at(-1), keptB, 'B heard of the link it keeps');
  await A.destroy();
  await B.destroy();
});

test('a link that replaces a registered one (the other direction\'s, dialed by the higher id) is told to the parts: what the closed one carried may be lost', async () => {
  const net = new MemoryNetwork();
  // B accepts late: A's dial reaches B's registry only after B's own dial to A registered at both ends.
  const slowAccept: Transport = { listen: (o, h) => net.listen(o, (c) => void setTimeout(() => h(c), 40)), dial: (o) => net.dial(o) };
  const openedA: Session[] = [];
  const openedB: Session[] = [];
  const A = registry('10.0.0.1', net, openedA);
  const B = registry('10.0.0.2', slowAccept, openedB);
  await A.listen();
  await B.listen();
  try {
    const dialedByA = A.dial('10.0.0.2', 9092);
    await B.dial('10.0.0.1', 9092);
    await waitFor(() => openedA.length > 0, 1000, 'a link registered at A');
    const first = openedA[0];
    assert.equal(first.outbound, false, 'A registered B\'s link first');
    await dialedByA;
    await waitFor(() => A.get('10.0.0.2')?.outbound === true && B.get('10.0.0.1')?.outbound === false, 1000, 'the link dialed by the lower id kept');
    await waitFor(() => first.isClosed(), 1000, 'the replaced link closed');
    assert.equal(openedA.at(-1), A.get('10.0.0.2'), 'A\'s parts heard of the link that replaced the first');
    assert.equal(openedB.at(-1), B.get('10.0.0.1'), 'B\'s parts heard of the link that replaced its own');
  } finally {
    await A.destroy();
    await B.destroy();
  }
});
