/**
 * @file faults.ts
 * @brief Faults from the kernel, injected into lab hosts and healed: one function per fault.
 *
 * | fault | inject | heal |
 * |---|---|---|
 * | partition A <-> B | nft in A and B: drop every packet to and from the other | delete both tables |
 * | reset A <-> Cs | nft in A: reject with tcp reset every TCP packet (but resets) to and from the Cs | delete the table |
 * | loss P % on A | nft in A: `numgen random mod 100 < P drop`, in and out | delete the table |
 * | throttle A | tc tbf on A's eth0 (its uplink) below the stream's rate | delete the qdisc |
 * | hang A | SIGSTOP every process of A | SIGCONT |
 * | crash A | SIGKILL every process of A | start its peer again with its folder |
 * | link down A | `ip link set eth0 down` in A | `up` |
 *
 * The drops of `loss` hit the 64 KB GSO segments of the veth, not wire packets (TESTING.md):
 * TCP stalls are real, the percentage is of segments. Each nft fault has its own table, so
 * faults on one host heal independently.
 */
import type { Lab } from './lab';

/** The kinds of fault. */
export const FAULT_KINDS = ['partition', 'reset', 'loss', 'throttle', 'hang', 'crash', 'linkdown'] as const;
/** One kind of fault. */
export type FaultKind = typeof FAULT_KINDS[number];

/** A fault in place. */
export interface ActiveFault {
  kind: FaultKind;
  /** Host the fault is on. */
  host: number;
  /** Hosts on the other side of a cut (partition: B; reset: the children). */
  peers: number[];
  /** For the log: what was done, with the pids signalled. */
  what: string;
  /** When it was injected / healed (epoch ms). */
  injectedMs: number;
  healedMs: number | null;
  /** Undoes it (idempotent). */
  heal(): Promise<void>;
}

/** Tunables of the faults (defaults: what the fault tests use). */
export interface FaultOptions {
  /** Loss: percentage of segments dropped (default 20). */
  lossPct?: number;
  /** Throttle: tbf rate (default 1mbit; the sample stream is ~2.4 Mbit/s at a 0.5 s period, one stripe half). */
  rate?: string;
}

/** @brief nft chains dropping or resetting traffic to and from `ips`, or a random share of all. */
function rules(verdict: string, ips: string[] | null): string {
  const set = ips ? `{ ${ips.join(', ')} }` : '';
  const out = ips ? `ip daddr ${set} ${verdict}` : verdict;
  const inn = ips ? `ip saddr ${set} ${verdict}` : verdict;
  return [
    `  chain out { type filter hook output priority 0; policy accept; ${out}; }`,
    `  chain in { type filter hook input priority 0; policy accept; ${inn}; }`,
  ].join('\n');
}

/** @brief Builds the ActiveFault record (`t0`: when injecting began); `undo` runs once. */
function active(kind: FaultKind, t0: number, host: number, peers: number[], what: string, undo: () => Promise<void>): ActiveFault {
  let done: Promise<void> | null = null;
  const f: ActiveFault = {
    kind, host, peers, what, injectedMs: t0, healedMs: null,
    heal: () => (done ??= undo().then(() => { f.healedMs = Date.now(); })),
  };
  return f;
}

/**
 * @brief Injects a fault of `kind` on host `a`.
 * @param lab The lab. @param kind Which fault. @param a Victim host.
 * @param peers Partition: [B]; reset: the hosts whose connections with A are reset.
 * @param o Tunables.
 */
export async function inject(lab: Lab, kind: FaultKind, a: number, peers: number[] = [], o: FaultOptions = {}): Promise<ActiveFault> {
  const ipA = lab.ip(a);
  const t0 = Date.now();
  switch (kind) {
    case 'partition': {
      const b = peers[0];
      if (b === undefined) throw new Error('a partition needs a second host');
      const ta = await lab.nft(a, rules('drop', [lab.ip(b)]));
      const tb = await lab.nft(b, rules('drop', [ipA]));
      return active(kind, t0, a, [b], `nft drop ${ipA} <-> ${lab.ip(b)}`, async () => {
        await lab.dropNft(a, ta);
        await lab.dropNft(b, tb);
      });
    }
    case 'reset': {
      if (!peers.length) throw new Error('a reset needs the hosts to reset');
      const ips = peers.map((k) => lab.ip(k));
      // The resets the rule generates are TCP packets to the same hosts: let them out.
      const t = await lab.nft(a, rules('tcp flags & rst == 0 reject with tcp reset', ips));
      return active(kind, t0, a, peers, `nft reject with tcp reset ${ipA} <-> ${ips.join(',')}`, () => lab.dropNft(a, t));
    }
    case 'loss': {
      const pct = o.lossPct ?? 20;
      const t = await lab.nft(a, rules(`numgen random mod 100 < ${pct} drop`, null));
      return active(kind, t0, a, [], `nft numgen random mod 100 < ${pct} drop on ${ipA}`, () => lab.dropNft(a, t));
    }
    case 'throttle': {
      const rate = o.rate ?? '1mbit';
      await lab.exec(a, 'tc', 'qdisc', 'add', 'dev', 'eth0', 'root', 'tbf', 'rate', rate, 'burst', '32kbit', 'latency', '400ms');
      return active(kind, t0, a, [], `tc tbf rate ${rate} on ${ipA} eth0`, () => lab.exec(a, 'tc', 'qdisc', 'del', 'dev', 'eth0', 'root').then(() => undefined));
    }
    case 'hang': {
      const pids = await lab.signal(a, 'SIGSTOP');
      const f = active(kind, t0, a, [], `SIGSTOP ${ipA} pids ${pids.join(',')}`, async () => {
        const again = await lab.signal(a, 'SIGCONT');
        f.what += `; SIGCONT pids ${again.join(',')}`;
      });
      return f;
    }
    case 'crash': {
      const pids = await lab.kill(a);
      const f = active(kind, t0, a, [], `SIGKILL ${ipA} pids ${pids.join(',')}`, async () => {
        await lab.restart(a);
        f.what += `; restarted with its folder, pids ${(await lab.host(a).pids()).join(',')}`;
      });
      return f;
    }
    case 'linkdown': {
      await lab.ipIn(a, 'link', 'set', 'eth0', 'down');
      return active(kind, t0, a, [], `ip link set eth0 down on ${ipA}`, () => lab.ipIn(a, 'link', 'set', 'eth0', 'up').then(() => undefined));
    }
  }
}
