/**
 * @file systemd.test.ts
 * @brief A peer on a real host, as docs/systemd sets it up: the socket and service units pass
 * `systemd-analyze verify`; a peer started with its data port from systemd (LISTEN_FDS, here
 * through `systemd-socket-activate`, which passes a listening socket exactly as a .socket unit
 * does) runs without a holder, joins and relays; `--server` given as a host name is resolved once
 * and the pushes from that address are taken.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Testnet, CLI, ROOT } from '../helpers/testnet';
import { waitFor } from '../helpers/wait';

const UNITS = path.join(ROOT, 'docs', 'systemd');
const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

test('the systemd units of docs/systemd pass systemd-analyze verify', { skip: !have('systemd-analyze') && 'systemd-analyze not installed' }, () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'relaytv-units-'));
  try {
    for (const f of ['relaytv-peer@.socket', 'relaytv-peer@.service']) copyFileSync(path.join(UNITS, f), path.join(tmp, f));
    // The unit names /usr/bin/relaytv (a global install); here it is this checkout's bin.
    const service = path.join(tmp, 'relaytv-peer@.service');
    writeFileSync(service, readFileSync(service, 'utf8').replace('/usr/bin/relaytv', `${process.execPath} ${path.join(ROOT, 'bin/relaytv.js')}`));
    const r = spawnSync('systemd-analyze', ['verify', './relaytv-peer@192.0.2.7.socket', './relaytv-peer@192.0.2.7.service'], { cwd: tmp, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.trim(), '', 'no warning');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('a peer given its data port by systemd (LISTEN_FDS) runs without a holder, joins and relays; --server as a host name', { skip: !have('systemd-socket-activate') && 'systemd-socket-activate not installed', timeout: 90_000 }, async (t) => {
  const tn = await Testnet.start({ maxClients: 1, periodS: 0.5 });
  const ip = tn.ip(1);
  // The service's command line (docs/systemd/relaytv-peer@.service) with this testnet's ports,
  // and the server named by a host name.
  const child = spawn('systemd-socket-activate', ['-l', `${ip}:${tn.dataPort}`, '-E', 'RELAYTV_LOG=info', process.execPath, CLI, 'peer', '--ip', ip,
    '--server', `localhost:${tn.serverPort}`, '--channel', '0', '--slots', '2', '--dir', tn.dir(1), '--player', 'none', '--no-tui',
    '--p2p-port', String(tn.p2pPort), '--http-port', String(tn.httpPort), '--data-port', String(tn.dataPort)],
  { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const log: string[] = [];
  child.stdout.on('data', (b: Buffer) => log.push(b.toString()));
  child.stderr.on('data', (b: Buffer) => log.push(b.toString()));
  t.after(async () => {
    try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ }
    await tn.stop();
  });
  // systemd-socket-activate starts the service on the first connection, as a socket unit does
  // by default: that first connection comes from a stranger, and is closed unread.
  await waitFor(() => /Listening on/.test(log.join('')), 10_000, 'the socket listening');
  await new Promise<void>((resolve) => {
    const s = net.connect({ host: ip, port: tn.dataPort, localAddress: '127.0.0.99' }, () => s.end('x'));
    s.on('close', () => resolve());
    s.on('error', () => resolve());
  });
  await waitFor(() => log.join('').includes('peer started'), 15_000, 'the peer starting');
  await waitFor(async () => (await tn.status(1)).lastSeq !== null, 20_000, 'the peer receiving from the server');
  const st = await tn.status(1);
  assert.equal(st.holderPid, null, 'no holder: systemd holds the data port');
  assert.equal(st.pid, child.pid, 'systemd-socket-activate execs the peer itself');
  assert.ok(st.direct, 'it holds the server slot');
  assert.match(log.join(''), /STRANGER_PUSH/, 'the first connection, from a stranger, was closed');
  // A second peer joins through it and receives.
  await tn.addPeer(2, 2);
  await waitFor(async () => (await tn.seqs(2)).length >= 4, 30_000, 'the second peer receiving through the first');
});
