/**
 * @file demo.ts
 * @brief The PM2 demo (ecosystem.config.js through bin/demo.js) under a private PM2 daemon.
 *
 * Each Demo gets its own PM2_HOME, chunk root and port base (RELAYTV_DEMO_PORT_BASE), so it never
 * touches a user's ~/.pm2 or a demo already running on the default ports. `cleanup()` always
 * leaves nothing behind: pm2 kill (its tree kill reaps the apps), then SIGKILL of any pid still
 * alive, then the folders.
 */
import { spawn, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ROOT, getJson } from './testnet';
import type { PeerStatus } from '../../src/peer/status';

/** @brief The project's own pm2 CLI (never a global one). */
export const PM2 = require.resolve('pm2/bin/pm2', { paths: [ROOT] });
/** @brief The last byte of every demo peer's IP (ecosystem.config.js). */
export const PEER_IPS = [11, 12, 13, 14, 15, 16];

/** @brief One app as `pm2 jlist` reports it. */
export interface Pm2App {
  name: string;
  pid: number;
  status: string;
  restarts: number;
}

/** @brief Resolves after `ms`. @param ms Milliseconds. */
export { sleep } from './wait';

/**
 * @brief True when something accepts TCP connections on host:port.
 * @param host Address. @param port Port.
 * @return Whether a connection (or a silent accept) happened within 1 s.
 */
export function listening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, timeout: 1000 });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('timeout', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/** @brief A demo under its own PM2 daemon (private PM2_HOME, chunk root and port base). */
export class Demo {
  /** @brief Ports as ecosystem.config.js derives them from the base. */
  readonly ports: { server: number; metrics: number; data: number; p2p: number; http: number };

  private constructor(readonly home: string, readonly dir: string, readonly base: number, readonly periodS: number) {
    this.ports = { server: base, metrics: base + 1, data: base + 2, p2p: base + 3, http: base + 4 };
  }

  /**
   * @brief Creates the folders and picks a port base no one listens on (nothing started yet).
   * @param periodS Chunk period of the demo server.
   * @return The demo, not started.
   */
  static async create(periodS = 2): Promise<Demo> {
    const home = await fs.mkdtemp(path.join(os.tmpdir(), 'relaytv-pm2-'));
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'relaytv-demo-'));
    for (;;) {
      const base = 50000 + Math.floor(Math.random() * 1500) * 10;
      const demo = new Demo(home, dir, base, periodS);
      if (!(await demo.anyListening())) return demo;
    }
  }

  /** @brief The environment bin/demo.js and pm2 run with. @return process.env plus the demo's overrides. */
  env(): NodeJS.ProcessEnv {
    return { ...process.env, PM2_HOME: this.home, RELAYTV_DEMO_DIR: this.dir, RELAYTV_DEMO_PORT_BASE: String(this.base),
      RELAYTV_DEMO_PERIOD: String(this.periodS), RELAYTV_DEMO_PLAYER: 'null', RELAYTV_LOG: 'info' };
  }

  /**
   * @brief Runs `node bin/demo.js <cmd>` and returns its output (rejects on a non-zero exit).
   * @param cmd start or stop.
   * @return Its stdout and stderr.
   */
  run(cmd: 'start' | 'stop'): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [path.join(ROOT, 'bin/demo.js'), cmd], { cwd: ROOT, env: this.env(), stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr.on('data', (b: Buffer) => (out += b.toString()));
      child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`demo ${cmd} exited ${code}:\n${out}`))));
    });
  }

  /** @brief Whether this demo's PM2 daemon runs (checked without starting one). @return True when alive. */
  async daemonAlive(): Promise<boolean> {
    const pid = Number(await fs.readFile(path.join(this.home, 'pm2.pid'), 'utf8').catch(() => '0'));
    if (!pid) return false;
    try { process.kill(pid, 0); return true; } catch { return false; }
  }

  /** @brief `pm2 jlist` of this daemon (starts one if none runs: check daemonAlive first). @return Its apps. */
  jlist(): Pm2App[] {
    const r = spawnSync(process.execPath, [PM2, 'jlist'], { env: this.env(), encoding: 'utf8', timeout: 20_000 });
    const out = r.stdout ?? '';
    try {
      const list = JSON.parse(out.slice(out.indexOf('['))) as { name: string; pid: number; pm2_env: { status: string; restart_time: number } }[];
      return list.map((p) => ({ name: p.name, pid: p.pid, status: p.pm2_env.status, restarts: p.pm2_env.restart_time }));
    } catch {
      return [];
    }
  }

  /** @brief GET /status of peer 127.0.0.n. @param n Last byte of its IP. @return Its status. */
  status(n: number): Promise<PeerStatus> {
    return getJson(`http://127.0.0.${n}:${this.ports.http}/status`) as Promise<PeerStatus>;
  }

  /** @brief Every host:port the demo listens on. @return [host, port] pairs. */
  endpoints(): [string, number][] {
    const out: [string, number][] = [['127.0.0.1', this.ports.server], ['127.0.0.1', this.ports.metrics]];
    for (const n of PEER_IPS) for (const p of [this.ports.data, this.ports.p2p, this.ports.http]) out.push([`127.0.0.${n}`, p]);
    return out;
  }

  /** @brief Whether any demo endpoint accepts connections. @return True when one does. */
  async anyListening(): Promise<boolean> {
    const r = await Promise.all(this.endpoints().map(([h, p]) => listening(h, p)));
    return r.some(Boolean);
  }

  /** @brief One app's PM2 logs. @param name App name. @return out log + error log text. */
  async logs(name: string): Promise<string> {
    const read = (f: string) => fs.readFile(path.join(this.home, 'logs', f), 'utf8').catch(() => '');
    return (await read(`${name}-out.log`)) + (await read(`${name}-error.log`));
  }

  /** @brief Kills the daemon and every app still alive, removes the folders. Safe to call twice. */
  async cleanup(): Promise<void> {
    if (!(await this.daemonAlive())) return this.removeFolders();
    const pids = this.jlist().map((a) => a.pid).filter((p) => p > 0);
    spawnSync(process.execPath, [PM2, 'kill'], { env: this.env(), stdio: 'ignore', timeout: 30_000 });
    for (const pid of pids) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    }
    await this.removeFolders();
  }

  /** @brief Removes PM2_HOME and the chunk root. */
  private async removeFolders(): Promise<void> {
    await fs.rm(this.home, { recursive: true, force: true });
    await fs.rm(this.dir, { recursive: true, force: true });
  }
}
