/**
 * @file failover.test.ts
 * @brief Failures of the direct peer and the coordinator, with real processes: SIGKILL of a
 * whole peer (holder, overlay, player: 9091 closes), SIGKILL of the direct peer's overlay
 * process alone (its holder keeps 9091) against `relaytv server --fragile` (the course server's
 * rule: one refused push stops the channel for good), a graceful stop under `--fragile`, and a
 * crashed direct peer restarted at once. Every survivor's folder is then read: what it lost
 * (`lost` in helpers/chunks.ts), and that its bytes are the server's files in server order.
 * Relaying hosts that crash, hang or lose their link are the lab's (lab-faults.test.ts).
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { waitFor, sleep } from '../helpers/wait';
import { Testnet } from '../helpers/testnet';
import { ServerOrder, lost } from '../helpers/chunks';
import type { PeerStatus } from '../../src/peer/status';

const order = new ServerOrder();

/** Asserts peer k's bytes are the server's files, numbered in server order across any source change. */
async function assertServerStream(net: Testnet, k: number): Promise<void> {
  assert.deepEqual(await order.problems(net.dir(k), await net.seqs(k), true), [], `peer ${k}: not the server's stream`);
}

/** Waits until every listed peer got `more` chunks beyond its newest now. */
async function advance(net: Testnet, peers: number[], more: number, ms = 60_000): Promise<void> {
  const base = new Map<number, number>();
  for (const k of peers) base.set(k, Math.max(-1, ...(await net.seqs(k))));
  await waitFor(async () => {
    for (const k of peers) if (Math.max(-1, ...(await net.seqs(k))) < base.get(k)! + more) return false;
    return true;
  }, ms, `peers ${peers} to advance ${more} chunks`);
}

/** The peers (of `among`) whose /status matches. */
async function find(net: Testnet, among: number[], pred: (s: PeerStatus) => boolean): Promise<number[]> {
  const out: number[] = [];
  for (const k of among) if (pred(await net.status(k))) out.push(k);
  return out;
}

/** Asserts one overlay: one coordinator named by all, one direct peer. */
async function oneOverlay(net: Testnet, peers: number[]): Promise<void> {
  await waitFor(async () => {
    const st = await Promise.all(peers.map((k) => net.status(k)));
    return new Set(st.map((s) => s.coordinator)).size === 1 && st.filter((s) => s.direct).length === 1;
  }, 20_000, 'one overlay with one direct peer');
}

/** Server log lines that say a push was refused or a channel stopped. */
const refusals = (net: Testnet): string[] => net.server!.log.filter((l) => /CHANNEL_STOPPED|ECONNREFUSED|push failed/.test(l));

test('--fragile: the direct peer\'s overlay process SIGKILLed three times (its holder keeps 9091): the channel lives, each survivor loses at most one chunk, the killed peer receives again within two periods', { timeout: 240_000 }, async () => {
  const periodS = 2;
  // At debug level the server logs every push round and control request (for the diagnostics below).
  const net = await Testnet.start({ maxClients: 1, periodS, fragile: true, logLevel: 'debug' });
  try {
    const all = [1, 2, 3, 4, 5, 6];
    for (const k of all) await net.addPeer(k, 2);
    await advance(net, all, 2, 30_000);
    const [direct] = await find(net, all, (s) => s.direct);
    assert.ok(direct, 'a direct peer');
    const holder = (await net.status(direct)).holderPid;
    assert.ok(holder, 'the direct peer runs under a holder');
    const survivors = all.filter((k) => k !== direct);
    const lostSoFar = async (k: number) => lost(await net.seqs(k), (await net.status(k)).firstSeq);
    const seen = new Map<number, number>();
    for (const k of survivors) seen.set(k, (await lostSoFar(k)).length);
    for (let round = 1; round <= 3; round++) {
      const before = await net.status(direct);
      const killed = await net.signalOverlay(direct, 'SIGKILL');
      const newest = Math.max(...(await net.seqs(direct)));
      // Back within two periods: a new overlay process under the same holder, storing chunks again.
      await waitFor(async () => {
        const st = await net.status(direct).catch(() => null);
        return !!st && st.pid !== killed && Math.max(...(await net.seqs(direct))) > newest;
      }, 2 * periodS * 1000, `round ${round}: the killed peer receiving again`);
      const after = await net.status(direct);
      assert.equal(after.holderPid, holder, 'the same holder kept the data port');
      assert.notEqual(after.pid, before.pid);
      await advance(net, all, 5, 30_000).catch(async (err: Error) => { // past the chunks still in flight at the kill
        for (const k of all) {
          const st = await net.status(k).catch(() => null);
          console.error(`peer ${k}: ${st ? `role ${st.role} direct ${st.direct} lastSeq ${st.lastSeq} upstream ${st.upstream.map((u) => `${u.addr}/${u.stripes}`).join(' ')}` : 'no status'}`);
          for (const l of net.peers.get(k)!.log.filter((x) => /warn|error|"level":[45]0/.test(x)).slice(-8)) console.error(`  ${l.slice(0, 300)}`);
        }
        // Whether the server still pushed, and to whom; what the direct peer did last.
        console.error(`server: ${refusals(net).length} refusals; its last lines:`);
        for (const l of net.server!.log.slice(-12)) console.error(`  ${l.slice(0, 300)}`);
        console.error(`peer ${direct} (direct), its last lines:`);
        for (const l of net.peers.get(direct)!.log.slice(-15)) console.error(`  ${l.slice(0, 300)}`);
        throw err;
      });
      assert.deepEqual(refusals(net), [], `round ${round}: the server saw no refused push`);
      for (const k of survivors) {
        const gone = await lostSoFar(k);
        assert.ok(gone.length - seen.get(k)! <= 1, `round ${round}: peer ${k} lost ${gone.length - seen.get(k)!} chunks (${gone})`);
        seen.set(k, gone.length);
      }
    }
    await oneOverlay(net, all);
    const st = await Promise.all(all.map((k) => net.status(k)));
    assert.equal(st.find((s) => s.direct)?.id, net.ip(direct), 'the restarted peer is the direct peer again');
    for (const k of all) await assertServerStream(net, k);
  } finally {
    await net.stop();
  }
});

test('--fragile: a graceful stop of the direct peer never refuses a push; a survivor takes the slot', { timeout: 120_000 }, async () => {
  const net = await Testnet.start({ maxClients: 1, periodS: 0.5, fragile: true });
  try {
    const all = [1, 2, 3, 4];
    for (const k of all) await net.addPeer(k, 2);
    await advance(net, all, 4);
    const [direct] = await find(net, all, (s) => s.direct);
    net.signal(direct, 'SIGTERM');
    assert.equal(await net.peers.get(direct)!.exited, 0, 'it exits 0');
    const rest = all.filter((k) => k !== direct);
    await advance(net, rest, 6);
    assert.deepEqual(refusals(net), [], 'the server saw no refused push');
    assert.ok(net.server!.log.some((l) => /client left/.test(l)), 'it said 12C before closing 9091');
    await oneOverlay(net, rest);
  } finally {
    await net.stop();
  }
});

test('SIGKILL of the whole direct peer (9091 closes): survivors take the slot, lose at most 2', { timeout: 240_000 }, async () => {
  const net = await Testnet.start({ maxClients: 1, periodS: 0.5 });
  try {
    const alive = [1, 2, 3, 4, 5];
    for (const k of alive) await net.addPeer(k, 2);
    await advance(net, alive, 6);
    const [direct] = await find(net, alive, (s) => s.direct && s.role === 'coordinator');
    assert.ok(direct, 'the direct peer coordinates');
    net.signal(direct, 'SIGKILL');
    alive.splice(alive.indexOf(direct), 1);
    await advance(net, alive, 10);
    const sources = await find(net, alive, (s) => s.role === 'coordinator' && s.direct);
    assert.equal(sources.length, 1, 'exactly one survivor took the server slot');
    for (const k of alive) {
      const gone = lost(await net.seqs(k), (await net.status(k)).firstSeq);
      assert.ok(gone.length <= 2, `peer ${k} lost ${gone.length} chunks: ${gone}`);
      await assertServerStream(net, k);
    }
  } finally {
    await net.stop();
  }
});

test('SIGKILL of the coordinator with a second direct peer: nothing lost', { timeout: 240_000 }, async () => {
  const net = await Testnet.start({ maxClients: 2, periodS: 0.5 });
  try {
    const alive = [1, 2, 3, 4, 5];
    for (const k of alive) await net.addPeer(k, 2);
    await advance(net, alive, 6);
    const [coord] = await find(net, alive, (s) => s.role === 'coordinator');
    net.signal(coord, 'SIGKILL');
    alive.splice(alive.indexOf(coord), 1);
    await advance(net, alive, 10);
    for (const k of alive) {
      assert.deepEqual(await net.lost(k), [], `peer ${k} lost chunks`);
      await assertServerStream(net, k);
    }
  } finally {
    await net.stop();
  }
});

test('the whole direct peer crashes and is restarted at once with its folder: one overlay, continuous numbering', { timeout: 240_000 }, async () => {
  const net = await Testnet.start({ maxClients: 1, periodS: 0.5 });
  try {
    const all = [1, 2, 3, 4];
    for (const k of all) await net.addPeer(k, 2);
    await advance(net, all, 6);
    const [direct] = await find(net, all, (s) => s.direct);
    const old = net.peers.get(direct)!;
    net.signal(direct, 'SIGKILL');
    await old.exited;
    await sleep(100);
    await net.addPeer(direct, 2); // same IP, same folder
    await advance(net, all, 10);
    await oneOverlay(net, all);
    for (const k of all) {
      const gone = lost(await net.seqs(k), (await net.status(k)).firstSeq);
      assert.ok(gone.length <= 2, `peer ${k} lost ${gone.length} chunks: ${gone}`);
      await assertServerStream(net, k);
    }
  } finally {
    await net.stop();
  }
});

test('the coordinator\'s first successor hangs (SIGSTOP) past the silence timeout, then resumes: it rejoins the live coordinator and never takes over', { timeout: 240_000 }, async () => {
  const net = await Testnet.start({ maxClients: 1, periodS: 0.5 });
  try {
    const all = [1, 2, 3, 4];
    for (const k of all) await net.addPeer(k, 2);
    await advance(net, all, 6);
    const [coord] = await find(net, all, (s) => s.role === 'coordinator');
    // A member's /status lists its view: the coordinator, then the successors in order.
    const other = all.find((k) => k !== coord)!;
    const first = (await net.status(other)).members[1]?.id;
    const hung = all.find((k) => net.ip(k) === first);
    assert.ok(hung !== undefined && hung !== coord, `the first successor (${first}) is a member`);
    const took = (): number => net.peers.get(hung)!.log.filter((l) => l.includes('coordinator role taken')).length;
    const before = took();
    net.signal(hung, 'SIGSTOP');
    // The coordinator drops it for silence and closes its links (what it finds on waking up).
    await waitFor(async () => !(await net.status(coord)).members.some((m) => m.id === net.ip(hung)), 20_000, `the coordinator dropping the hung peer ${hung}`);
    await sleep(1000);
    net.signal(hung, 'SIGCONT');
    await advance(net, all, 10);
    await oneOverlay(net, all);
    assert.equal(took(), before, `peer ${hung} took the coordinator role over from a coordinator that lives`);
    for (const k of all) {
      assert.deepEqual(await net.lost(k), [], `peer ${k} lost chunks`);
      await assertServerStream(net, k);
    }
  } finally {
    await net.stop();
  }
});
