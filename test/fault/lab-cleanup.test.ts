/**
 * The lab cleans up after itself and after others: a run killed with SIGKILL leaves its
 * namespaces and a peer process behind, and the next lab's start removes them (and nothing
 * else); a run that exits without stop() is cleaned by its exit hook; stop() leaves no
 * namespace, process or folder; nothing is ever added to the root namespace; and a lab host
 * has no route out of the lab.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import readline from 'node:readline';
import { Lab, labUnavailable, LAB_PREFIX } from '../helpers/lab';
import { ROOT } from '../helpers/testnet';
import { within, waitFor } from '../helpers/wait';
import { running } from '../helpers/reaper';

const why = labUnavailable();
const skip = why ? `cannot run the lab: ${why}` : false;

/** Namespaces and root-namespace links now. */
function snapshot(): { ns: string[]; links: string[] } {
  const ns = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.split(' ')[0]).filter(Boolean);
  const links = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.split(':')[1]?.trim()).filter(Boolean);
  return { ns, links };
}

/** A lab run by a child process. */
interface ChildLab { run: string; peerPids: number[]; exited: Promise<number | null>; kill: () => void }

/**
 * Starts a lab with one peer in a child process; resolves once the peer runs. `then`: what the
 * child does next (`hang`: waits to be killed; `exit`: exits at once without stop()).
 */
function childLab(then: 'hang' | 'exit'): Promise<ChildLab> {
  const code = `
    const { Lab } = require('./test/helpers/lab');
    (async () => {
      const lab = await Lab.start({ periodS: 0.5 });
      await lab.addPeer(1, 2);
      console.log(JSON.stringify({ run: lab.run, peerPids: await lab.host(1).pids() }));
      ${then === 'exit' ? 'process.exit(0);' : 'setInterval(() => undefined, 1000);'}
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', code], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  return new Promise((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).once('line', (l) => {
      const { run, peerPids } = JSON.parse(l) as { run: string; peerPids: number[] };
      resolve({ run, peerPids, exited, kill: () => child.kill('SIGKILL') });
    });
    void exited.then((c) => reject(new Error(`the child lab exited (${c}) before it ran`)));
  });
}


test('lab cleanup: a SIGKILLed run is removed by the next start; stop() and the exit hook leave nothing; no route out',
  { skip, timeout: 120_000 }, async (t) => {
    const before = snapshot();
    // A run killed with SIGKILL: its namespaces and its peer survive it.
    const crashed = await childLab('hang');
    crashed.kill();
    await crashed.exited;
    const mine = (run: string) => snapshot().ns.filter((n) => n.startsWith(`${LAB_PREFIX}-${run}-`));
    assert.ok(mine(crashed.run).length >= 4, 'the crashed run left its namespaces (sw, ctl, srv, h1)');
    assert.ok(crashed.peerPids.every(running), 'and its peer still runs');
    // A foreign namespace that merely looks alike is not ours to remove.
    const foreign = `${LAB_PREFIX}-${process.pid}-zzzz-keep`;
    spawnSync('ip', ['netns', 'add', foreign]);
    const lab = await Lab.start({ periodS: 0.5 });
    try {
      t.diagnostic(`removed at start: ${lab.leftovers.join(', ')}`);
      assert.deepEqual(mine(crashed.run), [], 'the next start removed every namespace of the crashed run');
      await waitFor(() => crashed.peerPids.every((p) => !running(p)), 5000, 'the processes left inside to be killed');
      assert.ok(snapshot().ns.includes(foreign), 'a namespace of a live owner is kept');
      // Isolation: the hosts have only the lab's /24; the root namespace got nothing.
      await lab.addPeer(1, 2);
      const route = await lab.exec(1, 'ip', 'route', 'get', '1.1.1.1').then(() => 'routed', (e: Error) => e.message);
      assert.match(route, /unreachable/i, 'a lab host has no route out of the lab');
      const added = snapshot().links.filter((l) => !before.links.includes(l));
      assert.deepEqual(added.filter((l) => /^(br0|srv|ctl|h\d+|eth0)(@|$)/.test(l)), [], 'no lab link was added to the root namespace');
    } finally {
      await lab.stop();
      spawnSync('ip', ['netns', 'del', foreign]);
    }
    assert.deepEqual(mine(lab.run), [], 'stop() removed every namespace of the run');
    assert.ok(!existsSync(lab.tmp), 'and its folder');
    // A run that exits without stop(): its exit hook removes everything.
    const exited = await childLab('exit');
    assert.equal(await within(exited.exited, 20_000, 'still running'), 0);
    assert.deepEqual(mine(exited.run), [], 'the exit hook removed every namespace of a run that exited without stop()');
    await waitFor(() => exited.peerPids.every((p) => !running(p)), 5000, 'the processes of a run that exited to be killed');
  });
