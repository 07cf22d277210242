/**
 * @file upstream.test.ts
 * @brief The child side's rule for chunks that arrive late: a throttled link delivers what a
 * former parent queued long after we moved away from it (the lab's throttle case: 1 Mbit/s
 * drains a 2 MiB queue in 17 s). Such a chunk is late (dropped quietly), never a violation
 * (which closes the connection), for LATE_CHUNK_MS after the move; a member that never fed
 * us is not excused.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { Upstream } from '../../src/peer/upstream';
import { Ledger } from '../../src/peer/stats';
import { silentLogger } from '../../src/log';
import { LATE_CHUNK_MS, SUBSCRIBE_HOLD_MS } from '../../src/constants';
import type { ChunkStore } from '../../src/peer/store';
import type { Session } from '../../src/peer/session';
import { RefuseReason, SuspectReason } from '../../src/protocol/peer';

/** The upstream of a member 10.0.0.9 with an empty store, whose links are `session`'s. */
function child(session: (id: string) => Session, now: () => number, suspect: (id: string, reason: number) => void = () => {}): Upstream {
  return new Upstream({
    self: '10.0.0.9', store: { firstSeq: 0, maxSeq: -1, missing: () => [] } as unknown as ChunkStore, stats: new Ledger(), log: silentLogger(),
    now, dial: async (ref) => session(ref.id), session, watch: () => {}, holders: () => [], suspect, sourceSinceMs: () => 0,
  });
}

test('a former parent\'s chunk is late for LATE_CHUNK_MS after the move, in any stripe; a stranger\'s never is', () => {
  let now = 1_000;
  const sent: string[] = [];
  const session = (id: string) => ({ send: (m: { type: string }) => { sent.push(`${id}:${m.type}`); return true; } }) as unknown as Session;
  const up = child(session, () => now);
  const A = { id: '10.0.0.1', p2pPort: 9092, httpPort: 9093 };
  const B = { id: '10.0.0.2', p2pPort: 9092, httpPort: 9093 };
  up.apply([A, A]);
  assert.ok(up.accepts(A.id, 4) && up.accepts(A.id, 5));
  up.apply([B, A]); // stripe 0 moves to B (A stays the parent of stripe 1)
  assert.ok(sent.includes(`${A.id}:unsubscribe`));
  now += 10_000; // a chunk of stripe 0 that waited 10 s in A's queue behind a throttled link
  assert.equal(up.accepts(A.id, 6), false);
  assert.equal(up.wasParent(A.id), true, 'late, not a violation');
  assert.equal(up.wasParent('10.0.0.7'), false, 'a member that never fed us');
  now += LATE_CHUNK_MS;
  up.tick(now, 2_000);
  assert.equal(up.wasParent(A.id), false, 'past LATE_CHUNK_MS');
});

test('a parent that refuses us as a stranger twice in a row is reported (SUSPECT REFUSED); a full parent is not', () => {
  const suspects: string[] = [];
  const session = () => ({ send: () => true }) as unknown as Session;
  const up = child(session, () => 1_000, (id, reason) => suspects.push(`${id}:${reason}`));
  const A = { id: '10.0.0.1', p2pPort: 9092, httpPort: 9093 };
  up.apply([A, A]);
  for (let i = 0; i < 3; i++) up.onRefused(A.id, 0, RefuseReason.SLOTS_FULL);
  assert.deepEqual(suspects, [], 'SLOTS_FULL: its slot frees in a moment');
  up.onRefused(A.id, 0, RefuseReason.NOT_CHILD);
  up.onRefused(A.id, 0, RefuseReason.SLOTS_FULL); // refused for another reason: not in a row
  up.onRefused(A.id, 0, RefuseReason.NOT_CHILD);
  up.onSubscribed(A.id, 0); // accepted in between: the count starts again
  up.onRefused(A.id, 0, RefuseReason.NOT_CHILD);
  assert.deepEqual(suspects, []);
  up.onRefused(A.id, 0, RefuseReason.NOT_CHILD);
  assert.deepEqual(suspects, [`${A.id}:${SuspectReason.REFUSED}`]);
  up.onRefused('10.0.0.7', 1, RefuseReason.NOT_CHILD);
  up.onRefused('10.0.0.7', 1, RefuseReason.NOT_CHILD);
  assert.equal(suspects.length, 1, 'a refusal from a member that is not our parent counts for nothing');
});

test('a SUBSCRIBE nobody answers is sent again; an answered one is not', async () => {
  let now = 1_000;
  const sent: string[] = [];
  const session = (id: string) => ({ send: (m: { type: string; stripe?: number }) => { sent.push(`${id}:${m.type}:${m.stripe}`); return true; } }) as unknown as Session;
  const up = child(session, () => now);
  const A = { id: '10.0.0.1', p2pPort: 9092, httpPort: 9093 };
  up.apply([A, A]);
  await new Promise((r) => setImmediate(r)); // the dials resolve
  assert.deepEqual(sent, [`${A.id}:subscribe:0`, `${A.id}:subscribe:1`]);
  up.onSubscribed(A.id, 1); // stripe 1 answered, stripe 0 lost on the way
  now += SUBSCRIBE_HOLD_MS + 1_000;
  up.tick(now, 2_000);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(sent.slice(2), [`${A.id}:subscribe:0`], 'only the unanswered stripe is asked again');
});

test('a SUBSCRIBE still unanswered when a new link to its parent opens (one closed as a duplicate) is sent again on it at once', async () => {
  const now = 1_000;
  const sent: string[] = [];
  let link = 'first';
  const session = (id: string) => ({ send: (m: { type: string; stripe?: number }) => { sent.push(`${link}:${id}:${m.type}:${m.stripe}`); return true; } }) as unknown as Session;
  const up = child(session, () => now);
  const A = { id: '10.0.0.1', p2pPort: 9092, httpPort: 9093 };
  const B = { id: '10.0.0.2', p2pPort: 9092, httpPort: 9093 };
  up.apply([A, A, B]);
  await new Promise((r) => setImmediate(r));
  assert.equal(sent.length, 3);
  up.onSubscribed(A.id, 1); // stripe 1 answered; stripe 0's SUBSCRIBE went down with the first link
  link = 'second';
  up.linkOpened(A.id); // the clock has not moved: no retry is due
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(sent.slice(3), [`second:${A.id}:subscribe:0`], 'only the unanswered stripe of that parent, on the new link');
});

/**
 * Plays a stripe-interleaved stream of period 500 ms into `up` (two stripes): chunk seq leaves the
 * source at 20 000 + 500 seq on the source's clock (ours runs 5 s ahead) and is stored `delay(seq)`
 * ms after, while the upstream ticks every 100 ms.
 */
function play(up: Upstream, clock: { now: number }, seqs: number, delay: (seq: number) => number): void {
  const stored: { at: number; seq: number }[] = [];
  for (let seq = 0; seq < seqs; seq++) stored.push({ at: 25_000 + 500 * seq + delay(seq), seq });
  stored.sort((a, b) => a.at - b.at);
  const end = stored[stored.length - 1].at + 100;
  for (let t = 25_000; t <= end; t += 100) {
    clock.now = t;
    while (stored.length && stored[0].at <= t) {
      const { seq } = stored.shift()!;
      up.onChunk(seq);
      up.onStored(seq, 20_000 + 500 * seq);
    }
    up.tick(t, 500);
  }
}

test('a parent that feeds us every stripe and falls behind the stream is reported slow; one on time is not', () => {
  const A = { id: '10.0.0.1', p2pPort: 9092, httpPort: 9093 };
  const clock = { now: 25_000 };
  const reports: string[] = [];
  const session = () => ({ send: () => true }) as unknown as Session; // its heartbeats say nothing: they queue behind its chunks
  const up = child(session, () => clock.now, (id, reason) => reports.push(`${id}:${reason}`));
  up.apply([A, A]);
  play(up, clock, 20, () => 30);
  assert.equal(reports.length, 0, `on time: nobody reported (${reports})`);
  // From chunk 20 on, A's link carries half the stream: each chunk is stored 250 ms later than the one before.
  const late = child(session, () => clock.now, (id, reason) => reports.push(`${id}:${reason}`));
  late.apply([A, A]);
  play(late, clock, 40, (seq) => 30 + Math.max(0, seq - 20) * 250);
  assert.ok(reports.includes(`${A.id}:${SuspectReason.SLOW}`), `A reported slow (${reports})`);
});

test('every stripe behind while two parents feed them: our own link is slow, no parent is reported', () => {
  const A = { id: '10.0.0.1', p2pPort: 9092, httpPort: 9093 };
  const B = { id: '10.0.0.2', p2pPort: 9092, httpPort: 9093 };
  const clock = { now: 25_000 };
  const reports: string[] = [];
  const up = child(() => ({ send: () => true }) as unknown as Session, () => clock.now, (id, reason) => reports.push(`${id}:${reason}`));
  up.apply([A, B]);
  play(up, clock, 40, (seq) => 30 + Math.max(0, seq - 20) * 250);
  assert.deepEqual(reports, []);
});
