#!/usr/bin/env node
/**
 * @file demo.js
 * @brief `npm start` / `npm stop`: the embedded demo (ecosystem.config.js) under the project's own PM2.
 *
 * start: builds dist/ when it is missing, runs `pm2 start ecosystem.config.js` with the pm2 in
 *        node_modules (never a global one) and prints where to look.
 * stop:  deletes the peers first (so each one can send `12C` to a server still running), then
 *        the server, and kills the PM2 daemon when nothing else runs under it.
 * PM2_HOME is honoured (default ~/.pm2), so tests run the demo under a private daemon.
 */
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

/** Root of the package. */
const ROOT = path.resolve(__dirname, '..');
/** The demo's PM2 configuration. */
const CONFIG = path.join(ROOT, 'ecosystem.config.js');
/** The compiled CLI every app runs. */
const CLI = path.join(ROOT, 'dist/src/cli/main.js');

/**
 * @brief Runs the local pm2 CLI.
 * @param {string[]} args pm2 arguments.
 * @param {{ capture?: boolean }} [opts] capture: return stdout instead of inheriting it.
 * @return {{ status: number | null, stdout: string }} Exit status and captured output.
 */
function pm2(args, opts = {}) {
  const bin = require.resolve('pm2/bin/pm2', { paths: [ROOT] });
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: ROOT, encoding: 'utf8', stdio: opts.capture ? ['ignore', 'pipe', 'inherit'] : 'inherit',
    env: { ...process.env, PM2_CONCURRENT_ACTIONS: process.env.PM2_CONCURRENT_ACTIONS || '8' },
  });
  return { status: r.status, stdout: r.stdout || '' };
}

/** @brief PM2's home folder (where its daemon keeps pid, sockets and logs). @return {string} */
function pm2Home() {
  return process.env.PM2_HOME || path.join(os.homedir(), '.pm2');
}

/** @brief True when a PM2 daemon is running for pm2Home() (without starting one). @return {boolean} */
function daemonRunning() {
  try {
    const pid = Number(fs.readFileSync(path.join(pm2Home(), 'pm2.pid'), 'utf8'));
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** @brief Names of the apps the PM2 daemon runs. @return {string[]} */
function runningApps() {
  const out = pm2(['jlist'], { capture: true }).stdout;
  const start = out.indexOf('[');
  try {
    return JSON.parse(out.slice(start)).map((p) => p.name);
  } catch {
    return [];
  }
}

/** @brief Builds dist/ with the project's TypeScript when the CLI is not compiled yet. */
function buildIfNeeded() {
  if (fs.existsSync(CLI)) return;
  process.stdout.write('dist/ is missing: building with tsc -p . ...\n');
  const tsc = require.resolve('typescript/bin/tsc', { paths: [ROOT] });
  const r = spawnSync(process.execPath, [tsc, '-p', ROOT], { stdio: 'inherit' });
  if (r.status !== 0 || !fs.existsSync(CLI)) {
    process.stderr.write('relaytv demo: the build failed (see above)\n');
    process.exit(1);
  }
}

/** @brief `start`: launches the demo and prints where to look. */
function start() {
  buildIfNeeded();
  const { demo } = require(CONFIG);
  fs.mkdirSync(demo.demoDir, { recursive: true });
  const r = pm2(['start', CONFIG]);
  if (r.status !== 0) {
    process.stderr.write('relaytv demo: pm2 start failed\n');
    process.exit(r.status || 1);
  }
  const p = demo.ports;
  const pm2Cmd = 'npx --no-install pm2';
  process.stdout.write([
    '',
    'relaytv demo is running under PM2 (PM2_HOME ' + pm2Home() + '):',
    `  server   127.0.0.1:${p.server} (2 channels, 1 direct client each), metrics http://127.0.0.1:${p.metrics}/metrics`,
    ...demo.peers.map((x) => `  peer .${x.n}  channel ${x.channel}, slots ${x.slots}, status http://127.0.0.${x.n}:${p.http}/status, ` +
      `metrics http://127.0.0.${x.n}:${p.http}/metrics, chunks ${path.join(demo.demoDir, 'peer' + x.n)}`),
    `  player   --player ${demo.player}`,
    '',
    'Where to look:',
    `  ${pm2Cmd} ls                      processes, restarts, memory`,
    `  ${pm2Cmd} logs [relaytv-peer-11]  logs (JSON lines)`,
    '  npx relaytv dashboard                 the terminal dashboard of the whole overlay',
    `  npx relaytv status --peer 127.0.0.11:${p.http}   one peer's connections and waiting files`,
    '  prometheus --config.file=prometheus/prometheus.yml --storage.tsdb.path=/tmp/relaytv-prom',
    '                                        scrape everything (default ports; Grafana: grafana/relaytv-dashboard.json)',
    '  npm stop                              leave gracefully and stop the demo',
    '',
  ].join('\n'));
}

/** @brief `stop`: deletes the demo apps (peers first), then the daemon if it runs nothing else. */
function stop() {
  if (!daemonRunning()) {
    process.stdout.write('relaytv demo: no PM2 daemon is running; nothing to stop\n');
    return;
  }
  const { apps } = require(CONFIG);
  const running = new Set(runningApps());
  // One regex so PM2 stops the peers in parallel (a list of names is handled one by one).
  if (apps.some((a) => a.name.startsWith('relaytv-peer-') && running.has(a.name))) pm2(['delete', '/^relaytv-peer-\\d+$/']);
  if (running.has('relaytv-server')) pm2(['delete', 'relaytv-server']);
  const left = runningApps();
  if (left.length === 0) {
    pm2(['kill']);
    process.stdout.write('relaytv demo stopped; PM2 daemon stopped\n');
  } else {
    process.stdout.write(`relaytv demo stopped; PM2 keeps running for: ${left.join(', ')}\n`);
  }
}

const cmd = process.argv[2];
if (cmd === 'start') start();
else if (cmd === 'stop') stop();
else {
  process.stderr.write('usage: node bin/demo.js start|stop\n');
  process.exit(2);
}
