/**
 * @file common.ts
 * @brief Shared measurement machinery of the benchmarks: build check, /proc sampling, /status
 * polling, socket byte counting (ss), chunk-folder scans and the figures computed from them.
 *
 * Every figure is computed from what the processes expose (their /status, their chunk folders,
 * the kernel's per-process and per-socket counters), never from the overlay's own claims alone.
 */
import { execFileSync, execSync } from 'node:child_process';
import { promises as fs, readFileSync, statSync, readdirSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { jain, maxOverMean, percentile } from '../src/peer/fairness';
import type { PeerStatus } from '../src/peer/status';

export { jain, maxOverMean, percentile };

/** Repository root. */
export const ROOT = path.resolve(__dirname, '..');
/** Where results and plots go (git-ignored). */
export const OUT = path.join(ROOT, 'bench-results');

/** @brief Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** @brief Newest mtime of any file below `dir` matching `re`. */
function newest(dir: string, re: RegExp): number {
  let max = 0;
  if (!existsSync(dir)) return 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) max = Math.max(max, newest(p, re));
    else if (re.test(e.name)) max = Math.max(max, statSync(p).mtimeMs);
  }
  return max;
}

/** @brief Builds dist/ with `npx tsc -p .` when it is missing or older than src/ or workers/. */
export function ensureBuilt(): void {
  if (process.env.BENCH_NO_BUILD === '1' && existsSync(path.join(ROOT, 'dist/src/cli/main.js'))) return;
  const cli = path.join(ROOT, 'dist/src/cli/main.js');
  const srcNewest = Math.max(newest(path.join(ROOT, 'src'), /\.ts$/), newest(path.join(ROOT, 'workers'), /\.ts$/));
  const distOldest = existsSync(cli) ? Math.min(statSync(cli).mtimeMs, newest(path.join(ROOT, 'dist/src/peer'), /\.js$/) || 0) : 0;
  if (distOldest > 0 && distOldest >= srcNewest) return;
  console.log('[bench] dist/ missing or older than src/: npx tsc -p .');
  try {
    execSync('npx tsc -p .', { cwd: ROOT, stdio: 'inherit' });
  } catch {
    if (!existsSync(cli)) throw new Error('build failed and no dist/ to run');
    console.log('[bench] WARNING: tsc reported errors (other files being edited?); running the existing dist/');
  }
}

/** @brief Writes bench-results/<name>.json. */
export function writeResult(name: string, data: unknown): string {
  mkdirSync(OUT, { recursive: true });
  const p = path.join(OUT, `${name}.json`);
  writeFileSync(p, JSON.stringify(data, null, 2));
  return p;
}

/** @brief Rounds for tables. */
export function r(x: number | null | undefined, d = 2): number | null {
  if (x === null || x === undefined || !Number.isFinite(x)) return null;
  const f = 10 ** d;
  return Math.round(x * f) / f;
}

/** @brief Prints a two-column table of a flat figure object. */
export function printTable(title: string, rows: Record<string, unknown>): void {
  console.log(`\n=== ${title} ===`);
  const flat: Record<string, string> = {};
  for (const [k, v] of Object.entries(rows)) {
    if (v !== null && typeof v === 'object') continue;
    flat[k] = String(v);
  }
  console.table(flat);
}

// ---------------------------------------------------------------- /proc sampling

/** CPU ticks, RSS and PSS of one process over time. */
interface ProcTrack { first?: { t: number; ticks: number }; last?: { t: number; ticks: number }; rss: number[]; pss: number[] }

/**
 * Samples /proc/<pid>/stat (utime+stime), /proc/<pid>/status (VmRSS) and /proc/<pid>/smaps_rollup
 * (Pss: the process's own pages plus its share of pages mapped by several, such as the node
 * binary, which RSS counts in full in every process) of a set of processes.
 */
export class ProcSampler {
  readonly tracks = new Map<number, ProcTrack>();
  private timer: NodeJS.Timeout | null = null;
  private readonly hz = 100;

  /** @param pids Returns the pids to sample now. @param everyMs Period. */
  constructor(private readonly pids: () => number[], private readonly everyMs = 2000) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.everyMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.sample();
  }

  /** Takes one sample now. */
  sample(): void {
    const t = Date.now();
    for (const pid of this.pids()) {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const ticks = Number(f[11]) + Number(f[12]);
        const status = readFileSync(`/proc/${pid}/status`, 'utf8');
        const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
        const pssKb = Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? NaN);
        const tr = this.tracks.get(pid) ?? { rss: [], pss: [] };
        tr.first ??= { t, ticks };
        tr.last = { t, ticks };
        tr.rss.push(rssKb / 1024);
        tr.pss.push(pssKb / 1024);
        this.tracks.set(pid, tr);
      } catch { /* process gone */ }
    }
  }

  /** @brief CPU % of one core used by `pid` between its first and last sample. */
  cpuPct(pid: number): number {
    const tr = this.tracks.get(pid);
    if (!tr?.first || !tr.last || tr.last.t <= tr.first.t) return NaN;
    return ((tr.last.ticks - tr.first.ticks) / this.hz) / ((tr.last.t - tr.first.t) / 1000) * 100;
  }

  /** @brief Mean RSS of `pid` in MB. */
  rssMb(pid: number): number {
    const rs = this.tracks.get(pid)?.rss ?? [];
    return rs.length ? rs.reduce((a, b) => a + b, 0) / rs.length : NaN;
  }

  /** @brief Mean PSS of `pid` in MB. */
  pssMb(pid: number): number {
    const ps = (this.tracks.get(pid)?.pss ?? []).filter(Number.isFinite);
    return ps.length ? ps.reduce((a, b) => a + b, 0) / ps.length : NaN;
  }

  /** @brief Max RSS of `pid` in MB. */
  rssMaxMb(pid: number): number {
    return Math.max(...(this.tracks.get(pid)?.rss ?? [NaN]));
  }
}

/** @brief Machine-wide CPU busy % since `prev` (from /proc/stat), and the new snapshot. */
export function machineCpu(prev?: { busy: number; total: number }): { pct: number; snap: { busy: number; total: number } } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = line[3] + line[4];
  const total = line.reduce((a, b) => a + b, 0);
  const snap = { busy: total - idle, total };
  const pct = prev ? ((snap.busy - prev.busy) / Math.max(1, snap.total - prev.total)) * 100 : NaN;
  return { pct, snap };
}

/** @brief MemAvailable in MB. */
export function memAvailableMb(): number {
  return Number(/MemAvailable:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0) / 1024;
}

// ---------------------------------------------------------------- socket bytes (ss)

/** How the upload of a run was counted (said in the results). */
export const SOCKET_RULE = 'ss -tinp bytes_acked per TCP socket of the peers\' pids (largest value seen per socket, '
  + 'sampled periodically; /status HTTP sockets excluded), all payload bytes: chunks, control, framing';

/**
 * Counts TCP payload bytes each process sent, from the kernel (`ss -tinp`, bytes_acked per
 * socket, the largest value seen per socket, summed per pid). Same measure for relaytv and
 * gossipsub; it includes control traffic and framing. Sockets closed between two samples lose
 * at most one sampling period of bytes. A socket is keyed by its two addresses (not by its
 * queue columns, which change from one sample to the next).
 */
export class SocketBytes {
  private readonly perSocket = new Map<string, { pid: number; acked: number }>();
  private timer: NodeJS.Timeout | null = null;
  /** False once `ss` failed (not installed, not allowed): callers fall back and say so. */
  available = true;

  /**
   * @param pids Pids of interest.
   * @param everyMs Period.
   * @param skipLocalPorts Local ports whose sockets are not the peers' traffic (their /status
   *   endpoint, which the benchmark itself reads).
   */
  constructor(private readonly pids: () => Set<number>, private readonly everyMs = 1000,
    private readonly skipLocalPorts: ReadonlySet<number> = new Set()) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.everyMs);
  }

  /** @brief Stops sampling after one last sample (nothing when it was not running). */
  stop(): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = null;
    this.sample();
  }

  /** @brief Takes one sample of every TCP socket now. */
  sample(): void {
    let out = '';
    try {
      out = execFileSync('ss', ['-tinpH'], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    } catch { this.available = false; return; }
    const want = this.pids();
    const lines = out.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const head = lines[i];
      if (!head || /^\s/.test(head)) continue;
      const info = lines[i + 1] && /^\s/.test(lines[i + 1]) ? lines[i + 1] : '';
      const pid = Number(/pid=(\d+)/.exec(head)?.[1] ?? -1);
      if (!want.has(pid)) continue;
      const cols = head.trim().split(/\s+/);
      const local = cols[3] ?? '';
      if (this.skipLocalPorts.has(Number(local.slice(local.lastIndexOf(':') + 1)))) continue;
      const key = `${local} ${cols[4]}`;
      const acked = Number(/bytes_acked:(\d+)/.exec(info)?.[1] ?? 0);
      const prev = this.perSocket.get(key);
      if (!prev || acked > prev.acked) this.perSocket.set(key, { pid, acked });
    }
  }

  /** @brief Bytes sent per pid. */
  byPid(): Map<number, number> {
    const m = new Map<number, number>();
    for (const { pid, acked } of this.perSocket.values()) m.set(pid, (m.get(pid) ?? 0) + acked);
    return m;
  }

  /** @brief Samples now and returns the counter of every socket (a window's start mark). */
  mark(): Map<string, number> {
    this.sample();
    return new Map([...this.perSocket].map(([k, v]) => [k, v.acked]));
  }

  /** @brief Bytes sent since `mark` (as of the last sample), summed over every socket. */
  sentSince(mark: Map<string, number>): number {
    let sum = 0;
    for (const [k, v] of this.perSocket) sum += Math.max(0, v.acked - (mark.get(k) ?? 0));
    return sum;
  }
}

/**
 * @brief Bytes a process handed to write syscalls of any kind (sockets, files, pipes:
 * /proc/<pid>/io `wchar`), 0 once it is gone: the fallback upload counter when `ss` is missing.
 */
export function procWchar(pid: number): number {
  try {
    return Number(/wchar:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? 0);
  } catch { return 0; }
}

/**
 * @brief Chunk bytes the receivers stored between `fromMs` and `toMs` (file mtimes): every file
 * but the origin's own copy of its sequence (the source's, or the publisher's), whose bytes came
 * from the server, not from the overlay.
 * @param folders Receiver -> its folder scan. @param originOf seq -> the receiver holding the origin copy.
 */
export function deliveredBetween(folders: Map<number, Map<number, FileInfo>>, originOf: (seq: number) => number | undefined,
  fromMs: number, toMs: number): number {
  let sum = 0;
  for (const [k, files] of folders) {
    for (const [seq, f] of files) if (originOf(seq) !== k && f.mtimeMs >= fromMs && f.mtimeMs <= toMs) sum += f.size;
  }
  return sum;
}


/**
 * @brief Runs `fn` over `items` with at most `limit` in flight (reading /status of hundreds of
 * peers at once would load the very event loops being measured).
 */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let i = 0;
  const worker = async (): Promise<void> => {
    while (i < items.length) {
      const j = i++;
      out[j] = await fn(items[j]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

// ---------------------------------------------------------------- chunk folders

/** One chunk file. */
export interface FileInfo { mtimeMs: number; size: number }

/** @brief seq -> mtime/size of every `<8 digits>.mkv` in `dir`. */
export async function scanFolder(dir: string): Promise<Map<number, FileInfo>> {
  const out = new Map<number, FileInfo>();
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  await Promise.all(names.filter((n) => /^\d{8}\.mkv$/.test(n)).map(async (n) => {
    const st = await fs.stat(path.join(dir, n)).catch(() => null);
    if (st) out.set(Number(n.slice(0, 8)), { mtimeMs: st.mtimeMs, size: st.size });
  }));
  return out;
}

// ---------------------------------------------------------------- /status polling

/** A /status sample. */
export interface StatusSample { t: number; k: number; s: PeerStatus }

/** Polls /status of live peers; keeps the history and the recoveries they report. */
export class StatusPoller {
  readonly history: StatusSample[] = [];
  readonly last = new Map<number, StatusSample>();
  /** Recoveries seen: when, who, the peer's lastReattachMs, how many new ones. */
  readonly reattaches: { t: number; k: number; ms: number; n: number }[] = [];
  errors = 0;
  private timer: NodeJS.Timeout | null = null;
  private busy = false;

  /**
   * @param fetch GET /status of peer k (over loopback, or through the lab's probe).
   * @param alive Peers to poll now.
   * @param everyMs Period.
   * @param keepHistory Keep every sample (needed for topology over time).
   */
  constructor(private readonly fetch: (k: number) => Promise<PeerStatus>, private readonly alive: () => number[],
    private readonly everyMs = 1000, private readonly keepHistory = true) {}

  start(): void {
    void this.poll();
    this.timer = setInterval(() => void this.poll(), this.everyMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** @brief Polls every live peer once (at most 16 requests at a time). */
  async poll(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    const ks = this.alive();
    let i = 0;
    const worker = async () => {
      while (i < ks.length) {
        const k = ks[i++];
        try {
          const s = await this.fetch(k);
          const sample = { t: Date.now(), k, s };
          const prev = this.last.get(k);
          if (s.reattaches > (prev?.s.reattaches ?? 0) && s.lastReattachMs !== null) {
            this.reattaches.push({ t: sample.t, k, ms: s.lastReattachMs, n: s.reattaches - (prev?.s.reattaches ?? 0) });
          }
          this.last.set(k, sample);
          if (this.keepHistory) this.history.push(sample);
        } catch {
          this.errors++;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(16, ks.length) }, worker));
    this.busy = false;
  }
}

/** @brief Parent id per stripe of a status (excludes the server entry). */
export function parentsOf(s: PeerStatus): Map<number, string> {
  const m = new Map<number, string>();
  for (const l of s.upstream) for (const st of l.stripes) m.set(st, l.addr.split(':')[0]);
  return m;
}

// ---------------------------------------------------------------- server log

/** One push round of the server (debug log 'round'). */
export interface Round { pushStartMs: number; endMs: number; index: number; clients: number }

/** @brief Push rounds from the server's JSON log lines. */
export function parseRounds(lines: string[]): Round[] {
  const out: Round[] = [];
  for (const l of lines) {
    if (!l.includes('"round"')) continue;
    try {
      const j = JSON.parse(l) as { msg: string; time: number; seconds: number; index: number; clients: number };
      if (j.msg !== 'round') continue;
      out.push({ pushStartMs: j.time - j.seconds * 1000, endMs: j.time, index: j.index, clients: j.clients });
    } catch { /* not JSON */ }
  }
  return out;
}

/** @brief Sizes of the content chunks (index -> bytes), to match a seq with a server round. */
export function contentSizes(dir = path.join(ROOT, 'assets/sample')): number[] {
  return readdirSync(dir).filter((f) => /_\d+\.mkv$/.test(f)).sort().map((f) => statSync(path.join(dir, f)).size);
}

/** @brief Warn/error messages of a set of logs, counted (evidence for the report). */
export function warnings(logs: string[][]): Record<string, number> {
  const count: Record<string, number> = {};
  for (const log of logs) {
    for (const l of log) {
      if (!l.startsWith('{')) continue;
      try {
        const j = JSON.parse(l) as { level: number; msg: string; code?: string };
        if (j.level >= 40) {
          const key = `${j.level >= 50 ? 'ERROR' : 'WARN'} ${j.msg}${j.code ? ` [${j.code}]` : ''}`;
          count[key] = (count[key] ?? 0) + 1;
        }
      } catch { /* plain line */ }
    }
  }
  return count;
}
