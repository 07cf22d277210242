/**
 * @file dashboard.test.ts
 * @brief The dashboards in a real terminal: tmux runs `relaytv dashboard` against three fake
 * peers (and the peer screen with a static status), capture-pane reads the screen, send-keys quits.
 *
 * Every wait polls the screen up to a bound; nothing asserts on wall-clock time.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { waitFor } from '../helpers/wait';
import { makeStatus, startFakePeer, type FakePeer } from '../helpers/fakepeer';
import { edges, share, sharePercent, summary } from '../../src/tui/model';
import type { PeerStatus } from '../../src/tui/types';

const root = path.resolve(__dirname, '../..');
const socket = `relaytv-test-${process.pid}`;
const base = 130 + (process.pid % 40) * 3;
const ips = [base, base + 1, base + 2].map((n) => `127.0.0.${n}`);
const fakes: FakePeer[] = [];
let dir = '';

/** Runs tmux on the test's own socket. */
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
/** The visible text of a session. */
const capture = (s: string) => { try { return tmux('capture-pane', '-p', '-t', s); } catch { return ''; } };

/** Waits until the screen shows what `check` looks for; a timeout prints the last screen. */
async function shows(what: string, check: () => boolean, screen: () => string, ms = 20_000): Promise<void> {
  await waitFor(check, ms, what, 200).catch((err: Error) => assert.fail(`${err.message}; screen:\n${screen()}`));
}

/** Starts `script` (a .ts file) in a detached 160x50 session; its exit status lands in `<name>.exit`. */
function run(name: string, script: string): string {
  const exit = path.join(dir, `${name}.exit`);
  const cmd = `cd '${root}' && NCURSES_NO_UTF8_ACS=1 node --import tsx '${script}' 2>'${dir}/${name}.err'; echo $? > '${exit}'; sleep 30`;
  tmux('new-session', '-d', '-s', name, '-x', '160', '-y', '50', cmd);
  return exit;
}

/** Writes a .ts script into the temp dir; `$ROOT` becomes the repository path. */
function script(name: string, body: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, body.replaceAll('$ROOT', root));
  return file;
}

/** Status of fake peer `i`: peer 0 is the source and sends to the two others. */
function statusOf(i: number, port: number, over: Partial<PeerStatus> = {}): PeerStatus {
  const members = ips.map((ip) => ({ id: ip, ip, p2pPort: 9092, httpPort: port, slots: 3 }));
  return makeStatus(ips[i], {
    members, role: i === 0 ? 'coordinator' : 'member', direct: i === 0, epoch: 2,
    bytesSent: (i + 1) * 1_572_864, rateSent: (i + 1) * 100_000,
    downstream: i === 0 ? [{ addr: `${ips[1]}:9092`, bytes: 1_572_864, stripes: [0, 1] }, { addr: `${ips[2]}:9092`, bytes: 3_145_728, stripes: [2] }] : [],
    upstream: i === 0 ? [] : [{ addr: `${ips[0]}:9092`, bytes: 1_048_576, stripes: [i] }],
    pending: [`0000010${i}.mkv`, `0000011${i}.mkv`],
    ...over,
  });
}

before(async () => {
  assert.equal(spawnSync('tmux', ['-V']).status, 0, 'tmux is not installed (apt-get install tmux)');
  dir = mkdtempSync(path.join(tmpdir(), 'relaytv-dash-'));
  for (let attempt = 0; fakes.length < 3 && attempt < 5; attempt++) {
    const first = await startFakePeer(ips[0], 0, makeStatus(ips[0]));
    try {
      fakes.push(first, await startFakePeer(ips[1], first.port, statusOf(1, first.port)), await startFakePeer(ips[2], first.port, statusOf(2, first.port)));
      fakes[0].set(statusOf(0, first.port));
    } catch {
      await Promise.all(fakes.splice(0).map((f) => f.close())); // port taken on another IP: try another
    }
  }
  assert.equal(fakes.length, 3, 'could not bind three fake peers on one port');
});

after(async () => {
  try { tmux('kill-server'); } catch { /* no server left */ }
  await Promise.all(fakes.map((f) => f.close()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('model: edges, fair share, gauge percent, summary', () => {
  const peers = [0, 1, 2].map((i) => statusOf(i, 9093));
  assert.deepEqual(edges(peers).map((e) => `${e.from}>${e.to}`), [`${ips[0]}>${ips[1]}:9092`, `${ips[0]}>${ips[2]}:9092`]);
  assert.equal(share(peers), 200_000);
  assert.equal(sharePercent(100_000, 200_000), 50);
  assert.equal(sharePercent(300_000, 200_000), 100);
  assert.equal(sharePercent(0, 0), 0);
  assert.match(summary(peers, ['10.0.0.1:9093']), /3 peer\(s\) up, 1 down/);
});

const dashScript = (peer: string) => `const { Command } = require('$ROOT/node_modules/commander');
import { registerDashboard } from '$ROOT/src/cli/dashboard';
const program = new Command('relaytv');
registerDashboard(program);
program.parseAsync(['node', 'relaytv', 'dashboard', '--peer', '${peer}']);
`;

test('dashboard without a TTY prints a plain summary once and exits 0', async () => {
  const file = script('dash-plain.ts', dashScript(fakes[0].addr));
  // async: the fake peers live in this process and must keep answering (rejects on exit != 0)
  const r = await promisify(execFile)(process.execPath, ['--import', 'tsx', file], { cwd: root, encoding: 'utf8', timeout: 20_000 });
  for (const ip of ips) assert.ok(r.stdout.includes(ip), `summary lacks ${ip} (found through members):\n${r.stdout}`);
  assert.match(r.stdout, /00000100\.mkv/);
});

test('dashboard in tmux: overlay, bytes, pending files, keys, live updates, q quits', async () => {
  const exit = run('dash', script('dash.ts', dashScript(fakes[0].addr)));
  const screen = () => capture('dash');
  const has = (...parts: string[]) => () => parts.every((p) => screen().includes(p));
  // only peer 0 was given: the other two come from its members list
  await shows('all three peers', has(...ips.map((ip) => `${ip} x`)), screen);
  await shows('edges with bytes', has(`${ips[1]}:9092`, '1.5 MB', '3.0 MB', 'upstream', 'downstream'), screen);
  await shows('pending files', has('00000100.mkv', '00000101.mkv', '00000102.mkv'), screen);
  await shows('key hints', has('q / Esc / C-c quit', 'r refresh'), screen);
  await shows('the panels', has('Send rate vs share', 'Bytes sent per peer', 'Send rate (KB/s)', 'Pending files', 'Log'), screen);
  fakes[1].set(statusOf(1, fakes[0].port, { pending: ['00000777.mkv'] }));
  await shows('the next poll to show a new pending file', has('00000777.mkv'), screen);
  tmux('send-keys', '-t', 'dash', 'q');
  await shows('the dashboard to exit', () => existsSync(exit) && readFileSync(exit, 'utf8').trim() !== '', screen);
  assert.equal(readFileSync(exit, 'utf8').trim(), '0', readFileSync(path.join(dir, 'dash.err'), 'utf8'));
});

test('peer screen in tmux: connections, files waiting, header, c/f focus, q calls onQuit', async () => {
  const file = script('peer.ts', `import { writeFileSync } from 'node:fs';
import { startPeerScreen } from '$ROOT/src/tui/peerScreen';
import { makeStatus } from '$ROOT/test/helpers/fakepeer';
const s = makeStatus('127.0.0.12', { direct: true, epoch: 4, bytesSent: 2_621_440, bytesReceived: 5_242_880,
  upstream: [{ addr: '127.0.0.11:9092', bytes: 5_242_880, stripes: [0, 1] }],
  downstream: [{ addr: '127.0.0.13:9092', bytes: 1_048_576, stripes: [0] }, { addr: '127.0.0.14:9092', bytes: 1_572_864, stripes: [1] }],
  pending: ['00000007.mkv', '00000008.mkv'] });
startPeerScreen(() => s, { onQuit: () => { writeFileSync('${dir}/peer.quit', 'onQuit'); process.exit(0); } });
`);
  const exit = run('peer', file);
  const screen = () => capture('peer');
  const has = (...parts: string[]) => () => parts.every((p) => screen().includes(p));
  await shows('the header line', has('peer 127.0.0.12', 'direct yes', 'role member', 'epoch 4', 'sent 2.5 MB', 'received 5.0 MB'), screen);
  await shows('connections both ways with bytes', has('from  127.0.0.11:9092', '5.0 MB', 'to    127.0.0.13:9092', '1.0 MB', '127.0.0.14:9092', '1.5 MB'), screen);
  await shows('files waiting', has('00000007.mkv', '00000008.mkv', 'waiting for display'), screen);
  await shows('key hints', has('c connections', 'f files', 'q / Esc / C-c quit'), screen);
  tmux('send-keys', '-t', 'peer', 'f');
  tmux('send-keys', '-t', 'peer', 'c');
  tmux('send-keys', '-t', 'peer', 'q');
  await shows('the peer screen to exit', () => existsSync(exit) && readFileSync(exit, 'utf8').trim() !== '', screen);
  assert.equal(readFileSync(exit, 'utf8').trim(), '0', readFileSync(path.join(dir, 'peer.err'), 'utf8'));
  assert.equal(readFileSync(path.join(dir, 'peer.quit'), 'utf8'), 'onQuit');
});
