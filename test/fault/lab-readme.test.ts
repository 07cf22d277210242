/**
 * The README's several-machines setup, run exactly as written: the fenced block of the section
 * "On several machines, and with the course's server" is read from README.md, its placeholders
 * (SERVER_IP, PEER_IP, CHUNK_DIR) replaced by lab addresses and folders, and each command run
 * with `sh -c` in a host of the lab: the server command on the server host, the peer command on
 * four peer hosts (the first, then the three others together), the status command from
 * another host. Every peer must receive with no hole, the server's bytes in server order, in
 * one overlay with one direct peer, and the status command must list the peer's connections.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Lab, labUnavailable } from '../helpers/lab';
import { ROOT } from '../helpers/testnet';
import { ServerOrder, holes } from '../helpers/chunks';
import { waitFor, within } from '../helpers/wait';

const SECTION = "## On several machines, and with the course's server";
const PEERS = [1, 2, 3, 4];

/** The commands of the section's first fenced block, without comments and blank lines. */
function readmeCommands(): { server: string; peer: string; status: string } {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const at = readme.indexOf(SECTION);
  assert.ok(at >= 0, `README.md has the section "${SECTION}"`);
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(at))?.[1];
  assert.ok(block, 'the section has a ```sh block');
  const lines = block.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const one = (what: string) => {
    const found = lines.filter((l) => l.includes(`relaytv ${what} `));
    assert.equal(found.length, 1, `the block has one \`relaytv ${what}\` command`);
    return found[0];
  };
  const cmds = { server: one('server'), peer: one('peer'), status: one('status') };
  assert.equal(lines.length, 3, `the block has only these three commands: ${lines.join(' | ')}`);
  return cmds;
}

/** Replaces the placeholders; fails if a placeholder-looking word is left. */
function fill(cmd: string, values: Record<string, string>): string {
  let out = cmd;
  for (const [k, v] of Object.entries(values)) out = out.split(k).join(v);
  assert.doesNotMatch(out, /\b[A-Z][A-Z_]*_(IP|DIR)\b/, `every placeholder of "${cmd}" is known`);
  return out;
}

const why = labUnavailable();

test("README: the several-machines setup, run as written on a server host and four peer hosts",
  { skip: why ? `cannot run the lab: ${why}` : false, timeout: 180_000 }, async (t) => {
    const cmds = readmeCommands();
    const t0 = Date.now();
    const el = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
    const lab = await Lab.start({ server: false });
    try {
      const server = fill(cmds.server, { SERVER_IP: lab.server.ip });
      t.diagnostic(`${el()} ${lab.server.name} (${lab.server.ip}): ${server}`);
      lab.spawnIn(lab.server, ['sh', '-c', server]);
      await waitFor(() => lab.server.log.some((l) => l.includes('server listening')), 30_000, 'the README server to listen');
      t.diagnostic(`${el()} server listening`);
      // The first viewer founds the overlay; the others start together.
      for (const ks of [PEERS.slice(0, 1), PEERS.slice(1)]) {
        await Promise.all(ks.map(async (k) => {
          const h = await lab.addHost(k);
          const peer = fill(cmds.peer, { SERVER_IP: lab.server.ip, PEER_IP: h.ip, CHUNK_DIR: h.dir });
          t.diagnostic(`${el()} ${h.name} (${h.ip}): ${peer}`);
          lab.spawnIn(h, ['sh', '-c', peer]);
          await waitFor(() => h.log.some((l) => l.includes('peer started')), 30_000, `the README peer on ${h.name} to start`);
        }));
      }
      t.diagnostic(`${el()} every peer started`);
      // Every peer receives: five chunks at the server's default 2 s period.
      await waitFor(async () => (await Promise.all(PEERS.map((k) => lab.seqs(k)))).every((s) => s.length >= 5), 90_000, 'every README peer to store 5 chunks');
      t.diagnostic(`${el()} every peer stored 5 chunks`);
      const order = new ServerOrder();
      for (const k of PEERS) {
        const seqs = await lab.seqs(k);
        assert.deepEqual(holes(seqs, [], 1), [], `${lab.ip(k)} has no hole (chunks ${seqs.join(',')})`);
        assert.deepEqual(await order.problems(lab.dir(k), seqs), [], `${lab.ip(k)}: the server's chunks in server order`);
      }
      const sts = await Promise.all(PEERS.map((k) => lab.status(k)));
      assert.equal(new Set(sts.map((s) => s.coordinator)).size, 1, 'one overlay');
      assert.equal(sts.filter((s) => s.direct).length, 1, 'one direct peer (the server takes one client per channel)');
      // The status command, from another machine of the LAN (the lab's probe host).
      const status = fill(cmds.status, { PEER_IP: lab.ip(PEERS[0]) });
      t.diagnostic(`${lab.ctl.name} (${lab.ctl.ip}): ${status}`);
      const mark = lab.ctl.log.length;
      const p = lab.spawnIn(lab.ctl, ['sh', '-c', status]);
      const code = await within(p.exited, 30_000, 'no exit within 30 s');
      const out = lab.ctl.log.slice(mark).join('\n');
      t.diagnostic(`${el()} ${out}`);
      assert.equal(code, 0, `the status command exits 0: ${out}`);
      assert.match(out, new RegExp(`peer ${lab.ip(PEERS[0]).replace(/\./g, '\\.')}`));
      assert.match(out, /Connections/);
      assert.match(out, /Files waiting to be shown/);
    } finally {
      await lab.stop();
      t.diagnostic(`${el()} lab stopped`);
    }
  });
