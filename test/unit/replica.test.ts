/**
 * @file replica.test.ts
 * @brief A successor's copy of a large overlay: the coordinator's full REPLICA of 20 000 members
 * (more operations than one frame may carry) goes as several frames of one epoch, each within
 * the frame bound; a successor that decodes and applies them holds every member and edge, its
 * takeover places every member within a period, and the next delta follows them. A page that arrives out of order is a gap (a RESYNC), never a
 * wrong copy.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { Membership } from '../../src/peer/membership';
import { Replica } from '../../src/peer/replica';
import { encode, decode, peerFrameDecoder, type Msg, type MemberRef } from '../../src/protocol/peer';
import { REPLICA_PAGE_OPS } from '../../src/constants';

const ref = (i: number): MemberRef => ({ id: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, p2pPort: 9092, httpPort: 9093 });

/** Sends a REPLICA through the peer protocol's bounded frame decoder (FRAME_TOO_LARGE past the bound). */
function overTheWire(m: Msg<'replica'>): Msg<'replica'> {
  const frames = peerFrameDecoder().push(Buffer.concat(encode(m)));
  assert.equal(frames.length, 1);
  return decode(frames[0].type, frames[0].body) as Msg<'replica'>;
}

test('a full copy of 20 000 members goes as pages of one epoch; the successor that applies them holds every member and edge, and the next delta follows', () => {
  const self = ref(1);
  const m = new Membership({ self, slots: 2, stripes: 2, tauMs: 20_000 });
  const N = 20_000;
  for (let i = 2; i < N + 2; i++) assert.equal(m.join(ref(i), 2, i), 'joined');
  const header = { liveSeq: 0, periodMs: 2000, source: null };
  const pub = m.drain(header);
  const succ = [...pub.replicas.keys()];
  assert.ok(succ.length >= 1, 'successors get a REPLICA');
  const pages = pub.replicas.get(succ[0])!;
  const snapshot = m.snapshot();
  assert.equal(pages.length, Math.ceil(snapshot.length / REPLICA_PAGE_OPS), 'as many pages as the operations need');
  assert.ok(pages.length >= 2);
  assert.ok(pages[0].full && pages.slice(1).every((p) => !p.full && p.since === p.epoch && p.epoch === pages[0].epoch));
  const r = new Replica();
  for (const p of pages) assert.equal(r.apply(overTheWire(p), self.id), 'ok');
  assert.equal(r.refs().length, N, 'every member');
  // The copy rebuilds the coordinator's forest, re-rooted at the successor. With equal slots = K
  // there are 2 spare edges among 20 000 members, which the bounded searches of a takeover can
  // miss; the next period's rebalance finds them (rescue), and every member is placed again.
  const taken = r.toMembership(ref(2), 2, 20_000, N + 10);
  assert.equal(taken.forest.size, N - 1);
  taken.forest.rebalance(N + 2_000);
  assert.equal(taken.forest.unplacedCount(), 0, 'every member placed within a period of the takeover');
  for (const x of [ref(3), ref(N), ref(N + 1)]) for (const s of [0, 1]) assert.ok(taken.forest.parentOf(x.id, s), `${x.id} placed in stripe ${s}`);
  // The next change is a delta that follows the pages' epoch.
  assert.ok(m.remove(ref(5).id, N + 20));
  const delta = m.drain(header).replicas.get(succ[0])!;
  assert.equal(delta.length, 1);
  assert.ok(!delta[0].full && delta[0].since === pages[0].epoch);
  assert.equal(r.apply(overTheWire(delta[0]), self.id), 'ok');
  assert.equal(r.refs().length, N - 1);
  assert.ok(!r.has(ref(5).id));
  // Pages out of order: the second page of a new full copy before its first is a gap.
  m.resyncReplica(succ[0]);
  const again = m.drain(header).replicas.get(succ[0])!;
  const fresh = new Replica();
  assert.equal(fresh.apply(overTheWire(again[1]), self.id), 'gap');
});
