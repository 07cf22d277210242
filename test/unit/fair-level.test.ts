/**
 * @file fair-level.test.ts
 * @brief The bench's max-min fair share for mixed slots (bench/figures.ts fairLevel): the level
 * L with sum of min(slots_i, L) equal to the edges needed, on the bench's own draw.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { fairLevel } from '../../bench/figures';

test('the max-min fair level: equal caps split evenly, small caps are filled first, too little capacity is Infinity', () => {
  assert.equal(fairLevel([4, 4, 4], 6), 2);
  assert.equal(fairLevel([1, 8, 8], 9), 4); // the 1-slot peer is fair at its cap
  assert.equal(fairLevel([1, 2], 3), 2);
  assert.equal(fairLevel([1, 2], 4), Infinity);
  // The mixed bench (K 3, 20 peers): 19 non-direct peers need 54 edges; slots 6 and 8 carry 4.6 each.
  const draw = [1, 3, 8, 8, 2, 4, 6, 2, 8, 3, 3, 1, 2, 2, 2, 3, 1, 2, 6];
  const L = fairLevel(draw, 54);
  assert.ok(Math.abs(L - 4.6) < 1e-9, `level ${L}`);
  assert.equal(draw.reduce((n, s) => n + Math.min(s, L), 0).toFixed(6), (54).toFixed(6));
});
