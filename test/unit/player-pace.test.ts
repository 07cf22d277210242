/**
 * Tier 1: the player's pace control (pure): the arrival window's measures, the speed/skip
 * decision and its documented range, and a simulated feed (virtual time, the Player's rule:
 * decide when a chunk starts) at the course's pace, at the content's own pace, slower, and
 * faster than the top speed can follow.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PLAYER_MAX_BEHIND, PLAYER_SPEED_MAX, PLAYER_SPEED_MIN, PLAYER_SPEED_STEP } from '../../src/constants';
import { ArrivalWindow, decidePace, type PaceInput } from '../../src/player/pace';

/** The course's chunk: 2.143 s of video (its `filme/` files). */
const CHUNK = 2.143;

function input(over: Partial<PaceInput>): PaceInput {
  return { rate: 1, behindS: 2 * CHUNK, sinceArrivalS: 0, chunkS: CHUNK, targetS: 2 * CHUNK, waiting: 2, maxBehind: PLAYER_MAX_BEHIND, ...over };
}

test('the arrival window measures rate, cadence and chunk duration over its last arrivals', () => {
  const w = new ArrivalWindow(4);
  assert.equal(w.rate(), null, 'no rate before two arrivals');
  assert.equal(w.cadenceS(), null);
  assert.equal(w.chunkS(), null);
  w.add(0, CHUNK);
  assert.equal(w.rate(), null);
  assert.equal(w.chunkS(), CHUNK);
  for (let k = 1; k < 10; k++) w.add(k * 1800, CHUNK);
  assert.ok(Math.abs(w.rate()! - CHUNK / 1.8) < 1e-9, 'video seconds per wall second: 2.143 / 1.8');
  assert.ok(Math.abs(w.cadenceS()! - 1.8) < 1e-9);
  w.add(9 * 1800 + 1, 1);
  w.add(9 * 1800 + 2, 1);
  w.add(9 * 1800 + 3, 1);
  assert.ok(Math.abs(w.chunkS()! - (CHUNK + 3) / 4) < 1e-9, 'only the last 4 arrivals count');
  const burst = new ArrivalWindow(4);
  burst.add(5, CHUNK);
  burst.add(5, CHUNK);
  assert.equal(burst.rate(), null, 'arrivals at the same instant give no rate');
});

test('at the backlog target the speed is the arrival rate; slower arrivals never slow playback', () => {
  assert.equal(decidePace(input({ rate: CHUNK / 1.8 })).speed, 1.19);
  assert.equal(decidePace(input({ rate: 1 })).speed, 1);
  assert.equal(decidePace(input({ rate: CHUNK / 2.5, behindS: CHUNK })).speed, PLAYER_SPEED_MIN);
  assert.equal(decidePace(input({ rate: null })).speed, 1, 'unknown rate counts as 1');
});

test('a backlog above the target raises the speed; the time since the last arrival counts as backlog', () => {
  const base = decidePace(input({ rate: 1 })).speed;
  const more = decidePace(input({ rate: 1, behindS: 3 * CHUNK })).speed;
  assert.ok(more > base);
  const later = decidePace(input({ rate: 1, sinceArrivalS: 1 })).speed;
  assert.ok(later > base && later < more, 'partial chunk in transit: between the two');
  const capped = decidePace(input({ rate: 1, sinceArrivalS: 60 })).speed;
  assert.equal(capped, more, 'what is in transit counts for at most one chunk');
});

test('a skip only at the top of the range with more than maxBehind chunks waiting', () => {
  const far = decidePace(input({ rate: 1.2, behindS: 12 * CHUNK, waiting: 12 }));
  assert.deepEqual(far, { speed: PLAYER_SPEED_MAX, skip: true });
  assert.deepEqual(decidePace(input({ rate: 1.4, behindS: 10 * CHUNK, waiting: 10 })), { speed: PLAYER_SPEED_MAX, skip: false },
    'at top speed but not more than maxBehind waiting: no skip');
  const gentle = { minSpeed: 1, maxSpeed: 1.25, catchupS: 10_000, step: 0.01 };
  assert.deepEqual(decidePace(input({ rate: 1, behindS: 12 * CHUNK, waiting: 12 }), gentle), { speed: 1, skip: false },
    'far behind but still below the top speed: speed up, never skip');
});

test('property: the speed is a step within the documented range; a skip implies top speed and too many waiting', () => {
  fc.assert(fc.property(
    fc.option(fc.double({ min: 0, max: 10, noNaN: true })), fc.double({ min: 0, max: 300, noNaN: true }),
    fc.double({ min: 0, max: 100, noNaN: true }), fc.double({ min: 0.1, max: 10, noNaN: true }),
    fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 50 }),
    (rate, behindS, sinceArrivalS, chunkS, waiting, maxBehind) => {
      const d = decidePace({ rate, behindS, sinceArrivalS, chunkS, targetS: 2 * chunkS, waiting, maxBehind });
      assert.ok(d.speed >= PLAYER_SPEED_MIN && d.speed <= PLAYER_SPEED_MAX);
      const steps = d.speed / PLAYER_SPEED_STEP;
      assert.ok(Math.abs(steps - Math.round(steps)) < 1e-6, `${d.speed} is a multiple of the step`);
      if (d.skip) assert.ok(d.speed === PLAYER_SPEED_MAX && waiting > maxBehind);
    }), { numRuns: 2000 });
});

/** What a simulated run saw. */
interface Run { chunks: number; played: number; skipped: number; stalls: number; maxWaiting: number; speeds: number[]; skipsPerStart: number }

/**
 * Feeds `seconds` of arrivals every `cadence` s (± jitter/2, deterministic) of `chunk`-second
 * chunks to the Player's rule in virtual time: buffer 2 chunks, decide at each chunk start,
 * play it for chunk / speed (+ a per-chunk overhead), skip the oldest waiting when told.
 */
function simulate(cadence: number, chunk: number, seconds: number, jitter = 0.2, overheadS = 0.03): Run {
  let seed = 7;
  const random = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const arrivals: number[] = [];
  for (let k = 0, t = 0; t < seconds; k++, t = k * cadence + (random() - 0.5) * jitter) arrivals.push(t);
  const window = new ArrivalWindow();
  const waiting: number[] = [];
  const run: Run = { chunks: arrivals.length, played: 0, skipped: 0, stalls: 0, maxWaiting: 0, speeds: [], skipsPerStart: 0 };
  let next = 0;
  let lastArrival = 0;
  let endsAt: number | null = null;
  let started = false;
  while (next < arrivals.length || waiting.length > 0) {
    const now = Math.min(arrivals[next] ?? Infinity, endsAt ?? Infinity);
    if (next < arrivals.length && arrivals[next] === now) {
      waiting.push(next++);
      window.add(now * 1000, chunk);
      lastArrival = now;
    } else {
      waiting.shift();
      run.played++;
      endsAt = null;
      if (waiting.length === 0 && next < arrivals.length) run.stalls++;
    }
    run.maxWaiting = Math.max(run.maxWaiting, waiting.length);
    started ||= waiting.length >= 2;
    if (!started || endsAt !== null || waiting.length === 0) continue;
    const d = decidePace({ rate: window.rate(), behindS: waiting.length * chunk, sinceArrivalS: now - lastArrival,
      chunkS: chunk, targetS: 2 * chunk, waiting: waiting.length, maxBehind: PLAYER_MAX_BEHIND });
    if (d.skip && waiting.length > 1) {
      waiting.splice(1, 1);
      run.skipped++;
    }
    run.speeds.push(d.speed);
    endsAt = now + chunk / d.speed + overheadS;
  }
  return run;
}

function bigSteps(speeds: number[]): number {
  return speeds.filter((s, i) => i > 0 && Math.abs(s - speeds[i - 1]) > 0.031).length;
}

test('simulated 10 min at the course pace (2.143 s every 1.8 s): no skip, no stall, bounded, smooth', () => {
  const run = simulate(1.8, CHUNK, 600);
  assert.equal(run.skipped, 0);
  assert.equal(run.stalls, 0);
  assert.equal(run.played, run.chunks);
  assert.ok(run.maxWaiting <= 4, `at most 4 chunks waiting (${run.maxWaiting})`);
  const mean = run.speeds.reduce((a, b) => a + b, 0) / run.speeds.length;
  assert.ok(Math.abs(mean - CHUNK / 1.8) < 0.02, `mean speed ${mean} ~ 1.19`);
  assert.ok(bigSteps(run.speeds) <= run.speeds.length / 50, `speed moves in small steps (${bigSteps(run.speeds)} big)`);
});

test('simulated at the content\'s own pace: about normal speed, no stall, no skip', () => {
  const run = simulate(CHUNK, CHUNK, 600);
  assert.deepEqual([run.skipped, run.stalls, run.played], [0, 0, run.chunks]);
  assert.ok(Math.max(...run.speeds) <= 1.06, `speed stays near 1 (${Math.max(...run.speeds)})`);
});

test('simulated slower arrivals (every 2.5 s): stalls, never a skip, normal speed', () => {
  const run = simulate(2.5, CHUNK, 120);
  assert.equal(run.skipped, 0);
  assert.ok(run.stalls > 0);
  assert.ok(run.speeds.every((s) => s === PLAYER_SPEED_MIN));
  assert.equal(run.played, run.chunks);
});

test('simulated arrivals faster than the top speed (every 1.5 s): single skips keep the backlog bounded', () => {
  const run = simulate(1.5, CHUNK, 600);
  assert.ok(run.skipped > 0);
  assert.equal(run.played + run.skipped, run.chunks);
  assert.ok(run.maxWaiting <= PLAYER_MAX_BEHIND + 2, `waiting bounded (${run.maxWaiting})`);
  const skipRate = run.skipped / run.chunks;
  const needed = 1 - PLAYER_SPEED_MAX / (CHUNK / 1.5);
  assert.ok(skipRate < needed + 0.03, `skips only what top speed cannot play (${skipRate.toFixed(3)} vs ${needed.toFixed(3)})`);
});
