/**
 * @file netns.ts
 * @brief The kernel side of the lab: commands, namespace names, pids, left-overs, preconditions.
 *
 * Naming (how cleanup finds what a run made, and nothing else): every namespace is
 * `rtvlab-<owner pid>-<run tag>-<role>` (role: `sw` the bridge, `ctl` the probe, `srv` the
 * server, `h<k>` peer host k); chunk folders live in `<tmpdir>/rtvlab-<owner pid>-<run tag>/`;
 * nft tables are `rtvlab_<pid>_<tag>_f<n>` inside a host. Links (the bridge `br0`, the veths
 * `h<k>`/`srv`/`ctl` on the bridge side, `eth0` on the host side) exist only inside the run's
 * namespaces, never in the root namespace, so they are unique by construction and go with
 * their namespace. A run whose owner process is gone left left-overs: `removeLeftovers()` kills
 * the processes still inside its namespaces and deletes them and its folders.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readlinkSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Fixed prefix of everything the lab makes. */
export const LAB_PREFIX = 'rtvlab';
/** `rtvlab-<pid>-<tag>-<role>` (namespaces) and `rtvlab-<pid>-<tag>` (folders). */
const NAME_RE = /^rtvlab-(\d+)-([0-9a-z]+)(?:-|$)/;

/**
 * @brief Runs a command, resolves its stdout; rejects with the command and its stderr.
 * @param cmd Program. @param args Arguments. @param timeoutMs Bound (the child is killed past it).
 * @param input Written to its stdin.
 */
export function run(cmd: string, args: string[], timeoutMs = 15_000, input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}${input ? ` <<< ${input.trim().replace(/\n/g, '; ')}` : ''}: ${String(stderr).trim() || err.message}`));
      else resolve(String(stdout));
    });
    child.stdin?.on('error', () => undefined); // a command that exits without reading
    child.stdin?.end(input ?? '');
  });
}

/** @brief Several `ip` commands in one process (`ip [-n ns] -batch -`), one per line. */
export const ipBatch = (ns: string | null, lines: string[]): Promise<string> =>
  run('ip', [...(ns ? ['-n', ns] : []), '-batch', '-'], 15_000, `${lines.join('\n')}\n`);

/** @brief `ip <args>`. */
export const ip = (...args: string[]): Promise<string> => run('ip', args);

/** @brief Runs `cmd args` inside namespace `ns` (`ip netns exec`). */
export const inNs = (ns: string, cmd: string, ...args: string[]): Promise<string> => run('ip', ['netns', 'exec', ns, cmd, ...args]);

/** @brief Pids of every process in namespace `ns`, as `ip netns pids` lists them. */
export async function nsPids(ns: string): Promise<number[]> {
  const out = await ip('netns', 'pids', ns).catch(() => '');
  return out.split(/\s+/).filter(Boolean).map(Number);
}

/** @brief Names of the namespaces `ip netns list` shows. */
export async function listNs(): Promise<string[]> {
  const out = await ip('netns', 'list');
  return out.split('\n').map((l) => l.trim().split(/\s+/)[0]).filter(Boolean);
}

/**
 * @brief Pids of the processes in each of `names`, from one scan of /proc (what `ip netns pids`
 * does, for many namespaces at once: the benchmark samples 50 hosts every 2 s).
 */
export function pidsByNs(names: string[]): Map<string, number[]> {
  const byIno = new Map<number, string>();
  for (const n of names) {
    try { byIno.set(statSync(`/run/netns/${n}`).ino, n); } catch { /* gone */ }
  }
  const out = new Map<string, number[]>(names.map((n) => [n, []]));
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const ino = Number(/\[(\d+)\]/.exec(readlinkSync(`/proc/${d}/ns/net`))?.[1] ?? -1); // "net:[4026532...]"
      const ns = byIno.get(ino);
      if (ns) out.get(ns)!.push(Number(d));
    } catch { /* exited meanwhile */ }
  }
  return out;
}

/** @brief True when the lab-owning process `pid` still runs. */
function ownerAlive(pid: number): boolean {
  return pid === process.pid || existsSync(`/proc/${pid}`);
}

/**
 * @brief Kills every process in `names` (SIGKILL, by `ip netns pids`) and deletes the
 * namespaces, synchronously: for the exit handler, where nothing asynchronous runs.
 */
export function destroyNsSync(names: string[]): void {
  for (const n of names) {
    const pids = spawnSync('ip', ['netns', 'pids', n], { encoding: 'utf8' }).stdout?.split(/\s+/).filter(Boolean).map(Number) ?? [];
    for (const p of pids) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }
  }
  for (const n of names) spawnSync('ip', ['netns', 'del', n]);
}

/**
 * @brief Removes what crashed earlier runs left: namespaces named `rtvlab-<pid>-...` whose
 * owner pid is gone (their processes are killed first), and their chunk folders.
 * @return The names removed (for the test's log).
 */
export async function removeLeftovers(): Promise<string[]> {
  const gone: string[] = [];
  const stale = (name: string) => { const m = NAME_RE.exec(name); return m !== null && !ownerAlive(Number(m[1])); };
  const names = (await listNs()).filter(stale);
  for (const n of names) for (const p of await nsPids(n)) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }
  for (const n of names) { await ip('netns', 'del', n).catch(() => undefined); gone.push(n); }
  for (const d of readdirSync(os.tmpdir())) {
    if (stale(d)) { rmSync(path.join(os.tmpdir(), d), { recursive: true, force: true }); gone.push(path.join(os.tmpdir(), d)); }
  }
  return gone;
}

let unavailable: string | null | undefined;

/**
 * @brief Why the lab cannot run here, or null when it can. Checked once, synchronously (a
 * test's `skip` is decided when it is declared): Linux, root, iproute2 (ip, tc), nftables,
 * and that this kernel lets us make a namespace with an nft table and a tbf qdisc in it.
 */
export function labUnavailable(): string | null {
  if (unavailable !== undefined) return unavailable;
  unavailable = check();
  return unavailable;
}

function check(): string | null {
  if (process.platform !== 'linux') return `the lab needs Linux network namespaces (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'the lab needs root (network namespaces, nftables, tc): run the tests as root, e.g. `.ci/run` in a root container';
  const has = (cmd: string, arg: string) => spawnSync(cmd, [arg], { encoding: 'utf8' }).status === 0;
  if (!has('ip', '-V')) return 'iproute2 is missing (no `ip`): apt-get install -y iproute2 (`.ci/run` installs it)';
  if (!has('tc', '-V')) return 'tc is missing (iproute2): apt-get install -y iproute2 (`.ci/run` installs it)';
  if (!has('nft', '--version')) return 'nftables is missing (no `nft`): apt-get install -y nftables (`.ci/run` installs it)';
  const ns = `${LAB_PREFIX}-${process.pid}-check`;
  const step = (what: string, args: string[]): string | null => {
    const r = spawnSync(args[0], args.slice(1), { encoding: 'utf8' });
    return r.status === 0 ? null : `${what} failed (${args.join(' ')}: ${(r.stderr || r.error?.message || '').trim()})`;
  };
  try {
    return step('creating a network namespace', ['ip', 'netns', 'add', ns])
      ?? step('an nft table inside a namespace (nf_tables in this kernel?)', ['ip', 'netns', 'exec', ns, 'nft', 'add', 'table', 'inet', 'rtvlab_check'])
      ?? step('a tbf qdisc inside a namespace (sch_tbf in this kernel?)', ['ip', 'netns', 'exec', ns, 'tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'tbf', 'rate', '1mbit', 'burst', '32kbit', 'latency', '400ms']);
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
}
