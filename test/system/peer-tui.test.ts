/**
 * @file peer-tui.test.ts
 * @brief The peer's own screen on a real terminal (tmux): connections and files waiting are
 *        shown, logs go to `<dir>.log` instead of the screen, and `q` leaves and exits.
 *
 * A testnet server plus one headless peer; the peer under test runs in a detached tmux pane
 * on a private socket (`-L`), so it has real TTYs. Cleanup kills the tmux server and the testnet.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Testnet, CLI, ROOT } from '../helpers/testnet';
import { waitFor } from '../helpers/wait';

/** @brief Runs tmux on our private socket. @param sock Socket name. @param args tmux arguments. */
function tmux(sock: string, ...args: string[]): string {
  return execFileSync('tmux', ['-L', sock, '-f', '/dev/null', ...args], { encoding: 'utf8' });
}

/** @brief Process ids whose parent is `ppid` (the pane's shell → the peer). @param ppid Parent pid. */
function childrenOf(ppid: number): number[] {
  const r = spawnSync('ps', ['-o', 'pid=', '--ppid', String(ppid)], { encoding: 'utf8' });
  return (r.stdout ?? '').split('\n').map((l) => Number(l.trim())).filter((n) => n > 0);
}

test('peer screen under tmux: connections, files waiting, q leaves', { timeout: 90_000 }, async (t) => {
  const net = await Testnet.start({ periodS: 0.5 });
  const sock = `relaytv-tui-${process.pid}-${Date.now()}`;
  let shellPid = 0;
  t.after(async () => {
    for (const pid of shellPid ? childrenOf(shellPid) : []) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    spawnSync('tmux', ['-L', sock, 'kill-server'], { stdio: 'ignore' });
    await fs.rm(path.join(process.env.TMUX_TMPDIR ?? '/tmp', `tmux-${process.getuid?.() ?? 0}`, sock), { force: true });
    await net.stop();
  });

  const ip = net.ip(1);
  const dir = net.dir(1);
  const cmd = [process.execPath, CLI, 'peer', '--ip', ip, '--server', `127.0.0.1:${net.serverPort}`, '--data-port', String(net.dataPort),
    '--p2p-port', String(net.p2pPort), '--http-port', String(net.httpPort), '--slots', '2', '--dir', dir, '--player', 'none'].join(' ');
  // After the peer exits, the pane stays alive to show its exit code.
  const shell = `cd ${ROOT} && env NCURSES_NO_UTF8_ACS=1 RELAYTV_LOG=info ${cmd}; echo "peer-exit=$?"; sleep 120`;
  tmux(sock, 'new-session', '-d', '-s', 'peer', '-x', '140', '-y', '40', shell);
  shellPid = Number(tmux(sock, 'display-message', '-p', '-t', 'peer', '#{pane_pid}').trim());
  const capture = () => tmux(sock, 'capture-pane', '-p', '-t', 'peer');

  // The peer under tmux joins first (direct, source); a second peer relays from it.
  await waitFor(async () => (await net.status(1)).lastSeq !== null, 20_000, 'the tmux peer receiving');
  await net.addPeer(2, 2);
  await waitFor(() => /Connections \[c\]: 1 from, 1 to/.test(capture()), 20_000, 'the screen listing one upstream and one downstream');
  await waitFor(() => /Received files waiting for display \[f\]: [1-9]/.test(capture()) && /\d{8}\.mkv/.test(capture()),
    15_000, 'the screen listing files waiting');
  const screen = capture();
  assert.match(screen, new RegExp(`peer ${ip.replaceAll('.', '\\.')}`));
  assert.match(screen, new RegExp(`to\\s+${net.ip(2).replaceAll('.', '\\.')}:${net.p2pPort}`), 'the downstream peer is listed');
  assert.doesNotMatch(screen, /"level":/, 'no log line over the screen');
  const logText = await fs.readFile(`${dir}.log`, 'utf8');
  assert.match(logText, /peer started/, 'logs go to <dir>.log');

  tmux(sock, 'send-keys', '-t', 'peer', 'q');
  await waitFor(() => /peer-exit=0/.test(capture()), 15_000, 'the peer exiting 0 after q');
  assert.match(capture(), /leaving the channel/);
  assert.ok(net.server!.log.some((l) => l.includes('"client left"') && l.includes(ip)), 'the server got the 12C leave');
  assert.match(await fs.readFile(`${dir}.log`, 'utf8'), /"why":"quit key".*leaving the channel/);
});
