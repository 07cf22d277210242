/**
 * @file demo.test.ts
 * @brief The embedded demo end to end: `npm start` brings up server + 6 peers under PM2, a
 *        SIGKILLed peer is restarted by PM2 and receives again, `npm stop` leaves gracefully.
 *
 * Runs bin/demo.js exactly as `npm start`/`npm stop` do, with a private PM2_HOME and a random
 * port base (RELAYTV_DEMO_PORT_BASE), so it never touches a demo a user runs on the defaults.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Demo, PEER_IPS, until } from '../helpers/demo';

const APPS = ['relaytv-server', ...PEER_IPS.map((n) => `relaytv-peer-${n}`)];

test('demo: pm2 start, every peer receives, a crashed peer comes back, stop leaves cleanly', { timeout: 180_000 }, async (t) => {
  const demo = await Demo.create(1);
  t.after(() => demo.cleanup());

  const out = await demo.run('start');
  assert.match(out, /npx relaytv dashboard/);
  assert.match(out, new RegExp(`relaytv status --peer 127\\.0\\.0\\.11:${demo.ports.http}`));
  assert.match(out, new RegExp(`127\\.0\\.0\\.1:${demo.ports.metrics}/metrics`));

  await until(() => {
    const apps = demo.jlist();
    return APPS.every((name) => apps.some((a) => a.name === name && a.status === 'online'));
  }, 30_000, 'all 7 apps online');

  await until(async () => {
    const all = await Promise.all(PEER_IPS.map((n) => demo.status(n)));
    return all.every((s) => s.lastSeq !== null);
  }, 40_000, 'every peer receiving chunks');

  // Crash the direct peer (the source) of channel 0: the hardest case for the overlay.
  const ch0 = await Promise.all([11, 12, 13].map((n) => demo.status(n)));
  const victimN = [11, 12, 13][Math.max(0, ch0.findIndex((s) => s.direct))];
  const victim = demo.jlist().find((a) => a.name === `relaytv-peer-${victimN}`)!;
  process.kill(victim.pid, 'SIGKILL');
  await until(() => {
    const a = demo.jlist().find((x) => x.name === victim.name);
    return !!a && a.status === 'online' && a.restarts >= 1 && a.pid !== victim.pid;
  }, 30_000, `pm2 restarting ${victim.name}`);
  let first = -1;
  await until(async () => (first = (await demo.status(victimN)).lastSeq ?? -1) >= 0, 30_000, 'the restarted peer receiving');
  await until(async () => ((await demo.status(victimN)).lastSeq ?? -1) > first, 20_000, 'the restarted peer still receiving');
  // The other peers of channel 0 kept (or resumed) receiving too.
  for (const n of [11, 12, 13].filter((x) => x !== victimN)) {
    const before = (await demo.status(n)).lastSeq ?? -1;
    await until(async () => ((await demo.status(n)).lastSeq ?? -1) > before, 20_000, `peer .${n} still receiving`);
  }

  for (const n of [11, 12, 13]) {
    const s = await demo.status(n);
    t.diagnostic(`after crashing .${victimN}: .${n} direct=${s.direct} lost=${s.chunksLost} recoveries=${s.reattaches} lastReattachMs=${s.lastReattachMs}`);
  }

  const pids = demo.jlist().map((a) => a.pid);
  await demo.run('stop');
  assert.equal(await demo.daemonAlive(), false, 'the PM2 daemon is stopped when nothing else runs');
  for (const pid of pids) assert.throws(() => process.kill(pid, 0), /ESRCH/, `process ${pid} is gone`);
  assert.equal(await demo.anyListening(), false, 'nothing listens on the demo ports');

  const serverLog = await demo.logs('relaytv-server');
  for (const c of [0, 1]) {
    assert.ok(serverLog.split('\n').some((l) => l.includes('"client left"') && l.includes(`"channel":${c}`)),
      `the server logged a 12C leave on channel ${c}`);
  }
  for (const n of PEER_IPS) assert.match(await demo.logs(`relaytv-peer-${n}`), /leaving the channel/, `peer .${n} left on SIGINT`);
});
