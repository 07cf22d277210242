/**
 * Tier 3: our server (1 direct client) and 8 peers on 127.0.0.x with 2 slots each, each in its
 * own process. Every peer stores every chunk since it joined, byte-identical to the server's
 * files in server order, with no gap; no peer exceeds its slots; /status and `relaytv status`
 * show the real connections; peers leave gracefully without a refused push.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { waitFor } from '../helpers/wait';
import { Testnet, CLI } from '../helpers/testnet';
import { ServerOrder, lost } from '../helpers/chunks';

test('8 peers with 2 slots: every chunk, byte-identical, in server order, no gap, slots kept', { timeout: 180_000 }, async () => {
  const net = await Testnet.start({ maxClients: 1, periodS: 0.5 });
  try {
    for (let k = 1; k <= 8; k++) await net.addPeer(k, 2);
    // Let the last joiner receive at least 12 chunks.
    await waitFor(async () => (await net.seqs(8)).length >= 12, 60_000, 'peer 8 to receive 12 chunks');
    const order = new ServerOrder();
    const statuses = await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map((k) => net.status(k)));
    for (let k = 1; k <= 8; k++) {
      const seqs = await net.seqs(k);
      assert.ok(seqs.length >= 12, `peer ${k} has ${seqs.length} chunks`);
      assert.deepEqual(lost(seqs, statuses[k - 1].firstSeq, 0), [], `peer ${k} lost chunks`);
      // Each file is a server file (read: no player deletes them), consecutive sequences are
      // consecutive server files.
      assert.deepEqual(await order.problems(net.dir(k), seqs, true), [], `peer ${k}: not the server's stream`);
      const st = statuses[k - 1];
      assert.ok(st.downstream.length <= 2, `peer ${k} has ${st.downstream.length} children`);
      const edges = st.downstream.reduce((n, d) => n + d.stripes.length, 0);
      assert.ok(edges <= 2, `peer ${k} serves ${edges} stripe edges`);
      assert.equal(st.rejected, 0);
    }
    // Exactly one peer is the direct source; the others receive from peers.
    assert.equal(statuses.filter((s) => s.direct).length, 1);
    // Every downstream link is mirrored by an upstream link at the other end.
    for (const st of statuses) {
      for (const d of st.downstream) {
        const child = statuses.find((c) => d.addr.startsWith(`${c.id}:`))!;
        assert.ok(child.upstream.some((u) => u.addr.startsWith(`${st.id}:`)), `${st.id} -> ${child.id} not seen upstream`);
      }
    }
    // `relaytv status` prints the two lists of the seed.
    const out = execFileSync(process.execPath, [CLI, 'status', '--peer', `${net.ip(4)}:${net.httpPort}`], { encoding: 'utf8' });
    assert.match(out, /Connections/);
    assert.match(out, /from 127\.0\.0\.\d+:\d+/);
    assert.match(out, /Files waiting to be shown \(\d+\)/);
    assert.match(out, /\d{8}\.mkv/);
    // Graceful leave of everyone: the server never logs a failed push.
    for (let k = 8; k >= 1; k--) net.signal(k, 'SIGTERM');
    const codes = await Promise.all([...net.peers.values()].map((p) => p.exited));
    assert.deepEqual(codes, codes.map(() => 0));
    const refused = net.server!.log.filter((l) => /push failed|removed/.test(l));
    assert.deepEqual(refused, [], 'the server saw a refused push');
    assert.ok(net.server!.log.some((l) => /client left/.test(l)), 'the direct peer sent 12C');
  } finally {
    await net.stop();
  }
});

test('a peer without --slots on a non-terminal stdin fails clearly', () => {
  let err = '';
  try {
    execFileSync(process.execPath, [CLI, 'peer', '--ip', '127.0.0.99', '--no-tui'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    err = String((e as { stderr: string }).stderr);
  }
  assert.match(err, /--slots is required/);
});

test('the player process of a peer, SIGKILLed, is restarted and shows chunks again', { timeout: 90_000 }, async () => {
  const net = await Testnet.start({ maxClients: 1, periodS: 0.5 });
  try {
    await net.addPeer(1, 2, ['--player', 'null']);
    const players = (): number[] => {
      try {
        return execFileSync('pgrep', ['-f', `player --dir ${net.dir(1)} `], { encoding: 'utf8' }).trim().split('\n').map(Number).filter(Boolean);
      } catch {
        return [];
      }
    };
    await waitFor(async () => players().length === 1 && ((await net.status(1)).player?.played ?? 0) >= 2, 30_000, 'the player to show 2 chunks');
    const [first] = players();
    process.kill(first, 'SIGKILL');
    await waitFor(() => net.peers.get(1)!.log.some((l) => l.includes('player exited: restarting it')), 10_000, 'the peer to see its player die');
    await waitFor(() => players().length === 1 && players()[0] !== first, 10_000, 'a new player process');
    // Chunks stored since the kill waited in the folder; the new player takes them (shows them,
    // or skips the oldest when far behind: these chunks come every 0.5 s), deleting each.
    const waiting = (await net.status(1)).pending;
    assert.ok(waiting.length > 0, 'chunks waited for the new player');
    await waitFor(async () => {
      const now = (await net.status(1)).pending;
      return waiting.every((f) => !now.includes(f));
    }, 30_000, 'the new player to take the chunks that waited');
  } finally {
    await net.stop();
  }
});
