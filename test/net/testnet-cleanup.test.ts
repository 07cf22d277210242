/**
 * @file testnet-cleanup.test.ts
 * @brief A test file stopped early (Ctrl-C, or the test runner stopping a file that timed out)
 * leaves no process and no folder behind: the processes of a testnet live in process groups
 * of their own, and its exit hook (test/helpers/reaper.ts) kills them and removes its folder.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import readline from 'node:readline';
import { ROOT } from '../helpers/testnet';
import { waitFor } from '../helpers/wait';
import { running } from '../helpers/reaper';


for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  test(`a test process ended by ${sig} kills its testnet's server, holder and overlay processes and removes its folder`, { timeout: 60_000 }, async () => {
    const code = `
      const { Testnet } = require('./test/helpers/testnet');
      (async () => {
        const net = await Testnet.start({ periodS: 0.5 });
        await net.addPeer(1, 2);
        const st = await net.status(1);
        console.log(JSON.stringify({ tmp: net.tmp, pids: [net.server.child.pid, st.holderPid, st.pid] }));
        setInterval(() => undefined, 1000);
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', code], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<number | null>((r) => child.once('exit', (c, s) => r(c ?? (s ? -1 : null))));
    const { tmp, pids } = await new Promise<{ tmp: string; pids: number[] }>((resolve, reject) => {
      readline.createInterface({ input: child.stdout! }).once('line', (l) => resolve(JSON.parse(l)));
      void exited.then((c) => reject(new Error(`the child exited (${c}) before its testnet ran`)));
    });
    try {
      assert.equal(pids.length, 3);
      for (const pid of pids) assert.ok(running(pid), `process ${pid} runs`);
      assert.ok(existsSync(tmp));
      child.kill(sig);
      assert.equal(await exited, 128 + (sig === 'SIGINT' ? 2 : 15), 'the child exits through its hook');
      await waitFor(() => pids.every((pid) => !running(pid)), 10_000, 'every process of the testnet gone');
      assert.ok(!existsSync(tmp), `${tmp} removed`);
    } finally {
      for (const pid of pids) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
  });
}
