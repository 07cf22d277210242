/**
 * Tier 1: the forest placement (pure): slots cap, everyone placed, no cycle, stability on
 * failure, even spread of edges, avoided edges, and the rotation.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { place, chooseHome, depths, childrenOf, Placement, PlacementMember } from '../../src/peer/placement';

const root: PlacementMember = { id: 'root', slots: 2, home: -1, sent: 0 };

function members(n: number, slots = 2, K = 2): PlacementMember[] {
  const out: PlacementMember[] = [];
  for (let i = 0; i < n; i++) {
    const m = { id: `p${i}`, slots, home: 0, sent: 0 };
    m.home = chooseHome(out, K, slots);
    out.push(m);
  }
  return out;
}

function edgesPer(pl: Placement): Map<string, number> {
  const e = new Map<string, number>();
  for (const s of pl) for (const [, p] of s) e.set(p, (e.get(p) ?? 0) + 1);
  return e;
}

test('everyone is placed in every stripe, within slots, with no cycle', () => {
  for (const n of [1, 2, 7, 19, 50, 333]) {
    const ms = members(n);
    const pl = place({ root, members: ms, stripes: 2 });
    for (let s = 0; s < 2; s++) {
      assert.equal(pl[s].size, n, `n=${n} stripe ${s}`);
      const d = depths(pl, s, 'root');
      for (const m of ms) assert.ok(Number.isFinite(d.get(m.id)), `${m.id} reaches the root`);
    }
    for (const [id, e] of edgesPer(pl)) assert.ok(e <= (id === 'root' ? 2 : 2), `${id} has ${e} edges`);
  }
});

test('a failure moves its orphans and a bounded few others, whatever the size', () => {
  for (const n of [30, 300, 3000]) {
    const ms = members(n);
    const before = place({ root, members: ms, stripes: 2 });
    for (const dead of ['p2', 'p4', `p${Math.floor(n / 3)}`]) {
      const orphans = childrenOf(before, dead).flat().length;
      const after = place({ root, members: ms.filter((m) => m.id !== dead), stripes: 2, previous: before });
      let moved = 0;
      for (let s = 0; s < 2; s++) for (const [c, p] of after[s]) if (before[s].get(c) !== p) moved++;
      assert.ok(moved <= orphans + 2, `n=${n}: killing ${dead} (${orphans} orphan edges) moved ${moved} edges`);
    }
  }
});

test('with more slots than stripes, edges spread evenly', () => {
  const ms = members(40, 3);
  const pl = place({ root: { ...root, slots: 3 }, members: ms, stripes: 2 });
  const e = edgesPer(pl);
  const counts = ms.map((m) => e.get(m.id) ?? 0);
  assert.ok(Math.max(...counts) - Math.min(...counts.filter((c, i) => ms[i].slots > 0)) <= 2, `edges ${counts}`);
});

test('members with 0 slots only receive; avoided edges are not used', () => {
  const ms = members(10).concat([{ id: 'z', slots: 0, home: -1, sent: 0 }]);
  const first = place({ root, members: ms, stripes: 2 });
  assert.equal(edgesPer(first).get('z') ?? 0, 0);
  const p = first[0].get('z')!;
  const again = place({ root, members: ms, stripes: 2, previous: first, avoid: new Set([`${p}>z`]) });
  assert.notEqual(again[0].get('z'), p);
  assert.ok(again[0].get('z'));
});

test('the rotation moves one leaf from the member that sent most to one that sent least', () => {
  const ms = members(9, 3);
  const first = place({ root: { ...root, slots: 3 }, members: ms, stripes: 2 });
  const e = edgesPer(first);
  // A member that feeds a leaf (a child whose home is another stripe).
  const byId = new Map(ms.map((m) => [m.id, m]));
  const busy = byId.get([...first[0]].find(([c, p]) => p !== 'root' && byId.get(c)!.home !== 0)![1])!;
  busy.sent = 1e9;
  const after = place({ root: { ...root, slots: 3 }, members: ms, stripes: 2, previous: first, rebalanceBytes: 1e6 });
  assert.ok((edgesPer(after).get(busy.id) ?? 0) < e.get(busy.id)!, 'the busiest member lost a child');
});
