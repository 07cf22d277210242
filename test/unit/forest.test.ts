/**
 * @file forest.test.ts
 * @brief The incremental placement (pure) on invariants: every member placed in every stripe
 * whenever capacity allows, no cycle, slots never exceeded, the root feeds one child per stripe,
 * depth within ceil(log_T N) + 2, edges even (balance), bounded moves per failure, and the same
 * after churn, avoided edges, demotions, a rebuild from a replica and a re-root.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { Forest } from '../../src/peer/forest';
import { AUTO_STRIPES_MAX } from '../../src/constants';

/** Deterministic random numbers. */
function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => ((x = (x * 1103515245 + 12345) >>> 0) % 2 ** 31) / 2 ** 31;
}

/** Checks every invariant (depth within the bound + `extra` levels); returns the edges per member. */
function check(f: Forest, slotsOf: Map<string, number>, label: string, extra = 0): Map<string, number> {
  const K = f.stripes;
  const edges = new Map<string, number>();
  const members = [...f.members()];
  for (let s = 0; s < K; s++) {
    assert.ok(f.childrenOf(f.rootId, s).length <= 1, `${label}: root feeds ${f.childrenOf(f.rootId, s).length} in stripe ${s}`);
    for (const m of members) {
      const d = f.depthOf(m.id, s);
      assert.ok(Number.isFinite(d), `${label}: ${m.id} unplaced or in a cycle in stripe ${s}`);
      const p = f.parentOf(m.id, s);
      if (p !== f.rootId) edges.set(p, (edges.get(p) ?? 0) + 1);
    }
  }
  for (const m of members) {
    const e = edges.get(m.id) ?? 0;
    assert.equal(e, f.edgesOf(m.id), `${label}: ${m.id} edge count`);
    assert.ok(e <= slotsOf.get(m.id)!, `${label}: ${m.id} holds ${e} edges > ${slotsOf.get(m.id)} slots`);
  }
  if (K >= 2) assert.ok(f.maxDepth() <= f.depthBound() + extra, `${label}: depth ${f.maxDepth()} > bound ${f.depthBound()} + ${extra}`);
  assert.equal(f.unplacedCount(), 0, `${label}: unplaced`);
  return edges;
}

/** A forest of n members with `slots` each (K as `--stripes auto` picks it). */
function build(n: number, slots: number, K = Math.max(1, Math.min(AUTO_STRIPES_MAX, slots))): { f: Forest; slotsOf: Map<string, number> } {
  const f = new Forest({ rootId: 'root', rootSlots: slots, stripes: K, tauMs: 20_000 });
  const slotsOf = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    slotsOf.set(`p${i}`, slots);
    f.add(`p${i}`, slots, i);
  }
  return { f, slotsOf };
}

test('equal slots 1..8 (K = slots, at most 4): everyone placed, no cycle, slots kept, depth bound, edges even', () => {
  for (const slots of [1, 2, 3, 4, 6, 8]) {
    for (const n of [1, 2, 7, 19, 50, 333]) {
      const { f, slotsOf } = build(n, slots);
      const edges = check(f, slotsOf, `s=${slots} n=${n}`);
      // Fair share: every member holds K edges but the K spare ones of the whole forest.
      const short = [...f.members()].filter((m) => (edges.get(m.id) ?? 0) < f.stripes).length;
      assert.ok(short <= f.stripes + 1, `s=${slots} n=${n}: ${short} members below K edges`);
      if (slots === 1) assert.equal(f.maxDepth(), n, 'one slot each: a chain');
    }
  }
});

test('3 000 members with 3 slots, then 3 000 failures each replaced: invariants after every operation, bounded moves', () => {
  const { f, slotsOf } = build(3000, 3);
  check(f, slotsOf, 'built');
  const r = rng(5);
  const ids = [...slotsOf.keys()];
  let next = 3000;
  let worst = 0;
  for (let i = 0; i < 3000; i++) {
    const [v] = ids.splice(Math.floor(r() * ids.length), 1);
    const moved = f.remove(v, 10_000 + i * 100).length;
    slotsOf.delete(v);
    worst = Math.max(worst, moved);
    const id = `p${next++}`;
    slotsOf.set(id, 3);
    ids.push(id);
    f.add(id, 3, 10_050 + i * 100);
    // Under churn the depth stays within one level of the bound (measured; see the report).
    if (i % 500 === 0) check(f, slotsOf, `churn ${i}`, 1);
  }
  check(f, slotsOf, 'after churn', 1);
  // A failure moves the edges of its orphans and of one promotion, a few dozen at the most.
  assert.ok(worst <= 4 * 3 * 3 + 6, `a failure moved ${worst} edges`);
});

test('mixed slots: the target rises so that everyone is fed, slots are never exceeded', () => {
  const f = new Forest({ rootId: 'root', rootSlots: 3, stripes: 3, tauMs: 20_000 });
  const slotsOf = new Map<string, number>();
  const r = rng(9);
  for (let i = 0; i < 200; i++) {
    const s = 1 + Math.floor(r() * 6); // 1..6
    slotsOf.set(`m${i}`, s);
    f.add(`m${i}`, s, i);
  }
  check(f, slotsOf, 'mixed');
  assert.ok(f.edgeTarget >= 3);
  // A member that cannot branch is a leaf everywhere (as interior it would chain its stripe), and
  // the homes of the others spread their slots evenly over the stripes (each counted up to K).
  const cap = new Array<number>(3).fill(0);
  for (const m of f.members()) {
    if (m.slots < 2) assert.equal(m.home, -1, `${m.id}: ${m.slots} slot, home ${m.home}`);
    else cap[m.home] += Math.min(m.slots, 3);
  }
  assert.ok(Math.max(...cap) - Math.min(...cap) <= 3, `interior capacity per stripe ${cap}`);
});

test('the bench\'s mixed draw (slots 1-8, K = 3, 20 peers): everyone placed, the 1-slot peers are leaves, depth within ceil(log_f N) + 2 (f the mean of min(slots, K))', () => {
  const list = [1, 2, 2, 3, 4, 6, 8];
  for (const seed of [1, 2, 3, 4, 5]) {
    const r = rng(seed);
    const f = new Forest({ rootId: 'root', rootSlots: 3, stripes: 3, tauMs: 20_000 });
    const slotsOf = new Map<string, number>();
    for (let i = 0; i < 19; i++) {
      const s = list[Math.floor(r() * list.length)];
      slotsOf.set(`m${i}`, s);
      f.add(`m${i}`, s, i * 500);
    }
    for (let i = 0; i < 60; i++) f.rebalance(10_000 + i * 1000);
    check(f, slotsOf, `seed ${seed}`, Infinity);
    for (const m of f.members()) if (m.slots < 2) assert.equal(m.home, -1);
    // The bench's bound: the fan-out the slots allow is the members' mean of min(slots, K).
    const fanOut = [...slotsOf.values()].reduce((a, s) => a + Math.min(s, 3), 0) / slotsOf.size;
    const bound = Math.ceil(Math.log(slotsOf.size + 1) / Math.log(fanOut) - 1e-9) + 2;
    assert.ok(f.maxDepth() <= bound, `seed ${seed}: depth ${f.maxDepth()} > ${bound} (fan-out ${fanOut.toFixed(2)})`);
  }
});

test('members without slots only receive; an avoided edge is not used; a demoted member feeds nobody', () => {
  const { f, slotsOf } = build(30, 3, 2); // spare capacity: 3 slots, 2 stripes
  slotsOf.set('z', 0);
  f.add('z', 0, 100);
  check(f, slotsOf, 'with z');
  assert.equal(f.edgesOf('z'), 0);
  const p = f.parentOf('z', 0);
  f.avoid(p, 'z', 200, 10_000);
  assert.notEqual(f.parentOf('z', 0), p);
  check(f, slotsOf, 'after avoid');
  const busy = [...f.members()].find((m) => f.edgesOf(m.id) >= 2)!.id;
  f.demote(busy, 300, 10_000);
  assert.equal(f.edgesOf(busy), 0);
  check(f, slotsOf, 'after demote');
  f.rebalance(20_000); // demotion and avoided edge expired
  check(f, slotsOf, 'after expiry');
  // Demoting would starve someone when capacity is exact: refused.
  const tight = build(30, 2);
  tight.f.add('z', 0, 50); // 30 x 2 edges offered, 31 x 2 - 2 needed: not one to spare
  const full = [...tight.f.members()].find((m) => tight.f.edgesOf(m.id) === 2)!.id;
  assert.deepEqual(tight.f.demote(full, 100, 10_000), []);
  assert.equal(tight.f.edgesOf(full), 2);
});

test('the rotation evens out the load (edges held over time)', () => {
  const { f } = build(20, 2);
  const held = new Map<string, number>();
  for (let t = 0; t < 600; t++) {
    const now = 1_000 + t * 200;
    f.rebalance(now);
    for (const m of f.members()) held.set(m.id, (held.get(m.id) ?? 0) + f.edgesOf(m.id));
  }
  const v = [...held.values()];
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  assert.ok(Math.max(...v) / mean <= 1.1, `max/mean of edge-time ${Math.max(...v) / mean}`);
  assert.ok(Math.min(...v) / mean >= 0.85, `min/mean of edge-time ${Math.min(...v) / mean}`);
});

test('a replica rebuilds the same forest, and a re-root makes a member the root with every invariant kept', () => {
  const { f, slotsOf } = build(100, 2);
  const copy = Forest.restore({ rootId: 'root', rootSlots: 2, stripes: 2, tauMs: 20_000 }, f.members(), f.edges(), 1_000);
  assert.deepEqual(copy.settle(1_000), [], 'nothing to place again');
  for (const m of f.members()) for (let s = 0; s < 2; s++) assert.equal(copy.parentOf(m.id, s), f.parentOf(m.id, s));
  const heir = 'p1';
  copy.reroot(heir, 2_000);
  slotsOf.delete(heir);
  assert.equal(copy.rootId, heir);
  assert.ok(!copy.has('root'));
  check(copy, slotsOf, 'rerooted');
});

// A member cut from all its children at once (every one reports the edge broken) makes its
// whole subtrees move; up to 16 members they stay within the depth bound + 2, in larger forests
// they may go deeper until the avoided edges expire (AVOID_EDGE_MS): a known limit (report §8).
test('broken edges (avoid) never leave a member unplaced: every child of one member cut from it (a reset), for each member of forests of 5..40', () => {
  for (const n of [5, 6, 7, 10, 12, 25, 40]) {
    for (const slots of [2, 3, 4, 6]) {
      const ids = [...build(n, slots).f.members()].map((m) => m.id);
      for (const parent of ['root', ...ids]) {
        const { f, slotsOf } = build(n, slots);
        let now = n + 10;
        for (let s = 0; s < f.stripes; s++) {
          for (const child of f.childrenOf(parent, s)) {
            f.avoid(parent, child, now++, 60_000);
            check(f, slotsOf, `n=${n} s=${slots}: ${parent}>${child} cut`, n <= 16 ? 2 : Infinity);
            assert.notEqual(f.parentOf(child, s), parent, `n=${n} s=${slots}: ${child} still under ${parent} in stripe ${s}`);
          }
        }
      }
    }
  }
});
