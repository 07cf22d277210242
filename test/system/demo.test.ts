/**
 * @file demo.test.ts
 * @brief The embedded demo end to end: `npm start` brings up server + 6 peers under PM2; the
 *        direct peer's overlay process SIGKILLed three times is restarted by its holder with no
 *        refused push (the demo server keeps the course server's rule); a whole peer SIGKILLed is
 *        restarted by PM2 and receives again; `npm stop` leaves gracefully.
 *
 * Runs bin/demo.js exactly as `npm start`/`npm stop` do, with a private PM2_HOME and a random
 * port base (RELAYTV_DEMO_PORT_BASE), so it never touches a demo a user runs on the defaults.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Demo, PEER_IPS } from '../helpers/demo';
import { waitFor } from '../helpers/wait';

const APPS = ['relaytv-server', ...PEER_IPS.map((n) => `relaytv-peer-${n}`)];

test('demo: pm2 start, every peer receives, the direct overlay crashes 3 times with no refused push, a crashed peer comes back, stop leaves cleanly', { timeout: 180_000 }, async (t) => {
  const demo = await Demo.create(2); // the server's period: what a player shows per chunk
  t.after(() => demo.cleanup());

  const out = await demo.run('start');
  assert.match(out, /npx relaytv dashboard/);
  assert.match(out, new RegExp(`relaytv status --peer 127\\.0\\.0\\.11:${demo.ports.http}`));
  assert.match(out, new RegExp(`127\\.0\\.0\\.1:${demo.ports.metrics}/metrics`));

  await waitFor(() => {
    const apps = demo.jlist();
    return APPS.every((name) => apps.some((a) => a.name === name && a.status === 'online'));
  }, 30_000, 'all 7 apps online');

  await waitFor(async () => {
    const all = await Promise.all(PEER_IPS.map((n) => demo.status(n)));
    return all.every((s) => s.lastSeq !== null);
  }, 40_000, 'every peer receiving chunks');

  // The direct peer of channel 0: its overlay process is SIGKILLed three times (the pid its
  // /status names). Its holder, the process PM2 runs, keeps 9091: the demo server runs under the
  // course server's rule (--fragile), so one refused push would stop the channel for good.
  const ch0 = [11, 12, 13];
  let directN = 0;
  await waitFor(async () => {
    for (const n of ch0) if ((await demo.status(n)).direct) { directN = n; return true; }
    return false;
  }, 20_000, 'a direct peer on channel 0');
  const app = (n: number) => demo.jlist().find((a) => a.name === `relaytv-peer-${n}`)!;
  const holder = app(directN);
  assert.equal((await demo.status(directN)).holderPid, holder.pid, 'PM2 runs the holder; the overlay is its child');
  const lostBefore = new Map<number, number>();
  for (const n of ch0) lostBefore.set(n, (await demo.status(n)).chunksLost);
  for (let round = 1; round <= 3; round++) {
    const { pid, lastSeq } = await demo.status(directN);
    process.kill(pid, 'SIGKILL');
    await waitFor(async () => {
      const s = await demo.status(directN);
      return s.pid !== pid && (s.lastSeq ?? -1) > (lastSeq ?? -1);
    }, 4 * demo.periodS * 1000, `round ${round}: the direct peer's new overlay process receiving`);
  }
  assert.equal(app(directN).pid, holder.pid, 'PM2 did not have to restart anything');
  for (const n of ch0.filter((x) => x !== directN)) {
    const before = (await demo.status(n)).lastSeq ?? -1;
    await waitFor(async () => ((await demo.status(n)).lastSeq ?? -1) > before + 2, 30_000, `peer .${n} still receiving`);
    const lost = (await demo.status(n)).chunksLost - lostBefore.get(n)!;
    assert.ok(lost <= 3, `peer .${n} lost ${lost} chunks over three kills`);
  }
  assert.ok(!(await demo.logs('relaytv-server')).includes('CHANNEL_STOPPED'), 'the channel never stopped');

  // A whole peer (holder and overlay) of channel 1 that is not direct: PM2 restarts it.
  let victimN = 0;
  await waitFor(async () => {
    for (const n of [14, 15, 16]) if (!(await demo.status(n)).direct) { victimN = n; return true; }
    return false;
  }, 20_000, 'a peer of channel 1 that is not direct');
  const victim = app(victimN);
  process.kill(victim.pid, 'SIGKILL');
  await waitFor(() => {
    const a = app(victimN);
    return !!a && a.status === 'online' && a.restarts >= 1 && a.pid !== victim.pid;
  }, 30_000, `pm2 restarting ${victim.name}`);
  let first = -1;
  await waitFor(async () => (first = (await demo.status(victimN)).lastSeq ?? -1) >= 0, 30_000, 'the restarted peer receiving');
  await waitFor(async () => ((await demo.status(victimN)).lastSeq ?? -1) > first, 20_000, 'the restarted peer still receiving');
  for (const n of [...ch0, 14, 15, 16]) {
    const s = await demo.status(n);
    t.diagnostic(`.${n} direct=${s.direct} role=${s.role} lost=${s.chunksLost} reattaches=${s.reattaches} lastReattachMs=${s.lastReattachMs}`);
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
