/**
 * @file source.test.ts
 * @brief The source's watchdog: a slot the server granted (listed by `11C`, or `10` answered)
 * that brings no push for SILENT_SERVER_PERIODS periods is asked for again, also when no push
 * ever came after the grant (a restarted direct peer that the server still lists).
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { Source, PeriodEstimator } from '../../src/peer/source';
import { silentLogger } from '../../src/log';
import { SILENT_SERVER_PERIODS } from '../../src/constants';
import type { ChunkStore } from '../../src/peer/store';
import type { ServerLink } from '../../src/peer/serverLink';
import type { SourceKey } from '../../src/peer/state';

const PERIOD_MS = 1_000;

/** A source over a server link whose `10C` is counted (and never answered `10`). */
function source(now: () => number): { src: Source; joins: () => number } {
  let joins = 0;
  const link = { join: async () => { joins++; return 'full'; } } as unknown as ServerLink;
  const src = new Source({
    store: { maxSeq: -1, seqsFrom: () => [], get: () => undefined, addOwn: async () => {} } as unknown as ChunkStore, link, key: {} as SourceKey,
    period: new PeriodEstimator(PERIOD_MS), log: silentLogger(), now, numbered: () => {}, previous: null,
  });
  return { src, joins: () => joins };
}

test('a granted slot that never brings a push is asked for again after SILENT_SERVER_PERIODS periods', async () => {
  let now = 50_000;
  const { src, joins } = source(() => now);
  src.slotHeld(); // 11C lists us: no push has come yet
  src.activate();
  now += SILENT_SERVER_PERIODS * PERIOD_MS;
  src.tick(now);
  assert.equal(src.direct, true, 'not silent yet');
  assert.equal(joins(), 0);
  now += 1;
  src.tick(now);
  assert.equal(src.direct, false, 'the slot is no longer claimed');
  await new Promise((r) => setImmediate(r));
  assert.equal(joins(), 1, 'and 10C is sent again');
  src.destroy();
});

test('pushes keep the slot: the silence counts from the last one', () => {
  let now = 50_000;
  const { src, joins } = source(() => now);
  src.slotHeld();
  src.activate();
  for (let i = 0; i < 10; i++) {
    now += PERIOD_MS;
    src.onPush(Buffer.alloc(8), now);
    src.tick(now + SILENT_SERVER_PERIODS * PERIOD_MS);
  }
  assert.equal(src.direct, true);
  assert.equal(joins(), 0);
  src.destroy();
});
