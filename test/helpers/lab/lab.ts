/**
 * @file lab.ts
 * @brief A lab of real hosts: each peer in its own network namespace, on a private bridge.
 *
 * How it is wired (all names `rtvlab-<pid>-<tag>-*`, see netns.ts):
 * ```
 *   [sw]  br0 ── srv ─── eth0 [srv]  10.213.X.2    our server (6060; pushes to IP:9091)
 *          ├──── ctl ─── eth0 [ctl]  10.213.X.3    the probe: reads /status for the test
 *          ├──── h1  ─── eth0 [h1]   10.213.X.11   peer 1 (9091, 9092, 9093 as on a machine)
 *          └──── hK  ─── eth0 [hK]   10.213.X.(10+K)
 * ```
 * The bridge lives in a namespace of its own with no uplink and no route, the hosts have only
 * their /24 and no default route, and nothing is added to the root namespace: traffic never
 * leaves the lab. Processes run inside a host with `ip netns exec`; a host is signalled,
 * killed and stopped through every pid `ip netns pids` lists (a peer may be several processes).
 * The test process lives in the root namespace and cannot reach the lab, so a probe process
 * inside the `ctl` host does its HTTP GETs over stdio (probe.ts): one process for every read,
 * bounded by a timeout, seeing the hosts as any machine on their LAN would.
 *
 * Cleanup: `stop()` kills every process in every namespace of the run, deletes the namespaces
 * (their links go with them) and the folders; an exit hook does the same synchronously when the
 * test process ends without `stop()`; `start()` first removes the left-overs of crashed runs.
 */
import { spawn, ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promises as fs, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import type { PeerStatus } from '../../../src/peer/status';
import { CLI, ROOT } from '../testnet';
import { waitFor, within } from '../wait';
import { listSeqs } from '../../../src/content/folder';
import { LAB_PREFIX, ip, ipBatch, nsPids, pidsByNs, labUnavailable, removeLeftovers, destroyNsSync } from './netns';
import { atExit } from '../reaper';

/** The standard ports, the same on every host (README: several machines). */
export const PORTS = { control: 6060, data: 9091, p2p: 9092, http: 9093 } as const;

/** Options of a lab. */
export interface LabOptions {
  /** Seconds per chunk of our server (short in tests). */
  periodS?: number;
  /** Direct clients per channel (1 as the course's server). */
  maxClients?: number;
  /** Channels of our server. */
  channels?: number;
  /** Content folder (default: the embedded sample). */
  content?: string;
  /** RELAYTV_LOG of every process. */
  logLevel?: string;
  /** Start our server on the `srv` host (false: the test runs its own command there). */
  server?: boolean;
}

/** A process the lab started inside a host. */
export interface LabProc {
  child: ChildProcess;
  argv: string[];
  exited: Promise<number | null>;
}

/** Something the lab did to a host, with the pids it touched (for the test's log). */
export interface LabEvent { t: number; host: string; what: string; pids: number[] }

/** One host of the lab: a namespace with one address, its processes and their log. */
export class Host {
  /** Every line its processes wrote (stdout and stderr), every run. */
  readonly log: string[] = [];
  /** The processes started in it, oldest first. */
  readonly procs: LabProc[] = [];
  /** The peer command last started here (for `restart`). */
  peerArgv: string[] | null = null;

  /**
   * @param name Role (`srv`, `ctl`, `h<k>`). @param ns Namespace name. @param ip Its address.
   * @param dir Its chunk folder (peers).
   */
  constructor(readonly name: string, readonly ns: string, readonly ip: string, readonly dir: string) {}

  /** @brief Pids of every process in the host, as `ip netns pids` lists them. */
  pids(): Promise<number[]> {
    return nsPids(this.ns);
  }
}

const live = new Set<Lab>();
let hooked = false;

/** @brief Synchronous cleanup of every lab still up (process exit, signals). */
function cleanupAll(): void {
  for (const lab of live) lab.destroySync();
  live.clear();
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  atExit(cleanupAll);
}

/** A running lab. */
export class Lab {
  /** Run id `<pid>-<tag>`: in every name this run makes. */
  readonly run: string;
  /** First three octets of the run's /24 (10.213.X). */
  readonly subnet: string;
  /** The run's folder (chunk folders, nft scripts). */
  readonly tmp: string;
  /** The bridge's namespace. */
  readonly sw: string;
  /** The server host. */
  readonly server: Host;
  /** The probe's host. */
  readonly ctl: Host;
  /** Peer hosts by number. */
  readonly peers = new Map<number, Host>();
  /** What was done to which host, with pids. */
  readonly events: LabEvent[] = [];
  /** Removed at start: left-overs of crashed earlier runs. */
  leftovers: string[] = [];
  private probe: ChildProcess | null = null;
  private readonly pending = new Map<number, { resolve: (x: { status: number; body: string }) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private nextId = 1;
  private nftN = 0;
  private stopped = false;
  private readonly made: string[] = [];
  private pidScan = { t: 0, byHost: new Map<number, number[]>() };

  private constructor(readonly opts: LabOptions) {
    const tag = randomBytes(2).toString('hex');
    this.run = `${process.pid}-${tag}`;
    this.subnet = `10.213.${1 + (parseInt(tag, 16) % 254)}`;
    this.tmp = path.join(os.tmpdir(), `${LAB_PREFIX}-${this.run}`);
    this.sw = this.nsName('sw');
    this.server = new Host('srv', this.nsName('srv'), `${this.subnet}.2`, path.join(this.tmp, 'srv'));
    this.ctl = new Host('ctl', this.nsName('ctl'), `${this.subnet}.3`, path.join(this.tmp, 'ctl'));
  }

  /**
   * @brief Makes the lab: removes left-overs, the bridge, the probe host, the server host
   * (with our server unless `server: false`). Throws with the reason when the lab cannot run.
   */
  static async start(opts: LabOptions = {}): Promise<Lab> {
    const why = labUnavailable();
    if (why) throw new Error(`the lab cannot run: ${why}`);
    const lab = new Lab(opts);
    live.add(lab);
    hookExit();
    try {
      lab.leftovers = await removeLeftovers();
      await fs.mkdir(lab.tmp, { recursive: true });
      await ip('netns', 'add', lab.sw);
      lab.made.push(lab.sw);
      await ipBatch(lab.sw, ['link add br0 type bridge', 'link set br0 up', 'link set lo up']);
      await lab.plug(lab.server);
      await lab.plug(lab.ctl);
      await lab.startProbe();
      if (opts.server !== false) await lab.startServer();
      return lab;
    } catch (err) {
      await lab.stop();
      throw err;
    }
  }

  /** @brief Namespace name of a role in this run. */
  nsName(role: string): string {
    return `${LAB_PREFIX}-${this.run}-${role}`;
  }

  /** @brief IP of peer host k (1..240). */
  ip(k: number): string {
    return `${this.subnet}.${10 + k}`;
  }

  /** @brief Chunk folder of peer host k (kept across restarts). */
  dir(k: number): string {
    return path.join(this.tmp, `h${k}`);
  }

  /** @brief Peer host k (it must exist). */
  host(k: number): Host {
    const h = this.peers.get(k);
    if (!h) throw new Error(`no lab host ${k}`);
    return h;
  }

  /** @brief Creates peer host k (namespace, link, address) unless it exists. */
  async addHost(k: number): Promise<Host> {
    if (k < 1 || k > 240) throw new Error(`lab host number ${k} outside 1..240`);
    const have = this.peers.get(k);
    if (have) return have;
    const h = new Host(`h${k}`, this.nsName(`h${k}`), this.ip(k), this.dir(k));
    this.peers.set(k, h);
    await this.plug(h);
    return h;
  }

  /** @brief The command line of our server on the `srv` host. */
  serverArgv(): string[] {
    const o = this.opts;
    const args = [process.execPath, CLI, 'server', '--host', this.server.ip, '--port', String(PORTS.control), '--data-port', String(PORTS.data),
      '--channels', String(o.channels ?? 1), '--max-clients', String(o.maxClients ?? 1), '--period', String(o.periodS ?? 0.5)];
    if (o.content) args.push('--content', o.content);
    return args;
  }

  /** @brief Starts our server on the `srv` host and waits until it listens. */
  async startServer(): Promise<void> {
    const mark = this.server.log.length;
    this.spawnIn(this.server, this.serverArgv());
    await waitFor(() => this.server.log.slice(mark).some((l) => l.includes('server listening')), 15_000, 'the lab server to listen');
  }

  /**
   * @brief Starts a peer on host k (made if missing) with the standard ports and waits until it
   * reports it started.
   * @param k Host number. @param slots Its slots. @param extra More flags.
   */
  async addPeer(k: number, slots = 2, extra: string[] = []): Promise<Host> {
    const h = await this.addHost(k);
    h.peerArgv = [process.execPath, CLI, 'peer', '--ip', h.ip, '--server', `${this.server.ip}:${PORTS.control}`, '--channel', '0',
      '--slots', String(slots), '--dir', h.dir, '--no-tui', ...extra];
    await this.launchPeer(h);
    return h;
  }

  /** @brief Kills host k (every pid, SIGKILL) and starts its peer again with the same folder. */
  async restart(k: number): Promise<void> {
    const h = this.host(k);
    if (!h.peerArgv) throw new Error(`host ${k} never ran a peer`);
    await this.kill(k);
    await this.launchPeer(h);
  }

  /**
   * @brief Runs `argv` inside a host with the lab's environment; its output goes to the host's log.
   * @param h Host. @param argv Program and arguments. @param env More environment.
   */
  spawnIn(h: Host, argv: string[], env: Record<string, string> = {}): LabProc {
    const child = spawn('ip', ['netns', 'exec', h.ns, ...argv], {
      cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, RELAYTV_LOG: this.opts.logLevel ?? 'info', ...env },
    });
    const keep = (b: Buffer) => {
      for (const line of b.toString().split('\n')) if (line) h.log.push(line);
      if (h.log.length > 20_000) h.log.splice(0, h.log.length - 20_000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const p = { child, argv, exited };
    h.procs.push(p);
    return p;
  }

  /**
   * @brief Sends `sig` to every process of host k (SIGKILL crash, SIGSTOP hang, SIGCONT).
   * @return The pids signalled (recorded in `events`).
   */
  async signal(k: number, sig: NodeJS.Signals): Promise<number[]> {
    const h = this.host(k);
    const pids = await h.pids();
    for (const p of pids) { try { process.kill(p, sig); } catch { /* exited meanwhile */ } }
    this.events.push({ t: Date.now(), host: h.name, what: sig, pids });
    return pids;
  }

  /** @brief SIGKILLs every process of host k and waits until none is left (bounded). */
  async kill(k: number): Promise<number[]> {
    const h = this.host(k);
    const pids = await this.signal(k, 'SIGKILL');
    await waitFor(async () => (await h.pids()).length === 0, 5_000, `host ${h.name} to have no process left`);
    await Promise.all(h.procs.map((p) => p.exited));
    return pids;
  }

  /**
   * @brief Runs a command inside host k (or a named host) to completion: nft, tc, ip.
   * @param host Host number or Host. @param argv Program and arguments.
   */
  exec(host: number | Host, ...argv: string[]): Promise<string> {
    const h = typeof host === 'number' ? this.host(host) : host;
    return ip('netns', 'exec', h.ns, ...argv);
  }

  /**
   * @brief Loads an nft table into host k: `table inet <name> { body }`; removed by `dropNft`.
   * @param k Host number. @param body Chains and rules. @return The table's name.
   */
  async nft(k: number, body: string): Promise<string> {
    const name = `${LAB_PREFIX}_${this.run.replace('-', '_')}_f${++this.nftN}`;
    const file = path.join(this.tmp, `${name}.nft`);
    await fs.writeFile(file, `table inet ${name} {\n${body}\n}\n`);
    await this.exec(k, 'nft', '-f', file);
    return name;
  }

  /** @brief Deletes an nft table `nft` made in host k. */
  async dropNft(k: number, name: string): Promise<void> {
    await this.exec(k, 'nft', 'delete', 'table', 'inet', name);
  }

  /** @brief `ip -n <host> <args>`, e.g. link set eth0 down. */
  ipIn(k: number, ...args: string[]): Promise<string> {
    return ip('-n', this.host(k).ns, ...args);
  }

  /**
   * @brief GET http://<ip>:<port><path> from inside the lab (the probe).
   * @return Status and body; rejects on a network error or after `timeoutMs`.
   */
  get(hostIp: string, port: number, urlPath: string, timeoutMs = 3000): Promise<{ status: number; body: string }> {
    const probe = this.probe;
    if (!probe || probe.exitCode !== null) return Promise.reject(new Error('the lab probe is not running'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.pending.delete(id); reject(new Error(`probe: no answer for ${hostIp}:${port}${urlPath}`)); }, timeoutMs + 2000);
      this.pending.set(id, { resolve, reject, timer });
      probe.stdin!.write(`${JSON.stringify({ id, url: `http://${hostIp}:${port}${urlPath}`, timeoutMs })}\n`);
    });
  }

  /** @brief GET /status of peer host k. */
  async status(k: number): Promise<PeerStatus> {
    const r = await this.get(this.ip(k), PORTS.http, '/status');
    if (r.status !== 200) throw new Error(`status of ${this.ip(k)}: HTTP ${r.status}`);
    return JSON.parse(r.body) as PeerStatus;
  }

  /** @brief Sequence numbers of the chunk files in host k's folder, ascending. */
  seqs(k: number): Promise<number[]> {
    return listSeqs(this.dir(k));
  }

  /** @brief Pids of every peer host's processes, from one /proc scan (benchmark sampling). */
  pidsByHost(): Map<number, number[]> {
    const ks = [...this.peers.keys()];
    const byNs = pidsByNs(ks.map((k) => this.host(k).ns));
    return new Map(ks.map((k) => [k, byNs.get(this.host(k).ns) ?? []]));
  }

  /** @brief Pids of host k's processes, from a /proc scan at most 1 s old (sampling 50 hosts). */
  pidsOf(k: number): number[] {
    if (Date.now() - this.pidScan.t > 1000) this.pidScan = { t: Date.now(), byHost: this.pidsByHost() };
    return this.pidScan.byHost.get(k) ?? [];
  }

  /** @brief Removes everything the run made: processes, namespaces (and links), folders. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.probe?.stdin?.end();
    const all = [...this.made].reverse();
    for (const ns of all) for (const p of await nsPids(ns)) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }
    const procs = [this.server, this.ctl, ...this.peers.values()].flatMap((h) => h.procs);
    await within(Promise.all(procs.map((p) => p.exited)), 5000, null);
    for (const ns of all) await ip('netns', 'del', ns).catch(() => undefined);
    await fs.rm(this.tmp, { recursive: true, force: true });
    for (const p of this.pending.values()) { clearTimeout(p.timer); p.reject(new Error('lab stopped')); }
    this.pending.clear();
    live.delete(this);
  }

  /** @brief `stop()` for the exit hook: synchronous, best effort. */
  destroySync(): void {
    if (this.stopped) return;
    this.stopped = true;
    destroyNsSync([...this.made].reverse());
    rmSync(this.tmp, { recursive: true, force: true });
  }

  /** Creates a host's namespace and plugs it into the bridge with its address. */
  private async plug(h: Host): Promise<void> {
    await ip('netns', 'add', h.ns);
    this.made.push(h.ns);
    await ipBatch(this.sw, [`link add ${h.name} type veth peer name eth0 netns ${h.ns}`, `link set ${h.name} master br0 up`]);
    await ipBatch(h.ns, [`addr add ${h.ip}/24 dev eth0`, 'link set eth0 up', 'link set lo up']);
  }

  private async launchPeer(h: Host): Promise<void> {
    const mark = h.log.length;
    const p = this.spawnIn(h, h.peerArgv!);
    this.events.push({ t: Date.now(), host: h.name, what: 'start peer', pids: p.child.pid ? [p.child.pid] : [] });
    await waitFor(() => h.log.slice(mark).some((l) => l.includes('peer started')) || p.child.exitCode !== null, 15_000, `peer on ${h.name} to start`);
    if (p.child.exitCode !== null) throw new Error(`peer on ${h.name} exited with ${p.child.exitCode}: ${h.log.slice(mark).join('\n').slice(-1500)}`);
  }

  private async startProbe(): Promise<void> {
    const probe = spawn('ip', ['netns', 'exec', this.ctl.ns, process.execPath, '--import', 'tsx', path.join(__dirname, 'probe.ts')], {
      cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.probe = probe;
    probe.stderr!.on('data', (b: Buffer) => this.ctl.log.push(b.toString()));
    let ready: () => void = () => undefined;
    const isReady = new Promise<void>((r) => { ready = r; });
    readline.createInterface({ input: probe.stdout! }).on('line', (line) => {
      let m: { id: number; ready?: boolean; status?: number; body?: string; error?: string };
      try { m = JSON.parse(line); } catch { return; }
      if (m.ready) return ready();
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      clearTimeout(p.timer);
      if (m.error !== undefined) p.reject(new Error(m.error));
      else p.resolve({ status: m.status ?? 0, body: m.body ?? '' });
    });
    probe.once('exit', (code) => {
      for (const p of this.pending.values()) { clearTimeout(p.timer); p.reject(new Error(`the lab probe exited (${code})`)); }
      this.pending.clear();
    });
    const exited = new Promise<number | null>((r) => probe.once('exit', (c) => r(c)));
    this.ctl.procs.push({ child: probe, argv: ['probe'], exited });
    const started = await within(Promise.race([isReady.then(() => true),
      exited.then((c) => { throw new Error(`the lab probe exited (${c}): ${this.ctl.log.join('')}`); })]), 15_000, false);
    if (!started) throw new Error('the lab probe did not start in 15 s');
  }
}
